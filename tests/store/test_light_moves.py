"""``ticket assign`` written through the DBAPI (services.moves) leaves exactly the rows the
ORM path (services.flow) leaves, in every table, and keeps its checks: roles, --if-rev,
unknown agents, a closed ticket; on both backends."""

from __future__ import annotations

import json
from typing import Any

from tests.factory import open_ticket, seed_dms

AT = "2026-03-02T09:00:00Z"
MOVE_AT = "2026-03-02T10:00:00Z"


def _dump() -> dict[str, list[dict[str, Any]]]:
    """Every table of the schema, every row."""
    from sqlalchemy import select
    from sqlmodel import SQLModel

    from deskctl.store import db

    with db.session(db.ready_engine()) as s:
        return {
            table.name: [dict(row._mapping) for row in s.execute(select(table))]
            for table in SQLModel.metadata.sorted_tables
        }


def _delta(before: dict, after: dict, ticket_id: int) -> dict[str, list[str]]:
    """What a move added or changed, with its ticket's id and the row ids left out."""

    def key(row: dict[str, Any]) -> str:
        clean = {k: ("T" if k in ("ticket_id", "id") and v == ticket_id else v)
                 for k, v in row.items() if not (k == "id" and v != ticket_id)}
        return json.dumps(clean, sort_keys=True, default=str)

    out = {}
    for table, rows in after.items():
        old = {key(r) for r in before.get(table, [])}
        out[table] = sorted(k for k in map(key, rows) if k not in old)
    return out


def _orm_assign(ticket_id: int, to: str) -> None:
    from deskctl.clock import parse_instant
    from deskctl.services import flow
    from deskctl.store import db

    with db.session(db.ready_engine(), write=True) as s:
        ctx = flow.Ctx(now=parse_instant(MOVE_AT), actor="tester", note="over to you")
        flow.assign(s, ticket_id, ctx, to)


def test_assign_through_the_dbapi_writes_what_the_orm_writes(cli, store, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-02T12:00:00Z")
    seed = seed_dms(cli)
    cli("agent", "add", "tester", "--role", "manager")
    cli("agent", "add", "maria", "--role", "agent", "--team", "dms")
    light, orm = (open_ticket(cli, seed, "Twin", at=AT) for _ in range(2))
    for t in (light, orm):
        cli("ticket", "triage", t, "--severity", "high", "--at", "2026-03-02T09:30:00Z")
    before = _dump()
    cli("ticket", "assign", light, "--to", "maria", "--at", MOVE_AT, "--note", "over to you")
    middle = _dump()
    _orm_assign(orm, "maria")
    after = _dump()
    light_delta = _delta(before, middle, light)
    assert light_delta["ticket"] and light_delta["ticket_event"] and light_delta["sla_fact"]
    assert light_delta == _delta(middle, after, orm)
    doc = cli.json("ticket", "show", light)
    assert (doc["assignee"], doc["team"]) == ("maria", "dms")
    assert doc["events"][-1]["data"]["note"] == "over to you"


def test_assign_refuses_a_stale_rev_and_writes_nothing(cli, store) -> None:
    seed = seed_dms(cli)
    cli("agent", "add", "ana")
    ticket = open_ticket(cli, seed, at=AT)
    rev = cli.json("ticket", "show", ticket)["rev"]
    before = _dump()
    result = cli("ticket", "assign", ticket, "--to", "ana", "--if-rev", rev - 1, code=4)
    assert f"not {rev - 1}" in result.stderr
    assert _dump() == before
    cli("ticket", "assign", ticket, "--to", "ana", "--if-rev", rev)
    assert cli.json("ticket", "show", ticket)["assignee"] == "ana"


def test_assign_json_prints_the_ticket_document(cli, store) -> None:
    seed = seed_dms(cli)
    cli("agent", "add", "ana")
    ticket = open_ticket(cli, seed, at=AT)
    doc = cli.json("ticket", "assign", ticket, "--to", "ana")
    assert doc["id"] == ticket and doc["assignee"] == "ana"
    assert doc == cli.json("ticket", "show", ticket)


def test_assign_to_an_unknown_agent_is_not_found_and_writes_nothing(cli, store) -> None:
    seed = seed_dms(cli)
    cli("agent", "add", "tester", "--role", "manager")
    cli("agent", "add", "maria", "--role", "agent")
    ticket = open_ticket(cli, seed, at=AT)
    before = _dump()
    result = cli("ticket", "assign", ticket, "--to", "nobody", code=3)
    assert result.stderr.strip() == "deskctl: no agent 'nobody'; agents: maria, tester"
    assert _dump() == before


def test_a_read_only_agent_may_not_assign(cli) -> None:
    # SQLite: DESKCTL_USER is who acts (on PostgreSQL the database login is; the test
    # cluster's login owns the store, store/test_team_pg.py covers the roles there)
    seed = seed_dms(cli)
    cli("agent", "add", "tester", "--role", "manager")
    cli("agent", "add", "rita", "--role", "readonly")
    ticket = open_ticket(cli, seed, at=AT)
    before = _dump()
    result = cli("ticket", "assign", ticket, "--to", "tester", code=1,
                 env={"DESKCTL_USER": "rita"})
    assert "rita is a readonly" in result.stderr
    assert _dump() == before


def test_assign_on_many_ids_assigns_each_once_on_one_connection(cli, store) -> None:
    seed = seed_dms(cli)
    cli("agent", "add", "ana")
    ids = [open_ticket(cli, seed, f"t{n}", at=AT) for n in range(5)]
    closed = ids[-1]
    cli("ticket", "close", closed, "--outcome", "cancelled", "--note", "dup")
    lines = "\n".join(str(t) for t in [*ids, 999999]) + "\n"
    result = cli("ticket", "assign", "-", "--to", "ana", input=lines, code=3)
    assert result.stderr.splitlines()[-1] == "deskctl: 2 of 6 tickets not changed"
    for t in ids[:-1]:
        events = cli.json("ticket", "show", t)["events"]
        assert [e["kind"] for e in events].count("assigned") == 1
    assert "assigned" not in [e["kind"] for e in cli.json("ticket", "show", closed)["events"]]
