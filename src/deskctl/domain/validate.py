"""Input rules every entry point shares (CLI, mail fetch, imports): pure, no I/O.

- Instants lie between :data:`EARLIEST` and :data:`LATEST` (1970-2100): anything
  else is a typo, and far edges would overflow date arithmetic with an offset.
- An event is never later than now plus :data:`FUTURE_SKEW` (a machine a little
  ahead of another), nor earlier than the ticket's opening. "Now" is the later of
  ``DESKCTL_NOW`` and the system clock: a replay pins the first and records events
  after it.
  Moves are in time order too (``lifecycle``); comments and work logs may be
  back-dated, down to the opening.
- One-line text (titles, names, keys, e-mail addresses) has no control
  characters, is not blank or invisible, and fits its column, so SQLite and
  PostgreSQL accept exactly the same input. Multi-line text (descriptions,
  notes) may hold TAB and newlines but no other control character.
- Ids and counts fit a 64-bit signed integer column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from deskctl.clock import EARLIEST, LATEST, instant_in_range  # noqa: F401 -- re-exported
from deskctl.errors import BadInput

FUTURE_SKEW = timedelta(minutes=5)
MAX_ID = 2**63 - 1

_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_~-]*$")


def event_time(at: datetime, *, now: datetime, opened_at: datetime | None) -> None:
    """An event happens between the ticket's opening and now (plus the skew)."""
    if at > now + FUTURE_SKEW:
        raise BadInput(
            f"{_z(at)} is in the future (now is {_z(now)}); events are recorded when they "
            f"happen, at most {int(FUTURE_SKEW.total_seconds() // 60)} minutes ahead"
        )
    if opened_at is not None and at < opened_at:
        raise BadInput(f"{_z(at)} is before the ticket was opened at {_z(opened_at)}")


def _z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _is_invisible(text: str) -> bool:
    """Nothing a reader would see: spaces, zero-width and other format characters."""
    return all(ch.isspace() or unicodedata.category(ch) in ("Cf", "Zs", "Mn") for ch in text)


def one_line(value: str, what: str, *, limit: int, required: bool = True) -> str:
    """A title, name, key or address: stripped, visible, no control characters."""
    text = value.strip()
    if _CONTROL_ONE_LINE.search(text):
        raise BadInput(f"{what}: control characters (newline, ESC, ...) are not allowed")
    if required and (not text or _is_invisible(text)):
        raise BadInput(f"{what} must not be empty")
    return within(text, what, limit)


def multi_line(value: str, what: str, *, limit: int | None = None) -> str:
    """A description or note: TAB and newlines allowed, other control characters not."""
    if _CONTROL_MULTI_LINE.search(value):
        raise BadInput(f"{what}: control characters (other than TAB and newlines) are not allowed")
    return within(value, what, limit) if limit is not None else value


def within(text: str, what: str, limit: int) -> str:
    if len(text) > limit:
        raise BadInput(f"{what}: {len(text)} characters, at most {limit} allowed")
    return text


def choice(value: str, allowed: Iterable[str], what: str) -> str:
    """An enum value, e.g. ``--severity``: one of ``allowed`` or exit 2 saying which."""
    options = list(allowed)
    if value not in options:
        raise BadInput(f"{what}: {value!r} is not one of {', '.join(options)}")
    return value


def version(value: str, what: str = "version", *, limit: int = 40) -> str:
    """A product version: letters, digits and ``.+_~-``, starting with a letter or digit."""
    text = value.strip()
    if not _VERSION.match(text):
        raise BadInput(f"{what}: {value!r} is not a version (like 6.2 or 2024.1-lts)")
    if not any(ch.isdigit() for ch in text):
        raise BadInput(f"{what}: {value!r} is not a version (it has no number)")
    return within(text, what, limit)


def row_id(value: int, what: str = "id") -> int:
    if not 0 < value <= MAX_ID:
        raise BadInput(f"{what}: {value} is not a valid id (1 to {MAX_ID})")
    return value


def count(value: int, what: str) -> int:
    if not 0 <= value <= MAX_ID:
        raise BadInput(f"{what}: {value} is out of range (0 to {MAX_ID})")
    return value


def scrub(text: str, *, one_line: bool = False) -> str:
    """Text from outside (an e-mail) made acceptable instead of refused: control
    characters become spaces; ``one_line`` also folds every run of whitespace."""
    pattern = _CONTROL_ONE_LINE if one_line else _CONTROL_MULTI_LINE
    cleaned = pattern.sub(" ", text)
    return " ".join(cleaned.split()) if one_line else cleaned
