"""Holiday tables a calendar used are kept in the data dir, so business time is computed
without importing the ``holidays`` package again, and with the same answers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from deskctl.domain import calendar, holiday_tables
from deskctl.domain.policy import CalendarSpec
from deskctl.services import holiday_cache
from tests.factory import open_ticket, seed_dms

HOURS = {d: ((9 * 3600, 17 * 3600),) for d in range(5)}


@pytest.fixture
def kept(tmp_path):
    tables = holiday_cache.KeptTables(tmp_path / "holidays.json")
    previous = holiday_tables.current()
    holiday_tables.use(tables)
    calendar._holiday_names.cache_clear()
    yield tables
    holiday_tables.use(previous)
    calendar._holiday_names.cache_clear()


def _elapsed_over_christmas() -> float:
    spec = CalendarSpec(name="br", timezone="America/Sao_Paulo", hours=HOURS, holidays=("BR",))
    cal = calendar.BusinessCalendar(spec)
    start = datetime(2026, 12, 24, 12, tzinfo=UTC)
    return cal.elapsed(start, datetime(2026, 12, 28, 21, tzinfo=UTC))


def test_a_kept_table_answers_as_the_package_did(kept) -> None:
    from_package = _elapsed_over_christmas()
    doc = json.loads(kept.path().read_text(encoding="utf-8"))
    assert ["2026-12-25", "Christmas Day"] in doc["tables"]["BR 2026"]
    calendar._holiday_names.cache_clear()
    reread = holiday_cache.KeptTables(kept.path())
    holiday_tables.use(reread)
    assert reread.get("BR", 2026)[date(2026, 12, 25)] == "Christmas Day"
    assert _elapsed_over_christmas() == from_package


def test_the_calendar_asks_the_kept_tables_first(kept) -> None:
    # Thu 24 and Mon 28 open, Fri 25 Christmas, a weekend between: 2 days of 8 h
    assert _elapsed_over_christmas() == 16 * 3600
    calendar._holiday_names.cache_clear()
    kept.put("BR", 2026, {date(2026, 12, 24): "closed", date(2026, 12, 28): "closed"})
    # the kept table is what counts: only the 25th is open now
    assert _elapsed_over_christmas() == 8 * 3600


def test_tables_of_another_holidays_release_are_not_used(kept) -> None:
    kept.path().write_text(json.dumps({
        "format": holiday_cache.FORMAT, "holidays": "holidays-0.1.dist-info",
        "tables": {"BR 2026": [["2026-12-28", "stale"]]},
    }), encoding="utf-8")
    assert holiday_cache.KeptTables(kept.path()).get("BR", 2026) is None


def test_a_cache_that_cannot_be_written_is_not_an_error(tmp_path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    tables = holiday_cache.KeptTables(blocked / "holidays.json")  # its folder is a file
    tables.put("BR", 2026, {date(2026, 12, 25): "Christmas Day"})
    assert tables.get("BR", 2026) == {date(2026, 12, 25): "Christmas Day"}


def test_ticket_show_prints_the_same_with_kept_tables(cli, monkeypatch, isolated) -> None:
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-10T12:00:00Z")
    seed = seed_dms(cli)
    ticket = open_ticket(cli, seed, at="2026-03-02T09:00:00Z")
    cli("ticket", "triage", ticket, "--severity", "high", "--at", "2026-03-02T09:30:00Z")
    calendar._holiday_names.cache_clear()
    first = cli("ticket", "show", ticket, "--json").stdout
    assert (isolated / "deskctl-data" / "holidays.json").is_file()
    calendar._holiday_names.cache_clear()
    assert cli("ticket", "show", ticket, "--json").stdout == first
