"""Durations as people write them: ``8h``, ``90m``, ``1h30m``, ``5400s``, ``3d``, ``2w``."""

from __future__ import annotations

import re

from deskctl.errors import BadInput

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")


def parse_duration(text: str, *, what: str = "duration", bare_unit: str | None = None) -> int:
    """Return whole seconds. A bare number is refused unless ``bare_unit`` names its unit."""
    raw = str(text).strip().lower().replace(" ", "")
    if not raw:
        raise BadInput(f"{what}: empty duration")
    if bare_unit and re.fullmatch(r"-?\d+", raw):
        return int(raw) * _UNITS[bare_unit]
    sign = -1 if raw.startswith("-") else 1
    body = raw.lstrip("+-")
    pos = 0
    total = 0.0
    seen: set[str] = set()
    for match in _PART.finditer(body):
        if match.start() != pos or match.group(2) in seen:
            break
        seen.add(match.group(2))
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(body) or not seen:
        raise BadInput(f"{what}: not a duration like 8h, 90m, 1h30m or 5400s: {text!r}")
    if total != int(total):
        raise BadInput(f"{what}: {text!r} is not a whole number of seconds")
    return sign * int(total)


def format_duration(seconds: int, *, days: bool = False) -> str:
    """Compact human form: ``1h30m``, ``72h``, ``45s``; ``0s`` for zero.

    Days only when asked (``days=True``, for wall-clock spans such as a reopen
    window): SLA targets are business hours, and "3d" would read as three
    business days, which 72 business hours is not.
    """
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    rest = abs(seconds)
    parts = []
    units = (("d", 86400),) if days else ()
    for unit, size in (*units, ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)


def short_span(seconds: int, *, countdown: bool = False) -> str:
    """A wall-clock span for a list column: the two largest units, ``now`` under a minute.

    ``155d``, ``7d22h``, ``3h05m``... a queue reader wants the order of magnitude,
    not ``155d2h50m``. A ``countdown`` (time left to a deadline) is signed and always
    shows both units (``2h00m``, ``1d03h``, ``-5m``), so a column of deadlines lines up.
    """
    rest = abs(seconds)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if countdown:
        sign = "-" if seconds < 0 else ""
        if days:
            return f"{sign}{days}d{hours:02d}h"
        return f"{sign}{hours}h{minutes:02d}m" if hours else f"{sign}{minutes}m"
    if days >= 10:
        return f"{days}d"
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else "now"
