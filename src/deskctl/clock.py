"""The one clock of the program. Nothing else calls ``datetime.now()``.

``DESKCTL_NOW`` (an ISO-8601 instant with offset) replaces the system clock for
every command: tests, demos and replays.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from deskctl.errors import BadInput


def now() -> datetime:
    fixed = os.environ.get("DESKCTL_NOW")
    if fixed:
        return parse_instant(fixed, what="DESKCTL_NOW")
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
        if len(raw) == 10:
            return value.replace(tzinfo=UTC)
        raise BadInput(f"{what}: {text!r} has no UTC offset (add Z or +HH:MM)")
    return value.astimezone(UTC)


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
