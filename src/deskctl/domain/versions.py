"""Product versions: parse the numbers of a version string, and tell whether a version is
current (docs/rules.md §8: only major.minor counts)."""

from __future__ import annotations

import re

from deskctl.errors import BadInput

# "6", "6.2", "6.2.1", "v6.2", "6.2-rc1", "6.2rc1", "6.2 beta", "6.2.1+build.7"
_VERSION = re.compile(
    r"[vV]?(?P<numbers>\d+(?:\.\d+)*)"
    r"(?:[-~_ ]?[A-Za-z][0-9A-Za-z.~_-]*)?"  # pre-release tag
    r"(?:\+[0-9A-Za-z.-]+)?"  # build metadata
)
_VERSION_MAX_LENGTH = 64


def parse_version(text: str) -> tuple[int, ...]:
    """Numeric components of a version: ``"v6.10.1-rc1"`` -> ``(6, 10, 1)``.

    Accepted: an optional ``v``, dot-separated whole numbers, then an optional
    pre-release tag starting with a letter (``-rc1``, ``rc1``, `` beta``,
    ``~b2``) and optional build metadata (``+build.7``); tags are ignored, so
    ``6.2-rc1`` counts as 6.2. Anything else (empty, ``6.x``, ``6..2``, ``.6``,
    ``6.2-1``, more than 64 characters) is refused with BadInput.
    """
    raw = str(text).strip()
    match = _VERSION.fullmatch(raw) if len(raw) <= _VERSION_MAX_LENGTH else None
    if match is None:
        raise BadInput(f"version: not a version like 6.2, 6.2.1 or v6.2-rc1: {text!r}")
    return tuple(int(part) for part in match.group("numbers").split("."))


def _major_minor(numbers: tuple[int, ...]) -> tuple[int, int]:
    # A missing minor is 0: "6" is 6.0.
    padded = (*numbers, 0)
    return padded[0], padded[1]


def is_current(version: str, current: str) -> bool:
    """True when ``version`` has the major.minor of ``current`` or a newer one."""
    return _major_minor(parse_version(version)) >= _major_minor(parse_version(current))
