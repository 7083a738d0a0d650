"""Ticket lifecycle commands through the CLI: what each records, prints and refuses.

Helpers here (``fast_cli``, ``snapshot``, ``ticket_in``) are shared by the other
tests/cli/test_flow*.py files.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest

from tests.factory import open_ticket, seed_dms, seed_imexhs

NOW = "2026-03-02T14:00:00Z"  # a Monday, inside IMEXHS business hours
_COMMANDS: dict[int, Any] = {}
_SEEDS: dict[str, dict[str, str]] = {}


@pytest.fixture
def fast_cli(cli: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The conftest runner with the click command tree built once: typer rebuilds it per call."""
    import typer.main
    import typer.testing

    build = typer.main.get_command

    def cached(app: Any) -> Any:
        if id(app) not in _COMMANDS:
            _COMMANDS[id(app)] = build(app)
        return _COMMANDS[id(app)]

    monkeypatch.setattr(typer.testing, "_get_command", cached)
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    return cli


def seeded(
    cli: Any,
    seeder: Callable[[Any], dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """A seeded store: on SQLite a copy of one seeded once per test process (seeding is slow)."""
    from deskctl.store import db

    target = os.environ["DESKCTL_DB"]
    if "://" in target:
        return seeder(cli)
    name = seeder.__name__
    template = tmp_path_factory.getbasetemp() / f"{name}.db"
    if name not in _SEEDS:
        monkeypatch.setenv("DESKCTL_DB", str(template))
        _SEEDS[name] = seeder(cli)
        db.dispose_all()  # closes the connections: the WAL is folded into the file
        monkeypatch.setenv("DESKCTL_DB", target)
    shutil.copyfile(template, target)
    return _SEEDS[name]


@pytest.fixture
def imexhs(
    fast_cli: Any, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    return seeded(fast_cli, seed_imexhs, tmp_path_factory, monkeypatch)


def snapshot() -> tuple[Any, ...]:
    """Every ticket's (id, rev, status), the number of events, attachments and articles."""
    from sqlalchemy import text

    from deskctl.store import db

    with db.session(db.ready_engine()) as s:
        rows = s.execute(text("SELECT id, rev, status FROM ticket ORDER BY id")).all()
        events = s.execute(text("SELECT count(*) FROM ticket_event")).scalar_one()
        articles = s.execute(text("SELECT count(*) FROM kb_article")).scalar_one()
    return tuple(tuple(r) for r in rows), events, articles


def show(cli: Any, ticket_id: int) -> dict[str, Any]:
    doc: dict[str, Any] = cli.json("ticket", "show", ticket_id)
    return doc


def kinds(doc: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in doc["events"]]


# How to bring a complete, freshly opened ticket into each state.
PATHS: dict[str, list[list[str]]] = {
    "draft": [],
    "queued": [["triage", "--severity", "2"]],
    "awaiting_approval": [["triage", "--severity", "2", "--category", "billable_service"]],
    "in_progress": [["triage", "--severity", "2"], ["start"]],
    "awaiting_customer": [["triage", "--severity", "2"], ["start"], ["wait", "--on", "customer"]],
    "forwarded": [["triage", "--severity", "2"], ["start"], ["forward", "--to", "acme"]],
    "awaiting_subticket": [["triage", "--severity", "2"], ["start"], ["split", "--part", "sub"]],
    "awaiting_verification": [
        ["triage", "--severity", "2"],
        ["start"],
        ["resolve", "--solution", "fixed"],
    ],
    "closed": [["close", "--outcome", "cancelled"]],
}


def ticket_in(cli: Any, seed: dict[str, str], state: str, title: str = "It broke") -> int:
    ticket_id = open_ticket(cli, seed, title)
    for step in PATHS[state]:
        cli("ticket", step[0], ticket_id, *step[1:])
    assert show(cli, ticket_id)["status"] == state
    return ticket_id


# -- triage ------------------------------------------------------------------------------


def test_triage_by_matrix_queues_and_prints_the_ticket(fast_cli, imexhs) -> None:
    t = open_ticket(fast_cli, imexhs)
    doc = fast_cli.json(
        "ticket", "triage", t, "--impact", "High", "--urgency", "low", "--note", "called in"
    )
    # IMEXHS matrix: high impact x low urgency = severity 2.
    assert (doc["status"], doc["severity"], doc["category"]) == ("queued", "2", "defect")
    triaged = doc["events"][-1]
    assert triaged["kind"] == "triaged"
    assert (triaged["from"], triaged["to"], triaged["actor"]) == ("draft", "queued", "tester")
    assert triaged["at"] == NOW
    assert triaged["data"]["note"] == "called in"
    assert triaged["data"]["impact"] == "high"


def test_triage_without_a_severity_source_keeps_the_one_it_has(fast_cli, imexhs) -> None:
    t = open_ticket(fast_cli, imexhs)
    before = snapshot()
    result = fast_cli("ticket", "triage", t, code=2)
    assert "--severity" in result.stderr
    assert snapshot() == before
    fast_cli("ticket", "triage", t, "--severity", "1")
    fast_cli("ticket", "start", t)
    doc = fast_cli.json("ticket", "triage", t, "--topic", "pacs viewer")
    assert (doc["status"], doc["severity"], doc["topic"]) == ("in_progress", "1", "pacs viewer")


def test_triage_takes_the_category_the_policy_lists_for_the_topic(fast_cli) -> None:
    seed = seed_dms(fast_cli)
    t = open_ticket(fast_cli, seed, "No download link", "--channel", "email")
    doc = fast_cli.json("ticket", "triage", t, "--severity", "high", "--topic", "Download")
    assert (doc["category"], doc["status"]) == ("always_supported", "queued")


def test_triage_notes_when_the_policy_lists_the_topic_elsewhere(fast_cli, imexhs) -> None:
    t = open_ticket(fast_cli, imexhs)
    result = fast_cli(
        "ticket", "triage", t, "--severity", "2", "--topic", "internet", "--category", "defect"
    )
    assert "internet as out_of_scope" in result.stderr
    assert show(fast_cli, t)["category"] == "defect"


def test_missing_required_fields_keep_a_ticket_in_draft_until_supplied(fast_cli, imexhs) -> None:
    t = int(
        fast_cli(
            "ticket",
            "open",
            "--customer",
            "clinic",
            "--contact",
            imexhs["contact"],
            "--title",
            "Viewer freezes",
            "--product",
            imexhs["product"],
        ).stdout
    )
    before = snapshot()
    refused = fast_cli("ticket", "triage", t, "--severity", "2", code=1)
    assert "version, description" in refused.stderr
    assert "ticket is draft" in refused.stderr
    assert snapshot() == before
    fast_cli("ticket", "start", t, code=1)
    assert snapshot() == before

    fast_cli("ticket", "wait", t, "--on", "customer", "--note", "asked for the version")
    doc = fast_cli.json("ticket", "update", t, "--version", "4.1")
    assert "info_complete" not in kinds(doc)
    doc = fast_cli.json("ticket", "update", t, "--description", "freezes on open", "--os", "W11")
    assert kinds(doc)[-2:] == ["updated", "info_complete"]
    assert doc["info_complete_at"] == NOW
    assert doc["fields"]["os"] == "W11"
    doc = fast_cli.json("ticket", "resume", t)
    assert doc["status"] == "draft"
    assert fast_cli.json("ticket", "triage", t, "--severity", "2")["status"] == "queued"


def test_a_ticket_missing_fields_may_still_be_closed(fast_cli, imexhs) -> None:
    t = int(
        fast_cli(
            "ticket",
            "open",
            "--customer",
            "clinic",
            "--contact",
            imexhs["contact"],
            "--title",
            "Duplicate of 12",
        ).stdout
    )
    doc = fast_cli.json("ticket", "close", t, "--outcome", "cancelled", "--reason", "duplicate")
    assert (doc["status"], doc["outcome"]) == ("closed", "cancelled")
    assert doc["events"][-1]["data"]["reason"] == "duplicate"


# -- assignment and work ---------------------------------------------------------------------


def test_assign_records_agent_and_team(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "queued")
    fast_cli("agent", "add", "ana", "--name", "Ana")
    doc = fast_cli.json("ticket", "assign", t, "--to", "ana", "--team", "pacs")
    assert (doc["assignee"], doc["team"], doc["status"]) == ("ana", "pacs", "queued")
    assert doc["events"][-1]["data"] == {"assignee": "ana", "team": "pacs"}


def test_assign_to_an_unregistered_agent_is_refused_once_agents_exist(fast_cli, imexhs) -> None:
    fast_cli("agent", "add", "ana", "--name", "Ana", "--team", "pacs")
    t = ticket_in(fast_cli, imexhs, "queued")
    before = snapshot()
    result = fast_cli("ticket", "assign", t, "--to", "anna", code=3)
    assert "no agent 'anna'" in result.stderr and "ana" in result.stderr
    assert snapshot() == before
    doc = fast_cli.json("ticket", "assign", t, "--to", "ana")
    assert (doc["assignee"], doc["team"]) == ("ana", "pacs")


def test_respond_starts_a_queued_ticket_and_only_the_first_counts(
    fast_cli, imexhs, monkeypatch
) -> None:
    t = ticket_in(fast_cli, imexhs, "queued")
    doc = fast_cli.json("ticket", "respond", t, "--message", "We are on it")
    assert doc["status"] == "in_progress"
    assert kinds(doc)[-2:] == ["responded", "started"]
    assert doc["events"][-2]["data"]["message"] == "We are on it"
    assert doc["responded_at"] == NOW
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-02T15:00:00Z")
    doc = fast_cli.json("ticket", "respond", t, "-m", "Found it")
    assert kinds(doc)[-1] == "responded" and doc["status"] == "in_progress"
    assert doc["responded_at"] == NOW


def test_respond_to_a_draft_does_not_triage_it(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "draft")
    doc = fast_cli.json("ticket", "respond", t)
    assert doc["status"] == "draft" and doc["responded_at"] == NOW


def test_wait_on_customer_resumes_where_it_was(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "in_progress")
    doc = fast_cli.json("ticket", "wait", t, "--on", "customer")
    assert doc["status"] == "awaiting_customer"
    assert doc["events"][-1]["data"]["on"] == "customer"
    assert fast_cli.json("ticket", "resume", t)["status"] == "in_progress"


def test_wait_on_third_party_and_forward_both_forward(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "in_progress")
    doc = fast_cli.json("ticket", "wait", t, "--on", "third-party", "--vendor", "Siemens")
    assert doc["status"] == "forwarded"
    assert doc["events"][-1]["data"] == {"on": "third-party", "vendor": "Siemens"}
    fast_cli("ticket", "resume", t)
    doc = fast_cli.json("ticket", "forward", t, "--to", "Parts Import Ltd")
    assert (doc["status"], doc["events"][-1]["kind"]) == ("forwarded", "forwarded")
    assert doc["events"][-1]["data"]["vendor"] == "Parts Import Ltd"
    assert fast_cli.json("ticket", "resume", t)["status"] == "in_progress"


def test_resolve_then_close_then_reopen_within_the_window(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "in_progress")
    doc = fast_cli.json("ticket", "resolve", t, "--solution", "Patched the DICOM router")
    assert (doc["status"], doc["resolved_at"]) == ("awaiting_verification", NOW)
    assert doc["events"][-1]["data"]["solution"] == "Patched the DICOM router"
    doc = fast_cli.json("ticket", "close", t, "--outcome", "resolved")
    assert (doc["status"], doc["outcome"], doc["closed_at"]) == ("closed", "resolved", NOW)
    # IMEXHS reopen window: 14 days, inclusive of its last instant.
    late = snapshot()
    result = fast_cli("ticket", "reopen", t, "--at", "2026-03-16T14:00:01Z", code=1)
    assert "reopen window" in result.stderr
    assert snapshot() == late
    doc = fast_cli.json("ticket", "reopen", t, "--at", "2026-03-16T14:00:00Z")
    assert (doc["status"], doc["outcome"], doc["closed_at"]) == ("in_progress", None, None)


def test_a_ticket_closed_as_accepted_never_reopens(fast_cli, imexhs) -> None:
    from datetime import datetime

    from deskctl.domain import lifecycle
    from deskctl.services import tickets
    from deskctl.store import db

    t = ticket_in(fast_cli, imexhs, "awaiting_verification")
    at = datetime.fromisoformat("2026-03-03T10:00:00+00:00")
    with db.session(db.ready_engine(), write=True) as s:  # what the closure protocol does
        ticket, history, state = tickets.current(s, t)
        closing = lifecycle.plan_close(state, "accepted", now=at, actor="sweep", by_protocol=True)
        tickets.apply(s, ticket, history, [closing], now=at)
    before = snapshot()
    result = fast_cli("ticket", "reopen", t, "--at", "2026-03-03T11:00:00Z", code=1)
    assert "accepted" in result.stderr
    assert snapshot() == before
    fast_cli("ticket", "close", t, "--outcome", "accepted", code=1)


def test_close_as_accepted_is_the_protocols_alone(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "awaiting_verification")
    before = snapshot()
    result = fast_cli("ticket", "close", t, "--outcome", "accepted", code=1)
    assert "closure protocol" in result.stderr
    assert snapshot() == before


def test_comment_is_recorded_even_on_a_closed_ticket(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "closed")
    doc = fast_cli.json("ticket", "comment", t, "Customer called back, all fine")
    assert doc["status"] == "closed"
    assert doc["events"][-1]["kind"] == "commented"
    assert doc["events"][-1]["data"]["text"] == "Customer called back, all fine"


def test_without_json_a_move_prints_one_line_on_stderr_and_nothing_on_stdout(
    fast_cli, imexhs
) -> None:
    t = ticket_in(fast_cli, imexhs, "queued")
    result = fast_cli("ticket", "start", t)
    assert result.stdout == ""
    assert result.stderr.strip() == f"ticket {t}: queued -> in_progress [severity 2, defect]"


def test_moves_are_recorded_in_time_order(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "queued")
    before = snapshot()
    result = fast_cli("ticket", "start", t, "--at", "2026-03-02T13:00:00Z", code=2)
    assert "time order" in result.stderr
    assert snapshot() == before


def test_if_rev_refuses_a_stale_script(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "queued")
    rev = show(fast_cli, t)["rev"]
    fast_cli("ticket", "comment", t, "someone else was here")
    before = snapshot()
    result = fast_cli("ticket", "start", t, "--if-rev", rev, code=4)
    assert f"not {rev}" in result.stderr
    assert snapshot() == before
    doc = fast_cli.json("ticket", "start", t, "--if-rev", rev + 1)
    assert doc["status"] == "in_progress" and doc["rev"] == rev + 2


BAD_INPUT = [  # state of the ticket, arguments after the id, exit code, part of the message
    ("draft", ["triage", "--category", "bogus", "--severity", "2"], 2, "unknown category"),
    ("draft", ["triage", "--impact", "high"], 2, "together"),
    ("draft", ["triage", "--severity", "9"], 2, "unknown severity"),
    (
        "draft",
        ["triage", "--severity", "2", "--impact", "high", "--urgency", "low"],
        2,
        "not both",
    ),
    (
        "draft",
        ["triage", "--severity", "2", "--category", "defect", "--billable"],
        2,
        "only an out_of_scope",
    ),
    (
        "draft",
        ["triage", "--severity", "2", "--category", "defect", "--kb", "kb-x"],
        3,
        "no knowledge-base article",
    ),
    ("draft", ["triage", "--severity", "2", "--category", "misuse", "--topic", "t"], 2, "--kb"),
    ("queued", ["assign", "--to", " "], 2, "agent"),
    ("queued", ["wait", "--on", "moon"], 2, "customer or third-party"),
    ("queued", ["wait", "--on", "customer", "--vendor", "x"], 2, "vendor"),
    ("in_progress", ["forward", "--to", " "], 2, "third party"),
    ("in_progress", ["split", "--part", " "], 2, "title"),
    ("in_progress", ["resolve", "--solution", " "], 2, "solution"),
    ("in_progress", ["resolve"], 2, "--solution"),
    ("in_progress", ["close", "--outcome", "maybe"], 2, "unknown outcome"),
    ("in_progress", ["close"], 2, "--outcome"),
    ("in_progress", ["redirect", "--kb", "nope"], 3, "no knowledge-base article"),
    ("in_progress", ["comment", " "], 2, "text"),
    ("in_progress", ["update"], 2, "nothing to update"),
    ("in_progress", ["update", "--product", "nope"], 3, "nope"),
    ("in_progress", ["start", "--at", "yesterday"], 2, "ISO-8601"),
    ("in_progress", ["start", "--if-rev", "-1"], 2, "if-rev"),
    ("draft", ["triage", "--impact", "huge", "--urgency", "low"], 2, "not a level"),
    ("queued", ["respond", "--at", "noon"], 2, "ISO-8601"),
    ("queued", ["approve", "--at", "2026-03-02T15:00:00"], 2, "UTC offset"),
    ("queued", ["decline", "--if-rev", "x"], 2, "if-rev"),
    ("closed", ["reopen", "--at", "x"], 2, "ISO-8601"),
]


def test_bad_input_exits_with_its_code_and_writes_nothing(fast_cli, imexhs) -> None:
    states = {state: ticket_in(fast_cli, imexhs, state) for state in {c[0] for c in BAD_INPUT}}
    before = snapshot()
    for state, args, code, message in BAD_INPUT:
        result = fast_cli("ticket", args[0], states[state], *args[1:], code=code)
        assert message.lower() in result.stderr.lower(), (args, result.stderr)
        if result.stderr.startswith("deskctl:"):  # click's own usage errors are multi-line
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert snapshot() == before, args


def test_an_unknown_ticket_is_not_found(fast_cli, imexhs) -> None:
    for args in (["start"], ["close", "--outcome", "resolved"], ["comment", "hi"]):
        result = fast_cli("ticket", args[0], 999, *args[1:], code=3)
        assert result.stderr.strip() == "deskctl: no ticket 999"
