"""The events the tallies count have their own partial index (0017), and every query
that reads those events reads it.

``ix_event_kind_at_ticket`` holds the ``resolved``, ``solution_rejected`` and
``reopened`` events only. SQLite uses a partial index only for a WHERE holding the
index's own term, so each reader writes ``store.reads.report.counted_events``; a
reader that lost it would scan every event of the store (8.7M at 1M tickets).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from deskctl.domain import tallies

NOW = "2026-06-30T12:00:00Z"


@pytest.fixture
def demo_store(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "demo.db"
    monkeypatch.setenv("DESKCTL_DB", str(path))
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    cli.json("demo", "--tickets", "300", "--seed", "5", "--json")
    return path


def _counted(session: Any) -> tuple[int, int]:
    """(events the index reads, events of the counted kinds), on either backend."""
    from sqlalchemy import text

    from deskctl.store.reads.report import COUNTED_EVENTS

    hint = " INDEXED BY ix_event_kind_at_ticket" if session.bind.dialect.name == "sqlite" else ""
    through = session.execute(
        text(f"SELECT count(*) FROM ticket_event{hint} WHERE {COUNTED_EVENTS}")
    ).scalar_one()
    kinds = ", ".join(f"'{k}'" for k in tallies.KINDS)
    every = session.execute(
        text(f"SELECT count(*) FROM ticket_event WHERE kind IN ({kinds})")
    ).scalar_one()
    return int(through), int(every)


def _index_definition(session: Any) -> str:
    from sqlalchemy import text

    if session.bind.dialect.name == "sqlite":
        sql = "SELECT sql FROM sqlite_master WHERE name = 'ix_event_kind_at_ticket'"
    else:
        sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_event_kind_at_ticket'"
    return str(session.execute(text(sql)).scalar_one())


def test_the_index_holds_the_counted_events_and_no_other(cli, store, tmp_path,
                                                          monkeypatch) -> None:  # fmt: skip
    """Built by a large demo's load (at its end) and kept by a move."""
    from deskctl.services.demo import bulk
    from deskctl.store import db

    monkeypatch.setattr(bulk, "BULK_INDEX_TICKETS", 100)  # the large load's path
    if store == "sqlite":
        monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "demo.db"))
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    cli.json("demo", "--tickets", "300", "--seed", "5", "--json")
    with db.session(db.ready_engine()) as s:
        definition = _index_definition(s)
        through, every = _counted(s)
    for kind in tallies.KINDS:
        assert f"'{kind}'" in definition, definition
    assert through == every > 300 // 2
    tid = cli.json("ticket", "list", "--status", "in_progress", "--json")[0]["id"]
    cli("ticket", "resolve", str(tid), "--solution", "a patch")
    with db.session(db.ready_engine()) as s:
        assert _counted(s) == (every + 1, every + 1)


def _plans_of(store: Path, statements: list[tuple[str, Any]]) -> list[str]:
    import sqlite3

    con = sqlite3.connect(store)
    try:
        return [
            "\n".join(row[3] for row in con.execute(f"EXPLAIN QUERY PLAN {sql}", params or ()))
            for sql, params in statements
        ]
    finally:
        con.close()


def test_the_findings_reopens_read_the_index_whatever_the_values(demo_store: Path) -> None:
    from deskctl.domain.analysis import Thresholds
    from deskctl.services import findings, reports

    def run(s: Any) -> None:
        scope = reports.make_scope(s, date(2025, 7, 1), date(2026, 6, 30))
        findings.findings(s, scope, Thresholds(), now=datetime(2026, 6, 30, 12, tzinfo=UTC))

    from tests.store.test_report_plans import _plans

    found = _plans(demo_store, run, unbound=True)
    plans = [p for sql, p in found.items() if "ticket_event" in sql]
    assert plans and all("ix_event_kind_at_ticket" in p for p in plans), plans


def test_the_overview_counts_of_tickets_without_tallies_read_the_index(demo_store: Path) -> None:
    """The overview counts the events of tickets without tallies (a store upgraded
    from 0014) itself."""
    import sqlite3

    from deskctl.store.reads import report as rr
    from deskctl.store.sql import Reader

    con = sqlite3.connect(demo_store)
    con.execute("UPDATE ticket SET solutions_proposed = NULL, solutions_rejected = NULL,"
                " reopens = NULL")  # fmt: skip  (as an upgrade from 0014 leaves it)
    plans: dict[str, str] = {}

    def execute(sql: str, params: Any) -> Any:
        plan = con.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
        plans[sql] = "\n".join(r[3] for r in plan)
        return con.execute(sql, params)

    start, end = datetime(2025, 7, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
    cohort = rr.Cohort(Reader(con, "sqlite", execute=execute), {"start": start, "end": end})
    counted = rr.uncounted_events(cohort)
    con.rollback()
    con.close()
    assert counted[tallies.KINDS[0]][0] > 0
    (plan,) = [p for sql, p in plans.items() if "ticket_event" in sql]
    assert "ix_event_kind_at_ticket" in plan and "SCAN e" not in plan, plan


def test_the_fill_reads_the_index(demo_store: Path) -> None:
    """``sla refresh --all``'s own query, as it runs it."""
    import sqlite3

    from deskctl.store import db
    from deskctl.store import tallies as tallies_store

    con = sqlite3.connect(demo_store)
    con.execute("UPDATE ticket SET solutions_proposed = NULL, solutions_rejected = NULL,"
                " reopens = NULL")  # fmt: skip
    con.commit()
    con.close()
    seen: list[str] = []
    real = tallies_store.Reader.batches

    def batches(self: Any, q: Any, /, **kwargs: Any) -> Any:
        seen.append(q.sql)
        return real(self, q, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tallies_store.Reader, "batches", batches)
        engine = db.get_engine(f"sqlite:///{demo_store}")
        with db.session(engine, write=True) as s:
            assert tallies_store.fill(s) >= 300
    counting = [sql for sql in seen if "ticket_event" in sql]
    assert len(counting) == 1
    (plan,) = _plans_of(demo_store, [(counting[0], None)])
    assert "ix_event_kind_at_ticket" in plan and "SCAN ticket_event" not in plan, plan


def test_writing_an_event_builds_no_table_per_row(cli) -> None:
    """SQLite checks an IN list of three through a table it builds each time a row is
    written, and ``executemany`` writes a row at a time: the demo's events took twice as
    long to write with the index's term spelled ``kind IN (...)``."""
    import os
    import sqlite3

    cli("init")
    con = sqlite3.connect(os.environ["DESKCTL_DB"])
    try:
        ops = [row[1] for row in con.execute(
            "EXPLAIN INSERT INTO ticket_event (ticket_id, seq, at, kind, actor)"
            " VALUES (1, 1, '2026-01-01 00:00:00', ?, '')", ("resolved",))]  # fmt: skip
    finally:
        con.close()
    assert "IdxInsert" in ops  # the partial index is written to
    assert "OpenEphemeral" not in ops, ops


def test_an_upgrade_from_0016_makes_the_index_partial(cli, tmp_path: Path,
                                                       monkeypatch) -> None:  # fmt: skip
    from alembic import command

    from deskctl.store import db

    monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "old.db"))
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    cli.json("demo", "--tickets", "120", "--seed", "5", "--json")
    engine = db.ready_engine()
    command.downgrade(db.alembic_config(engine), "0016")
    with db.session(engine) as s:
        assert " WHERE " not in _index_definition(s)
    assert db.upgrade(engine) == ("0016", db.SCHEMA_HEAD)
    with db.session(engine) as s:
        assert " WHERE " in _index_definition(s)
        through, every = _counted(s)
    assert through == every > 0
