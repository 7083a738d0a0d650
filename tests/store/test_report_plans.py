"""The SLA reports' tallies stream their groups from their own indexes on SQLite.

On a million tickets a GROUP BY that SQLite sorts costs seconds (docs/speed.md); the
indexes of migration 0011 hold the settled tickets and facts in group order, and
``store.planner.no_index`` keeps the period range from steering SQLite to the period
index instead. SQLite's planner chooses from the schema and the query's terms (the
store has no ANALYZE statistics), so the plans on this small demo store are the plans
on a large one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

NOW = "2026-06-30T12:00:00Z"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import ROOT

    path = tmp_path_factory.mktemp("plans") / "demo.db"
    env = dict(
        os.environ,
        DESKCTL_DB=str(path),
        DESKCTL_NOW=NOW,
        DESKCTL_USER="tester",
        DESKCTL_DATA_DIR=str(path.parent / "data"),
        PYTHONPATH=str(ROOT / "src"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "deskctl", "demo", "--tickets", "300", "--seed", "3"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return path


def _plans(store: Path, run: Any, *, unbound: bool = False) -> dict[str, str]:
    """SQL -> its query plan, for every query ``run(session)`` issues; ``unbound``: as
    planned without its values (SQLite plans again for the values bound, PostgreSQL's
    generic plans do not), NULL for each."""
    from sqlalchemy import event

    from deskctl.store import db

    engine = db.get_engine(f"sqlite:///{store}")
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with db.session(engine) as s:
            run(s)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    import sqlite3

    con = sqlite3.connect(store)
    try:
        return {
            sql: "\n".join(
                row[3]
                for row in con.execute(
                    f"EXPLAIN QUERY PLAN {sql}", [None] * len(params) if unbound else params
                )
            )
            for sql, params in seen
        }
    finally:
        con.close()


def _tally(plans: dict[str, str], table: str) -> str:
    """The plan of the settled tally over ``table`` (the one with the unindexed period)."""
    found = [plan for sql, plan in plans.items() if f"+{table}.opened_at >=" in sql]
    assert len(found) == 1, list(plans)
    return found[0]


@pytest.mark.parametrize("by_day", [False, True])
def test_settled_tallies_read_their_index_in_group_order(demo_store: Path, by_day: bool) -> None:
    from deskctl.services import cohort

    flt = cohort.Filter(datetime(2025, 7, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
    now = datetime(2026, 6, 30, 12, tzinfo=UTC)
    plans = _plans(demo_store, lambda s: cohort.compute(s, flt, now, by_day=by_day))
    if by_day:
        # one range per day on the period index, counted per state: no sort at all
        days = [p for sql, p in plans.items() if "CASE WHEN (ticket.sla_settled =" in sql]
        assert days and all("ix_ticket_sla_cohort (opened_at>? AND opened_at<?)" in p
                            and "TEMP B-TREE" not in p for p in days), days  # fmt: skip
        return
    tickets = _tally(plans, "ticket")
    assert "ix_ticket_sla_settled" in tickets and "TEMP B-TREE" not in tickets, tickets
    metrics = _tally(plans, "sla_fact")
    assert "ix_sla_fact_settled" in metrics and "TEMP B-TREE" not in metrics, metrics


def test_breach_list_reads_the_small_indexes(demo_store: Path) -> None:
    from deskctl.services import cohort

    flt = cohort.Filter(datetime(2025, 7, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
    now = datetime(2026, 6, 30, 12, tzinfo=UTC)

    def run(s: Any) -> None:
        got = cohort.compute(s, flt, now)
        cohort.listed(s, flt, got, limit=20, breached_only=True)

    plans = _plans(demo_store, run)
    lists = [p for sql, p in plans.items() if "max(julianday" in sql]
    assert len(lists) == 2, list(plans)
    assert any("ix_sla_fact_breached" in p for p in lists), lists
    assert any("ix_sla_fact_running" in p for p in lists), lists


def test_overview_scans_read_their_indexes_in_group_order(demo_store: Path) -> None:
    """The volume, dimension and work-log passes of ``report overview`` (0015) each read
    one covering index in the order they group by: no sort, no table row."""
    import sqlite3
    from datetime import date

    from deskctl.services import reports
    from deskctl.store.reads import report as rr
    from deskctl.store.sql import Reader

    con = sqlite3.connect(demo_store)
    plans: dict[str, str] = {}

    def execute(sql: str, params: Any) -> Any:
        plans[sql] = "\n".join(r[3] for r in con.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        return con.execute(sql, params)

    start, end = datetime(2025, 7, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
    c = rr.Cohort(Reader(con, "sqlite", execute=execute), {"start": start, "end": end})
    assert rr.shared_volumes(c) and rr.dimension_volumes(c)
    con.close()

    def run(s: Any) -> None:
        reports.worklog_minutes(s, reports.make_scope(s, date(2025, 7, 1), date(2026, 6, 30)))

    plans.update(_plans(demo_store, run))
    for index in ("ix_ticket_volume", "ix_ticket_dims", "ix_worklog_kind_at"):
        found = [p for p in plans.values() if index in p]
        assert len(found) == 1, (index, plans)
        assert "COVERING INDEX" in found[0] and "TEMP B-TREE" not in found[0], found[0]


def test_a_short_range_reads_its_rows_through_opened_at(demo_store: Path) -> None:
    """A day of a big store does not read the hinted covering indexes whole (at 1M a
    day took 3 s that way); a year does."""
    import sqlite3

    from deskctl.store.reads import report as rr
    from deskctl.store.sql import Reader

    con = sqlite3.connect(demo_store)
    plans: dict[str, str] = {}

    def execute(sql: str, params: Any) -> Any:
        plans[sql] = "\n".join(r[3] for r in con.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        return con.execute(sql, params)

    reader = Reader(con, "sqlite", execute=execute)
    day = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC)
    year = datetime(2025, 7, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
    assert rr.is_wide(reader, *year) and not rr.is_wide(reader, *day)
    plans.clear()
    c = rr.Cohort(reader, {"start": day[0], "end": day[1]}, wide=False)
    rr.shared_volumes(c), rr.dimension_volumes(c)
    con.close()
    assert len(plans) == 2
    for plan in plans.values():
        assert "ix_ticket_opened_at" in plan, plan
