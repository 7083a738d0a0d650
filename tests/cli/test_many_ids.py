"""Ticket changes on many ids in one run (``deskctl.cli.ticket_change``): several ids or
``-`` for ids on stdin, each its own compare-and-set transaction, a line (or a JSON
entry) per id, the worst exit code, and a bad id never stopping the others."""

from __future__ import annotations

from typing import Any

from tests.cli import test_flow as flow
from tests.cli.test_flow import show, snapshot, ticket_in

fast_cli, imexhs = flow.fast_cli, flow.imexhs  # the shared fixtures

# Every command that changes one ticket: each takes the ids and the shared options.
CHANGES = [
    "triage",
    "approve",
    "decline",
    "assign",
    "respond",
    "start",
    "wait",
    "resume",
    "forward",
    "split",
    "resolve",
    "close",
    "reopen",
    "redirect",
    "comment",
    "update",
    "confirm",
    "reject-solution",
    "contact",
    "onsite",
    "report",
]


def rev(cli: Any, ticket_id: int) -> int:
    return int(show(cli, ticket_id)["rev"])


def test_assign_several_ids_assigns_each_once(fast_cli, imexhs) -> None:
    fast_cli("agent", "add", "maria")  # --to names a registered agent
    ids = [ticket_in(fast_cli, imexhs, "queued", f"t{n}") for n in range(3)]
    revs = [rev(fast_cli, t) for t in ids]
    result = fast_cli("ticket", "assign", *ids, "--to", "maria")
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"ticket {t}: assigned (queued) [severity 2, defect, assignee maria]" for t in ids
    ]
    for t, before in zip(ids, revs, strict=True):
        doc = show(fast_cli, t)
        assert (doc["assignee"], doc["rev"]) == ("maria", before + 1)


def test_ids_on_stdin_from_ticket_list_q(fast_cli, imexhs) -> None:
    queued = [ticket_in(fast_cli, imexhs, "queued", f"q{n}") for n in range(3)]
    ticket_in(fast_cli, imexhs, "draft", "not this one")
    listed = fast_cli("ticket", "list", "-q", "--status", "queued").stdout
    assert sorted(int(line) for line in listed.split()) == queued
    result = fast_cli("ticket", "start", "-", input=listed + "\n\n")
    assert len(result.stderr.splitlines()) == 3
    assert all(show(fast_cli, t)["status"] == "in_progress" for t in queued)


def test_a_bad_id_never_stops_the_others_and_the_worst_code_wins(fast_cli, imexhs) -> None:
    good = ticket_in(fast_cli, imexhs, "queued", "good")
    closed = ticket_in(fast_cli, imexhs, "closed", "closed")
    later = ticket_in(fast_cli, imexhs, "queued", "later")
    before_closed = snapshot()[0][[r[0] for r in snapshot()[0]].index(closed)]
    result = fast_cli("ticket", "start", good, "999", "abc", closed, later, code=3)
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"ticket {good}: queued -> in_progress")
    assert lines[1] == "deskctl: ticket 999: no ticket 999"
    assert lines[2] == "deskctl: ticket abc: not a ticket id: 'abc'"
    assert lines[3].startswith(f"deskctl: ticket {closed}: ")
    assert lines[4].startswith(f"ticket {later}: queued -> in_progress")
    assert lines[5] == "deskctl: 3 of 5 tickets not changed"
    assert show(fast_cli, good)["status"] == show(fast_cli, later)["status"] == "in_progress"
    rows = {r[0]: r for r in snapshot()[0]}
    assert rows[closed] == before_closed  # refused: nothing written


def test_refusals_alone_exit_1_and_bad_ids_alone_exit_2(fast_cli, imexhs) -> None:
    closed = ticket_in(fast_cli, imexhs, "closed", "closed")
    queued = ticket_in(fast_cli, imexhs, "queued", "queued")
    fast_cli("ticket", "start", closed, queued, code=1)
    fast_cli("ticket", "comment", "x", "-", "hello", input="", code=2)


def test_json_with_several_ids_lists_each_result(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "queued")
    result = fast_cli("ticket", "start", t, "999", "--json", code=3)
    import json

    doc = json.loads(result.stdout)
    assert [(d["id"], d["ok"]) for d in doc] == [(t, True), (999, False)]
    assert doc[0]["ticket"] == show(fast_cli, t)
    assert (doc[1]["exit"], doc[1]["error"]) == (3, "no ticket 999")
    assert "ticket" not in doc[1]


def test_json_with_one_id_keeps_the_ticket_document(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "queued")
    doc = fast_cli.json("ticket", "start", t)
    assert doc == show(fast_cli, t)
    stdin_one = fast_cli.json("ticket", "comment", "-", "hi", input=f"{t}\n")
    assert [d["id"] for d in stdin_one] == [t]  # `-` always gives the list: scripts know


def test_if_rev_is_checked_per_id(fast_cli, imexhs) -> None:
    a = ticket_in(fast_cli, imexhs, "queued", "a")
    b = ticket_in(fast_cli, imexhs, "queued", "b")
    fast_cli("ticket", "comment", b, "moved on")
    assert rev(fast_cli, a) + 1 == rev(fast_cli, b)
    result = fast_cli("ticket", "start", a, b, "--if-rev", rev(fast_cli, a), code=4)
    assert f"deskctl: ticket {b}: ticket {b} is at rev" in result.stderr
    assert (show(fast_cli, a)["status"], show(fast_cli, b)["status"]) == ("in_progress", "queued")


def test_split_prints_each_parents_sub_ticket_ids(fast_cli, imexhs) -> None:
    ids = [ticket_in(fast_cli, imexhs, "in_progress", f"p{n}") for n in range(2)]
    result = fast_cli("ticket", "split", *ids, "--part", "db", "--part", "ui")
    children = [int(x) for x in result.stdout.split()]
    assert len(children) == 4
    assert [show(fast_cli, c)["parent_id"] for c in children] == [ids[0]] * 2 + [ids[1]] * 2


def test_every_ticket_change_takes_ids_and_the_shared_options(fast_cli) -> None:
    import typer.main

    from deskctl.cli.app import app

    root = typer.main.get_command(app)  # commands are loaded on demand (cli.app.Root)
    group = root.get_command(None, "ticket")  # type: ignore[attr-defined]
    for name in CHANGES:
        command = group.commands[name]
        options = {o for p in command.params for o in p.opts}
        assert {"--at", "--note", "--if-rev", "--json"} <= options, name
        ids = next(p for p in command.params if p.name == "ticket_ids")
        assert ids.nargs == -1 and ids.required, name


def test_protocol_and_visit_commands_print_the_ticket_document(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "awaiting_verification")
    contact = fast_cli.json(
        "ticket", "contact", t, "--via", "phone", "--outcome", "reached", "--note", "ok"
    )
    assert contact == show(fast_cli, t)
    assert contact["events"][-1]["kind"] == "contact_attempt"
    fast_cli(
        "ticket",
        "contact",
        t,
        "--via",
        "phone",
        "--outcome",
        "reached",
        "--if-rev",
        contact["rev"] - 1,
        code=4,
    )
    confirmed = fast_cli.json("ticket", "confirm", t, "--if-rev", contact["rev"])
    assert confirmed == show(fast_cli, t) and confirmed["status"] == "closed"
    q = ticket_in(fast_cli, imexhs, "queued")
    onsite = fast_cli.json("ticket", "onsite", q, "--request")
    assert onsite == show(fast_cli, q) and "sla" in onsite
