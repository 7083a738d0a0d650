"""`ticket assign` through the one command path: compare-and-set, its JSON document, and
an unknown agent refused."""

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


def test_assign_refuses_a_stale_rev_and_writes_nothing(cli, store) -> None:
    seed = seed_dms(cli)
    cli("agent", "add", "ana")  # the store's first agent: its manager
    ticket = open_ticket(cli, seed, at=AT)
    before = _rows(ticket)
    stale = before[0]["rev"] - 1
    result = cli("ticket", "assign", ticket, "--to", "ana", "--if-rev", stale, code=4)
    assert f"not {stale}" in result.stderr
    assert _rows(ticket) == before
    cli("ticket", "assign", ticket, "--to", "ana", "--if-rev", before[0]["rev"])
    assert _rows(ticket)[0]["assignee"] == "ana"


def test_assign_json_prints_the_ticket_document(cli, store, monkeypatch) -> None:
    # one instant for both commands: the document's running SLA figures are as of now,
    # and on the real clock a business second could pass between the two
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-05T15:00:00Z")
    seed = seed_dms(cli)
    cli("agent", "add", "ana")
    ticket = open_ticket(cli, seed, at=AT)
    doc = cli.json("ticket", "assign", ticket, "--to", "ana")
    assert doc["id"] == ticket and doc["assignee"] == "ana"
    assert doc == cli.json("ticket", "show", ticket)


@pytest.mark.parametrize("who", ["nobody"])
def test_assign_to_an_unknown_agent_is_not_found(cli, store, who: str) -> None:
    seed = seed_dms(cli)
    cli("agent", "add", "maria")  # the first agent of a store is its manager
    ticket = open_ticket(cli, seed, at=AT)
    result = cli("ticket", "assign", ticket, "--to", who, code=3)
    assert result.stderr.strip() == f"deskctl: no agent {who!r}; agents: maria"
