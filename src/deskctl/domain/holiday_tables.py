"""Where a business calendar finds holiday tables before asking the ``holidays`` package.

Importing the package loads every country's rules, which costs a read command more
than its query; ``services.holiday_cache`` keeps the tables a calendar used (one
code, one year) and registers itself here. No I/O here: the domain only asks.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol


class HolidayTables(Protocol):
    def get(self, code: str, year: int) -> dict[date, str] | None: ...

    def put(self, code: str, year: int, table: dict[date, str]) -> None: ...


_KEPT: list[HolidayTables] = []


def use(tables: HolidayTables | None) -> None:
    """Ask ``tables`` first from now on (None: the package alone)."""
    _KEPT[:] = [tables] if tables is not None else []


def current() -> HolidayTables | None:
    return _KEPT[0] if _KEPT else None
