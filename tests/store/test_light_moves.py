"""Moves written through the DBAPI (services.moves) leave the rows the ORM path leaves."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factory import open_ticket, seed_dms

AT = "2026-03-02T09:00:00Z"


def _rows(ticket_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from sqlalchemy import select

    from deskctl.store import db
    from deskctl.store.models import Ticket, TicketEvent

    with db.session(db.ready_engine()) as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        row = ticket.model_dump(exclude={"id"})
        events = s.execute(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.seq)
        ).scalars()
        return row, [e.model_dump(exclude={"id", "ticket_id"}) for e in events]


def _orm_assign(ticket_id: int, to: str, at: str) -> None:
    from deskctl.clock import parse_instant
    from deskctl.services import flow
    from deskctl.store import db

    ctx = flow.Ctx(now=parse_instant(at), actor="tester", note="over to you")
    with db.session(db.ready_engine(), write=True) as s:
        flow.assign(s, ticket_id, ctx, to)


def test_assign_through_the_dbapi_writes_what_the_orm_writes(cli, store, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-02T12:00:00Z")
    seed = seed_dms(cli)
    cli("agent", "add", "maria", "--role", "agent", "--team", "dms")
    light, orm = (open_ticket(cli, seed, "Twin", at=AT) for _ in range(2))
    for t in (light, orm):
        cli("ticket", "triage", t, "--severity", "high", "--at", "2026-03-02T09:30:00Z")
    at = "2026-03-02T10:00:00Z"
    cli("ticket", "assign", light, "--to", "maria", "--at", at, "--note", "over to you")
    _orm_assign(orm, "maria", at)
    light_row, light_events = _rows(light)
    orm_row, orm_events = _rows(orm)
    assert light_row == orm_row
    assert light_events == orm_events
    assert light_row["assignee"] == "maria" and light_row["team"] == "dms"
    assert light_events[-1]["note"] == "over to you"


def test_assign_refuses_a_stale_rev_and_writes_nothing(cli, store) -> None:
    seed = seed_dms(cli)
    ticket = open_ticket(cli, seed, at=AT)
    before = _rows(ticket)
    stale = before[0]["rev"] - 1
    result = cli("ticket", "assign", ticket, "--to", "ana", "--if-rev", stale, code=4)
    assert f"not {stale}" in result.stderr
    assert _rows(ticket) == before
    cli("ticket", "assign", ticket, "--to", "ana", "--if-rev", before[0]["rev"])
    assert _rows(ticket)[0]["assignee"] == "ana"


def test_assign_json_prints_the_ticket_document(cli, store) -> None:
    seed = seed_dms(cli)
    ticket = open_ticket(cli, seed, at=AT)
    doc = cli.json("ticket", "assign", ticket, "--to", "ana")
    assert doc["id"] == ticket and doc["assignee"] == "ana"
    assert doc == cli.json("ticket", "show", ticket)


@pytest.mark.parametrize("who", ["nobody"])
def test_assign_to_an_unknown_agent_is_not_found(cli, store, who: str) -> None:
    seed = seed_dms(cli)
    cli("agent", "add", "maria", "--role", "agent")
    ticket = open_ticket(cli, seed, at=AT)
    result = cli("ticket", "assign", ticket, "--to", who, code=3)
    assert result.stderr.strip() == f"deskctl: no agent {who!r}; agents: maria"
