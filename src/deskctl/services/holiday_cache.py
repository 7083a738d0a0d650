"""The holiday tables a business calendar has used, kept in the data dir.

``ticket show`` and ``sla status`` compute business time, and the ``holidays``
package loads every country's rules on import: more than the rest of the command.
The tables it gave (one code, one year: dates and names) are written to
``holidays.json`` in the data dir, so the next command reads them instead. The
file names the installed ``holidays`` release it came from; another release (new
laws, corrected dates) starts it afresh. A cache that cannot be read or written is
simply not used: the package answers, as before.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

FILE = "holidays.json"
FORMAT = 1


def _release() -> str:
    """The installed ``holidays`` release, by its distribution's metadata folder name
    (found beside the package, not imported; its own version module asks
    importlib.metadata, which costs as much as what this cache saves)."""
    from importlib.util import find_spec

    try:
        spec = find_spec("holidays")
    except (ImportError, ValueError):
        return ""
    for place in list(spec.submodule_search_locations or []) if spec else []:
        found = sorted(p.name for p in Path(place).parent.glob("holidays-*.dist-info"))
        if found:
            return ",".join(found)
        try:  # no metadata folder (a source tree): the package files' own age
            return f"{place}@{(Path(place) / 'registry.py').stat().st_mtime_ns}"
        except OSError:
            continue
    return ""


class KeptTables:
    """``domain.holiday_tables.HolidayTables`` over one JSON file, read on first use."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._loaded_from: Path | None = None
        self._release = ""
        self._tables: dict[str, Any] = {}

    def path(self) -> Path:
        if self._path is not None:
            return self._path
        from deskctl.config import data_dir

        return data_dir() / FILE

    def _load(self) -> None:
        path = self.path()
        if self._loaded_from == path:
            return
        self._loaded_from, self._release, self._tables = path, _release(), {}
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(doc, dict) and doc.get("format") == FORMAT and (
            doc.get("holidays") == self._release and isinstance(doc.get("tables"), dict)
        ):
            self._tables = doc["tables"]

    def get(self, code: str, year: int) -> dict[date, str] | None:
        self._load()
        rows = self._tables.get(f"{code} {year}")
        if not isinstance(rows, list):
            return None
        try:
            return {date.fromisoformat(day): str(name) for day, name in rows}
        except (TypeError, ValueError):
            return None

    def put(self, code: str, year: int, table: dict[date, str]) -> None:
        from deskctl import files
        from deskctl.errors import DeskctlError

        self._load()
        if not self._release:
            return  # no release to tie the tables to: never kept
        self._tables[f"{code} {year}"] = [[d.isoformat(), n] for d, n in sorted(table.items())]
        doc = {"format": FORMAT, "holidays": self._release, "tables": self._tables}
        try:
            files.private_dir(self.path().parent)
            files.write_text(self.path(), json.dumps(doc, ensure_ascii=False), what="cache")
        except (DeskctlError, OSError):
            pass  # a cache that cannot be written is not kept; the package still answers


def install() -> None:
    """Let the calendars of this process read and keep tables in the data dir."""
    from deskctl.domain import holiday_tables

    if holiday_tables.current() is None:
        holiday_tables.use(KeptTables())
