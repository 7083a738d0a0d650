"""The event tallies stored per ticket (``domain.tallies``, migration 0015) are the
ticket's own events counted: written by every move (ORM and DBAPI paths), filled by
``sla refresh --all`` on a store without them, on SQLite and PostgreSQL. The
reference here counts the event rows of each ticket, not the module's rule."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from tests.factory import open_ticket, seed_dms

OPENED = "2026-03-02T09:00:00+01:00"  # a Monday, desk hours in Italy
_KIND_OF = {"resolved": "proposed", "solution_rejected": "rejected", "reopened": "reopens"}


def stored_and_counted() -> list[tuple[int, tuple[Any, Any, Any], tuple[int, int, int]]]:
    """(id, stored tallies, the ticket's events counted) of every ticket of the store."""
    from sqlmodel import select

    from deskctl.store import db
    from deskctl.store.models import Ticket, TicketEvent

    with db.session(db.ready_engine()) as s:
        per: dict[int, Counter[str]] = {}
        for e in s.exec(select(TicketEvent)):
            per.setdefault(e.ticket_id, Counter())[_KIND_OF.get(e.kind, "other")] += 1
        return [
            (
                t.id,
                (t.solutions_proposed, t.solutions_rejected, t.reopens),
                tuple(per.get(t.id, Counter())[k] for k in ("proposed", "rejected", "reopens")),
            )
            for t in s.exec(select(Ticket).order_by(Ticket.id))
        ]  # type: ignore[misc]


def _one(ticket_id: int) -> tuple[Any, ...]:
    row = next(r for r in stored_and_counted() if r[0] == ticket_id)
    assert row[1] == row[2]
    return row[1]


def test_every_move_writes_the_tickets_event_tallies(cli, store, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-20T12:00:00Z")
    seed = seed_dms(cli)
    cli("agent", "add", "tester", "--role", "manager")
    cli("agent", "add", "maria", "--role", "agent", "--team", "dms")
    tid = open_ticket(cli, seed, at=OPENED)
    t = str(tid)
    assert _one(tid) == (0, 0, 0)
    cli("ticket", "triage", t, "--severity", "high", "--at", "2026-03-02T09:30:00+01:00")
    cli("ticket", "respond", t, "-m", "on it", "--at", "2026-03-02T11:15:00+01:00")
    cli("ticket", "assign", t, "--to", "maria", "--at", "2026-03-02T12:00:00+01:00")  # DBAPI
    assert _one(tid) == (0, 0, 0)
    cli("ticket", "resolve", t, "--solution", "patch", "--at", "2026-03-04T10:00:00+01:00")
    assert _one(tid) == (1, 0, 0)
    cli("ticket", "reject-solution", t, "--at", "2026-03-05T10:00:00+01:00")
    assert _one(tid) == (1, 1, 0)
    cli("ticket", "resolve", t, "--solution", "patch 2", "--at", "2026-03-09T10:00:00+01:00")
    cli("ticket", "confirm", t, "--at", "2026-03-09T15:00:00+01:00")
    assert _one(tid) == (2, 1, 0)
    cli("ticket", "reopen", t, "--at", "2026-03-10T09:00:00+01:00")
    assert _one(tid) == (2, 1, 1)
    cli("ticket", "assign", t, "--to", "maria", "--at", "2026-03-10T10:00:00+01:00")  # DBAPI
    assert _one(tid) == (2, 1, 1)


@pytest.mark.parametrize("bulk", [False, True])
def test_refresh_all_fills_a_store_without_them(cli, store, tmp_path, monkeypatch, bulk) -> None:
    """``bulk``: the volume index dropped and built again around the writes."""
    from sqlalchemy import inspect, update

    from deskctl.store import db
    from deskctl.store import tallies as tallies_store
    from deskctl.store.models import Ticket

    if bulk:
        monkeypatch.setattr(tallies_store, "BULK_ROWS", 1)
    if store == "sqlite":
        monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "demo.db"))
    monkeypatch.setenv("DESKCTL_NOW", "2026-06-30T12:00:00Z")
    cli.json("demo", "--tickets", "300", "--seed", "11", "--json")
    with db.session(db.ready_engine(), write=True) as s:  # as an upgrade from 0014 leaves it
        s.execute(update(Ticket).values(solutions_proposed=None, solutions_rejected=None,
                                        reopens=None))  # fmt: skip
    rows = stored_and_counted()
    assert all(stored == (None, None, None) for _, stored, _ in rows)
    with db.session(db.ready_engine()) as s:
        assert tallies_store.missing(s) == len(rows) >= 300
    assert sum(1 for *_, want in rows if want[1] or want[2]) > 0  # rejections, reopens occur
    cli("sla", "refresh", "--all")
    rows = stored_and_counted()
    assert [stored for _, stored, _ in rows] == [want for *_, want in rows]
    with db.session(db.ready_engine()) as s:
        assert tallies_store.missing(s) == 0
    names = {ix["name"] for ix in inspect(db.ready_engine()).get_indexes("ticket")}
    assert "ix_ticket_volume" in names


def test_demo_stores_the_tallies_of_every_ticket(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "demo.db"))
    monkeypatch.setenv("DESKCTL_NOW", "2026-06-30T12:00:00Z")
    cli.json("demo", "--tickets", "300", "--seed", "11", "--json")
    rows = stored_and_counted()
    assert [stored for _, stored, _ in rows] == [want for *_, want in rows]
