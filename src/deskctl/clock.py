"""The one clock of the program. Nothing else calls ``datetime.now()``.

``DESKCTL_NOW`` (an ISO-8601 instant with offset) replaces the system clock for
every command: tests, demos and replays.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, tzinfo

from deskctl.errors import BadInput

# Instants deskctl accepts (docs/robustness.md): anything else is a typo, and far edges
# would overflow date arithmetic with an offset.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

_SANE_YEARS = (EARLIEST.year - 1, LATEST.year)


def now() -> datetime:
    fixed = os.environ.get("DESKCTL_NOW")
    if fixed:
        return parse_instant(fixed, what="DESKCTL_NOW")
    return datetime.now(UTC)


def system_now() -> datetime:
    """The machine's clock even under ``DESKCTL_NOW``: the latest an event can happen.

    A replay pins ``DESKCTL_NOW`` and records events after it (``--at``); an event
    later than both this and ``now()`` is in the future either way.
    """
    return datetime.now(UTC)


def today() -> date:
    return now().date()


def parse_instant(text: str, *, what: str = "instant") -> datetime:
    """Parse an ISO-8601 instant; an offset is required so nothing is guessed.

    A bare date (``2026-03-05``) means midnight UTC of that day.
    """
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"{what}: not an ISO-8601 instant: {text!r}") from None
    if value.tzinfo is None:
        if len(raw) != 10:
            raise BadInput(f"{what}: {text!r} has no UTC offset (add Z or +HH:MM)")
        value = value.replace(tzinfo=UTC)
    # Years 1 and 9999 with an offset overflow when moved to UTC: judge the range on
    # the naive wall time first, then convert.
    if not _SANE_YEARS[0] <= value.year <= _SANE_YEARS[1]:
        raise BadInput(f"{what}: {text!r} is outside {EARLIEST.year}-{LATEST.year - 1}")
    return instant_in_range(value.astimezone(UTC), what)


def parse_date(text: str, *, what: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"{what}: not a date (YYYY-MM-DD): {text!r}") from None


def iso_z(value: datetime | None) -> str | None:
    """Render an instant as ISO-8601 UTC with ``Z``, in whole seconds (the JSON contract)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def in_zone(value: datetime, zone: str | tzinfo) -> datetime:
    """The instant on the wall clock of ``zone`` (an IANA name or a tzinfo)."""
    if isinstance(zone, str):
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(zone)
    return value.astimezone(zone)


def local_text(value: datetime, zone: str | tzinfo | None = None) -> str:
    """An instant as a person reads it on the wall clock of ``zone`` (of its own offset
    when None), the offset spelled out: ``Fri 2026-03-06 16:30 -0300``."""
    local = value if zone is None else in_zone(value, zone)
    return local.strftime("%a %Y-%m-%d %H:%M %z")


def instant_in_range(value: datetime, what: str) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise BadInput(
            f"{what}: {value.isoformat()} is outside {EARLIEST.year}-{LATEST.year - 1}"
        )
    return value
