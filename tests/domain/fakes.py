"""Two small calendars for the SLA and protocol tests: wall time, and office hours.

Written the plain way (day iteration), so the domain code is checked against
something obviously right rather than against itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta


class WallCalendar:
    """24x7: business time is wall time."""

    def due(self, start: datetime, seconds: int) -> datetime:
        return start + timedelta(seconds=seconds)

    def elapsed(self, start: datetime, end: datetime) -> int:
        return max(0, int((end - start).total_seconds()))


class OfficeCalendar:
    """UTC Monday-Friday 09:00-17:00, by plain day iteration."""

    def _windows(self, first: date) -> Iterator[tuple[datetime, datetime]]:
        day = first
        while True:
            if day.weekday() < 5:
                yield (
                    datetime.combine(day, time(9), UTC),
                    datetime.combine(day, time(17), UTC),
                )
            day += timedelta(days=1)

    def due(self, start: datetime, seconds: int) -> datetime:
        left = seconds
        for opens, closes in self._windows(start.date()):
            opens = max(opens, start)
            if opens >= closes:
                continue
            length = int((closes - opens).total_seconds())
            if left <= length:
                return opens + timedelta(seconds=left)
            left -= length
        raise AssertionError("unreachable")

    def elapsed(self, start: datetime, end: datetime) -> int:
        total = 0
        for opens, closes in self._windows(start.date()):
            if opens >= end:
                return total
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += int((hi - lo).total_seconds())
        raise AssertionError("unreachable")


WALL = WallCalendar()
OFFICE = OfficeCalendar()
