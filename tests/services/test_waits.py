"""The business seconds stored per ticket (``domain.waits``, migration 0014) are what
the overview measured: written by every move (ORM and DBAPI paths) and changed by the
moves that change the instants, filled by ``sla refresh --all`` on a store without
them, on SQLite and PostgreSQL. The reference here is the overview's own definition
measured on the ticket's calendar (``BusinessCalendar.elapsed``), not the module."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.factory import open_ticket, seed_dms

OPENED = "2026-03-02T09:00:00+01:00"  # a Monday, desk hours in Italy


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=value.tzinfo or UTC)


def expected(session: Any, t: Any) -> tuple[int | None, int | None]:
    """The overview's business seconds of one ORM ticket row, measured afresh."""
    from deskctl.domain.calendar import calendar_from_policy
    from deskctl.services import policies

    if t.policy_version_id is None:
        return None, None
    _, policy = policies.by_version_id(session, t.policy_version_id)
    calendar = calendar_from_policy(policy, t.calendar or next(iter(policy.calendars)))
    start = _aware(t.opened_at)
    if policy.clock.start == "info_complete" and t.info_complete_at is not None:
        start = _aware(t.info_complete_at)
    solved = t.resolved_at or (t.closed_at if t.outcome == "resolved" else None)
    return tuple(  # type: ignore[return-value]
        None if end is None else calendar.elapsed(start, _aware(end))
        for end in (t.responded_at, solved)
    )


def stored_and_expected() -> list[tuple[int, tuple[Any, Any], tuple[Any, Any]]]:
    """(id, stored, expected) of every ticket of the store."""
    from sqlmodel import select

    from deskctl.store import db
    from deskctl.store.models import Ticket

    with db.session(db.ready_engine()) as s:
        return [
            (
                t.id,
                (t.response_business_seconds, t.resolution_business_seconds),
                expected(s, t),
            )
            for t in s.exec(select(Ticket).order_by(Ticket.id))
        ]


def _one(ticket_id: int) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    row = next(r for r in stored_and_expected() if r[0] == ticket_id)
    return row[1], row[2]


def test_every_move_writes_the_seconds_the_overview_measures(cli, store, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-20T12:00:00Z")
    seed = seed_dms(cli)
    cli("agent", "add", "tester", "--role", "manager")
    cli("agent", "add", "maria", "--role", "agent", "--team", "dms")
    tid = open_ticket(cli, seed, at=OPENED)
    t = str(tid)
    assert _one(tid) == ((None, None), (None, None))
    cli("ticket", "triage", t, "--severity", "high", "--at", "2026-03-02T09:30:00+01:00")
    cli("ticket", "respond", t, "-m", "on it", "--at", "2026-03-02T11:15:00+01:00")
    (response, resolution), want = _one(tid)
    assert (response, resolution) == want and resolution is None
    assert response == 2 * 3600 + 15 * 60  # desk hours all along: wall time
    cli("ticket", "assign", t, "--to", "maria", "--at", "2026-03-02T12:00:00+01:00")  # DBAPI
    assert _one(tid) == ((response, None), want)
    cli("ticket", "resolve", t, "--solution", "patch", "--at", "2026-03-04T10:00:00+01:00")
    (_, first), want = _one(tid)
    assert (response, first) == want and first is not None
    cli("ticket", "reject-solution", t, "--at", "2026-03-05T10:00:00+01:00")
    assert _one(tid) == ((response, None), (response, None))  # no solution any more
    cli("ticket", "resolve", t, "--solution", "patch 2", "--at", "2026-03-09T10:00:00+01:00")
    (_, second), want = _one(tid)
    assert (response, second) == want and second is not None and second > first
    cli("ticket", "confirm", t, "--at", "2026-03-09T15:00:00+01:00")
    assert _one(tid) == ((response, second), want)


def test_closed_resolved_without_verification_counts_to_the_close(cli, store, monkeypatch):
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-20T12:00:00Z")
    seed = seed_dms(cli)
    tid = open_ticket(cli, seed, at=OPENED)
    t = str(tid)
    cli("ticket", "triage", t, "--severity", "normal", "--at", "2026-03-02T09:30:00+01:00")
    cli("ticket", "close", t, "--outcome", "resolved", "--at", "2026-03-03T09:00:00+01:00")
    stored, want = _one(tid)
    assert stored == want and stored[1] is not None and stored[1] > 0
    cli("ticket", "reopen", t, "--at", "2026-03-04T09:00:00+01:00")
    assert _one(tid)[0] == _one(tid)[1]


@pytest.mark.parametrize("bulk", [False, True])
def test_refresh_all_fills_a_store_without_them(cli, store, tmp_path, monkeypatch, bulk) -> None:
    """``bulk``: the indexes dropped and built again around the writes (many rows)."""
    from sqlalchemy import inspect, update

    from deskctl.store import db
    from deskctl.store import waits as waits_store
    from deskctl.store.models import Ticket

    if bulk:
        monkeypatch.setattr(waits_store, "BULK_ROWS", 1)

    if store == "sqlite":
        monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "demo.db"))
    monkeypatch.setenv("DESKCTL_NOW", "2026-06-30T12:00:00Z")
    cli.json("demo", "--tickets", "200", "--seed", "5", "--json")
    with db.session(db.ready_engine(), write=True) as s:  # as an upgrade from 0013 leaves it
        s.execute(update(Ticket).values(response_business_seconds=None,
                                        resolution_business_seconds=None))  # fmt: skip
    rows = stored_and_expected()
    assert sum(1 for _, _, want in rows if want != (None, None)) > 100
    cli("sla", "refresh", "--all")
    rows = stored_and_expected()
    assert [stored for _, stored, _ in rows] == [want for _, _, want in rows]
    names = {ix["name"] for ix in inspect(db.ready_engine()).get_indexes("ticket")}
    assert {"ix_ticket_response_seconds", "ix_ticket_resolution_severity"} <= names


def test_demo_stores_the_seconds_of_every_ticket(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "demo.db"))
    monkeypatch.setenv("DESKCTL_NOW", "2026-06-30T12:00:00Z")
    cli.json("demo", "--tickets", "200", "--seed", "5", "--json")
    rows = stored_and_expected()
    assert [stored for _, stored, _ in rows] == [want for _, _, want in rows]
