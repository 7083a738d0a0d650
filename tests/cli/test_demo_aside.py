"""A large demo makes its tickets in a child process (``services.demo.aside``) and
writes them in one transaction (``bulk.loading``): the store is row for row the one
the serial run writes, and a failure leaves no ticket."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

TABLES = {
    "ticket": "id",
    "ticket_event": "ticket_id, seq",
    "worklog": "id",
    "sla_fact": "ticket_id, metric",
    "customer": "id",
    "contact": "id",
    "contract": "id",
}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", "2026-11-30T12:00:00Z")


def _dump(path: Path) -> dict[str, list[Any]]:
    con = sqlite3.connect(path)
    try:
        # the event ids too: the order the rows were written in
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY {o}").fetchall() for t, o in TABLES.items()
        }
    finally:
        con.close()


def _demo(cli: Any, monkeypatch: pytest.MonkeyPatch, path: Path, *, aside: bool) -> Any:
    from deskctl.services import demo
    from deskctl.services.demo import bulk

    monkeypatch.setattr(demo, "ASIDE_TICKETS", 0 if aside else 10**9)
    monkeypatch.setattr(bulk, "BULK_INDEX_TICKETS", 100)  # the index rebuild too
    monkeypatch.setenv("DESKCTL_DB", str(path))
    return cli.json("demo", "--tickets", "2500", "--seed", "4", "--json")


def test_tickets_made_aside_give_the_serial_store(cli, monkeypatch, tmp_path: Path) -> None:
    from deskctl.services.demo import maker

    monkeypatch.setattr(maker, "CHUNK_EVENTS", 2000)  # several batches through the pipe
    serial = _demo(cli, monkeypatch, tmp_path / "serial.db", aside=False)
    aside = _demo(cli, monkeypatch, tmp_path / "aside.db", aside=True)
    assert aside["counts"] == serial["counts"] and serial["counts"]["tickets"] == 2500
    one, other = _dump(tmp_path / "serial.db"), _dump(tmp_path / "aside.db")
    assert len(one["ticket_event"]) > 20_000
    for table in TABLES:
        assert one[table] == other[table], table


def test_demo_rows_keep_every_foreign_key(cli, monkeypatch, tmp_path: Path) -> None:
    """The load skips SQLite's foreign-key lookups; the rows still satisfy them all,
    and the store has its usual modes back."""
    _demo(cli, monkeypatch, tmp_path / "fk.db", aside=True)
    con = sqlite3.connect(tmp_path / "fk.db")
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT count(*) FROM ticket").fetchone()[0] == 2500


def test_an_error_while_making_tickets_writes_none(cli, monkeypatch, tmp_path: Path) -> None:
    from deskctl.errors import BadInput
    from deskctl.services.demo import maker

    real = maker.TicketMaker.story_into
    made = []

    def failing(self: Any, batch: Any, first_id: int, room: int) -> int:
        made.append(first_id)
        if len(made) > 1500:
            raise BadInput("no more stories")
        return real(self, batch, first_id, room)

    monkeypatch.setattr(maker.TicketMaker, "story_into", failing)
    monkeypatch.setattr(maker, "CHUNK_EVENTS", 2000)
    from deskctl.services import demo

    monkeypatch.setattr(demo, "ASIDE_TICKETS", 0)
    monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "err.db"))
    result = cli("demo", "--tickets", "2500", code=2)
    assert "no more stories" in result.stderr
    con = sqlite3.connect(tmp_path / "err.db")
    assert con.execute("SELECT count(*) FROM ticket").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM ticket_event").fetchone()[0] == 0
    assert not made  # the tickets were made in the child, not here


def test_the_cycle_collector_is_back_after_a_demo(cli, monkeypatch, tmp_path: Path) -> None:
    """The load runs without the cycle collector (``aside.without_gc``); the process
    has it again afterwards, also when the load failed."""
    import gc

    _demo(cli, monkeypatch, tmp_path / "gc.db", aside=True)
    assert gc.isenabled()
    seen = []

    def broken(load: Any, batch: Any) -> None:
        seen.append(gc.isenabled())
        raise RuntimeError("disk full")

    from deskctl.services import demo

    monkeypatch.setattr(demo, "_write_batch", broken)
    monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "gc2.db"))
    result = cli("demo", "--tickets", "2500", code=None)
    assert result.exit_code != 0
    assert seen == [False] and gc.isenabled()


def test_recipes_spell_out_exactly_the_events_they_count(monkeypatch) -> None:
    """A batch made aside holds its events as recipes; ``spell`` gives the events and
    work log the serial maker wrote, as many as the batch was cut by."""
    from datetime import UTC, datetime

    from deskctl.services.demo import maker as made
    from tests.cli.test_demo_sla_fast import _maker

    monkeypatch.setattr(made, "CHUNK_EVENTS", 2000)

    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    maker = _maker(3, now, fast=True)
    batches = list(maker.batches(1500, 1))
    assert len(batches) > 3
    for batch in batches:
        assert batch.recipes and not batch.events and not batch.worklog
        before = len(batch.recipes)
        maker.spell(batch)
        assert not batch.recipes and len(batch.events) == batch.n_events
        assert before <= len({e[0] for e in batch.events})  # every ticket of the stories
        assert {w[:2] for w in batch.worklog} <= {e[:2] for e in batch.events}
    events = [e for b in batches for e in b.events]
    assert sorted(e[:2] for e in events) == sorted({e[:2] for e in events})  # (id, seq) once
