"""rules §3 through the CLI on SQLite and PostgreSQL: every listed move works, no other is made.

``SPEC_MOVES`` is the spec's table, copied here on purpose rather than imported
from the implementation.
"""

from __future__ import annotations

from typing import Any

from tests.cli import test_flow as flow
from tests.cli.test_flow import open_ticket, show, snapshot, ticket_in

fast_cli, imexhs = flow.fast_cli, flow.imexhs  # the shared fixtures

SPEC_MOVES: dict[str, set[str]] = {
    "draft": {"queued", "awaiting_approval", "awaiting_customer", "closed"},
    "awaiting_approval": {"queued", "closed"},
    "awaiting_customer": {"draft", "queued", "in_progress", "closed"},
    "queued": {"in_progress", "awaiting_customer", "closed"},
    "in_progress": {
        "awaiting_customer",
        "forwarded",
        "awaiting_subticket",
        "awaiting_verification",
        "closed",
    },
    "forwarded": {"in_progress"},
    "awaiting_subticket": {"in_progress"},
    "awaiting_verification": {"closed", "in_progress"},
    "closed": {"in_progress"},
}
ALL_EDGES = {(a, b) for a, targets in SPEC_MOVES.items() for b in targets}


def recorded_moves() -> set[tuple[str, str]]:
    from sqlalchemy import text

    from deskctl.store import db

    with db.session(db.ready_engine()) as s:
        rows = s.execute(
            text(
                "SELECT DISTINCT from_status, to_status FROM ticket_event "
                "WHERE from_status IS NOT NULL"
            )
        ).all()
    return {(a, b) for a, b in rows}


def walk(cli: Any, ticket_id: int, *steps: tuple[list[str], str]) -> None:
    for args, expected in steps:
        doc = cli.json("ticket", args[0], ticket_id, *args[1:])
        assert doc["status"] == expected, (args, doc["status"])


def test_every_move_of_the_spec_works_and_no_other_is_recorded(store, fast_cli, imexhs) -> None:
    cli = fast_cli
    t = open_ticket(cli, imexhs)
    walk(
        cli,
        t,
        (["wait", "--on", "customer"], "awaiting_customer"),
        (["resume"], "draft"),
        (["triage", "--severity", "2"], "queued"),
        (["wait", "--on", "customer"], "awaiting_customer"),
        (["resume"], "queued"),
        (["start"], "in_progress"),
        (["wait", "--on", "customer"], "awaiting_customer"),
        (["resume"], "in_progress"),
        (["forward", "--to", "Siemens"], "forwarded"),
        (["resume"], "in_progress"),
        (["resolve", "--solution", "restarted"], "awaiting_verification"),
        (["start", "--note", "customer says it still fails"], "in_progress"),
        (["resolve", "--solution", "patched"], "awaiting_verification"),
        (["close", "--outcome", "resolved"], "closed"),
        (["reopen"], "in_progress"),
        (["split", "--part", "first problem"], "awaiting_subticket"),
    )
    child = show(cli, t)["children"][0]
    cli("ticket", "close", child, "--outcome", "cancelled")  # awaiting_subticket -> in_progress
    walk(cli, t, (["close", "--outcome", "unresolved"], "closed"))

    approved = open_ticket(cli, imexhs)
    walk(
        cli,
        approved,
        (["triage", "--severity", "3", "--category", "billable_service"], "awaiting_approval"),
        (["approve"], "queued"),
        (["close", "--outcome", "cancelled"], "closed"),
    )
    declined = ticket_in(cli, imexhs, "awaiting_approval")
    walk(cli, declined, (["decline"], "closed"))
    walk(cli, open_ticket(cli, imexhs), (["close", "--outcome", "cancelled"], "closed"))
    waiting = ticket_in(cli, imexhs, "awaiting_customer")
    walk(cli, waiting, (["close", "--outcome", "unresolved"], "closed"))

    assert recorded_moves() == ALL_EDGES


