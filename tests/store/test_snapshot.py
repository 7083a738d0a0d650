"""Two sessions on one snapshot (``store.snapshot.twin``), on SQLite and PostgreSQL: what
was committed before the twin is seen by both, what is committed after by neither."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from deskctl.store import db, snapshot
from deskctl.store.connect import BUSY_TIMEOUT_MS

COUNT = text("SELECT count(*) FROM customer")


def _add_customer(key: str) -> None:
    """A commit by another connection (another deskctl, on the same store)."""
    with db.session(db.ready_engine(), write=True) as s:
        s.execute(
            text(
                "INSERT INTO customer (key, name, country, created_at)"
                " VALUES (:k, :k, 'IT', CURRENT_TIMESTAMP)"
            ),
            {"k": key},
        )


@pytest.fixture
def ready(cli: Any, store: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    if store == "sqlite":  # a file: an in-memory store has no second connection
        monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "desk.db"))
    monkeypatch.setattr(snapshot, "cpus", lambda: 2)
    cli("init")
    return store


def test_the_twin_sees_the_sessions_snapshot_and_no_later_commit(ready: str) -> None:
    with Session(db.ready_engine()) as s:
        assert s.execute(COUNT).scalar_one() == 0  # the session's snapshot begins here
        _add_customer("before")  # committed before the twin: the session begins again
        with snapshot.twin(s) as other:
            assert other is not None
            _add_customer("after")  # committed after: neither sees it
            assert s.execute(COUNT).scalar_one() == 1
            assert other.execute(COUNT).scalar_one() == 1
            reads = snapshot.Beside(other, lambda on: on.execute(COUNT).scalar_one())
            assert reads.result() == 1  # on another thread too
    with Session(db.ready_engine()) as fresh:
        assert fresh.execute(COUNT).scalar_one() == 2


def test_no_twin_on_one_cpu_or_an_in_memory_store(
    cli: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "cpus", lambda: 2)
    with Session(db.get_engine("sqlite://")) as s, snapshot.twin(s) as other:
        assert other is None
    monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "desk.db"))
    cli("init")
    with Session(db.ready_engine()) as s, snapshot.twin(s) as other:
        assert other is not None  # a file on two CPUs
    monkeypatch.setattr(snapshot, "cpus", lambda: 1)
    with Session(db.ready_engine()) as s, snapshot.twin(s) as other:
        assert other is None


def test_no_twin_while_a_writer_holds_the_lock(
    cli: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: a report during a long write (``sla refresh --all``) reads on its one
    connection at once, instead of waiting for the lock (30 s) or failing."""
    import sqlite3
    import time

    monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "desk.db"))
    monkeypatch.setattr(snapshot, "cpus", lambda: 2)
    cli("init")
    engine = db.ready_engine()
    writer = sqlite3.connect(tmp_path / "desk.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with Session(engine) as s, snapshot.twin(s) as other:
            assert other is None
            assert s.execute(COUNT).scalar_one() == 0  # the session still reads
        assert time.monotonic() - started < 2
        with engine.connect() as conn:  # the pooled connection's own timeout is back
            busy = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert busy == BUSY_TIMEOUT_MS
    finally:
        writer.execute("ROLLBACK")


def test_beside_hands_its_error_to_the_caller(ready: str) -> None:
    def fails(on: Session) -> None:
        raise ValueError("in the thread")

    with Session(db.ready_engine()) as s, snapshot.twin(s) as other:
        assert other is not None
        with pytest.raises(ValueError, match="in the thread"):
            snapshot.Beside(other, fails).result()


ENDLESS = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
    " SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(60)",
}


def test_ctrl_c_stops_the_statement_read_beside(ready: str) -> None:
    """A report left by Ctrl-C (or an error) while its second connection still reads:
    that statement is stopped at once, not closed under (or waited for)."""
    import time

    from sqlalchemy.exc import DBAPIError

    def endless(on: Session) -> Any:
        return on.execute(text(ENDLESS[ready])).scalar()

    started = time.monotonic()
    with Session(db.ready_engine()) as s, snapshot.twin(s) as other:
        assert other is not None
        with pytest.raises(KeyboardInterrupt), snapshot.Beside(other, endless) as side:
            time.sleep(0.3)  # the thread is in its statement
            raise KeyboardInterrupt
        with pytest.raises(DBAPIError):  # interrupted (SQLite), cancelled (PostgreSQL)
            side.result()
    assert time.monotonic() - started < 5


@pytest.mark.pg
def test_no_twin_where_postgresql_exports_no_snapshot(
    cli: Any, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hot standby refuses to export a snapshot: the report reads on one connection."""
    monkeypatch.setattr(snapshot, "cpus", lambda: 2)
    monkeypatch.setattr(snapshot, "EXPORT", "SELECT pg_export_snapshot() FROM no_such_table")
    cli("init")
    _add_customer("one")
    with Session(db.ready_engine()) as s, snapshot.twin(s) as other:
        assert other is None
        assert s.execute(COUNT).scalar_one() == 1  # the session still reads