# Each move command and the status it moves to (None: where the ticket came from).
COMMANDS: dict[str, tuple[list[str], str | None]] = {
    "start": (["start"], "in_progress"),
    "resume": (["resume"], None),
    "wait-customer": (["wait", "--on", "customer"], "awaiting_customer"),
    "wait-third-party": (["wait", "--on", "third-party", "--vendor", "acme"], "forwarded"),
    "forward": (["forward", "--to", "acme"], "forwarded"),
    "split": (["split", "--part", "a", "--part", "b"], "awaiting_subticket"),
    "resolve": (["resolve", "--solution", "s"], "awaiting_verification"),
    "close": (["close", "--outcome", "unresolved"], "closed"),
    "reopen": (["reopen"], "in_progress"),
    "approve": (["approve"], "queued"),
    "decline": (["decline"], "closed"),
    "triage-billable": (
        ["triage", "--severity", "2", "--category", "billable_service"],
        "awaiting_approval",
    ),
    "redirect": (["redirect", "--kb", "kb-howto", "--topic", "usage"], "closed"),
}
# Commands that act only from some states, whatever the spec allows elsewhere.
ONLY_FROM = {
    "reopen": {"closed"},
    "approve": {"awaiting_approval"},
    "decline": {"awaiting_approval"},
    "resume": {"awaiting_customer", "forwarded", "awaiting_subticket"},
}
NEVER_FROM = {"start": {"closed"}}  # a closed ticket is reopened, not started
ALSO_OK = {
    ("split", "queued"),  # started first, then split: two listed moves
    ("triage-billable", "awaiting_approval"),  # a re-triage, no move
}


def expected_ok(command: str, state: str) -> bool:
    if state == "awaiting_subticket":
        return False  # its sub-ticket is open: it leaves only when the last one closes
    if (command, state) in ALSO_OK:
        return True
    if state not in ONLY_FROM.get(command, {state}) or state in NEVER_FROM.get(command, ()):
        return False
    target = COMMANDS[command][1]
    return target is None or target in SPEC_MOVES[state]


def test_moves_not_listed_are_refused_and_write_nothing(store, fast_cli, imexhs) -> None:
    cli = fast_cli
    cli(
        "kb",
        "add",
        "kb-howto",
        "--title",
        "How to",
        "--url",
        "https://kb.example/howto",
        "--topic",
        "usage",
    )
    tickets = {state: ticket_in(cli, imexhs, state) for state in SPEC_MOVES}
    before = snapshot()
    refused = []
    for state, ticket_id in tickets.items():
        for command, (args, target) in COMMANDS.items():
            if expected_ok(command, state):
                continue
            result = cli("ticket", args[0], ticket_id, *args[1:], code=1)
            named = f"is {state}" in result.stderr or "waits for its sub-tickets" in result.stderr
            assert named, (command, state, result.stderr)
            assert len(result.stderr.strip().splitlines()) == 1
            assert snapshot() == before, (command, state)
            refused.append((state, target))
    # Every unlisted (state, target) a command can ask for was asked for and refused.
    asked = {(s, t) for s, t in refused if t is not None}
    unlisted = {
        (s, t)
        for s in SPEC_MOVES
        for _, (_, t) in COMMANDS.items()
        if t is not None and t not in SPEC_MOVES[s]
    }
    assert unlisted <= asked | {
        ("queued", "awaiting_subticket"),
        ("awaiting_approval", "awaiting_approval"),
    }
    assert len(refused) >= 60


def test_the_moves_a_command_may_make_all_succeed(fast_cli, imexhs) -> None:
    """The other half of the table: where a command is allowed, it moves as the spec says."""
    cli = fast_cli
    cli(
        "kb",
        "add",
        "kb-howto",
        "--title",
        "How to",
        "--url",
        "https://kb.example/howto",
        "--topic",
        "usage",
    )
    for state in SPEC_MOVES:
        for command, (args, target) in COMMANDS.items():
            if not expected_ok(command, state):
                continue
            ticket_id = ticket_in(cli, imexhs, state)
            doc = cli.json("ticket", args[0], ticket_id, *args[1:])
            if target is not None:
                assert doc["status"] == target, (command, state)
    assert recorded_moves() <= ALL_EDGES
