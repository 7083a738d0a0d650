"""`ticket confirm | reject-solution | contact`: the customer's answer ends the protocol;
contact attempts are recorded; a ticket closed as accepted never reopens."""

from __future__ import annotations

import pytest

from tests.cli.test_sweep import (
    MONDAY_10,
    bog,
    history,
    new_verifying,
    prepare,
    resolve,
    split_child,
    steps_of,
    sweep_at,
    table,
    ticket_doc,
    z,
)


def test_confirm_closes_resolved_and_stops_the_protocol(cli, monkeypatch) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    sweep_at(cli, monkeypatch, bog("2026-03-09 10:00"))
    doc = cli.json(
        "ticket",
        "confirm",
        str(tid),
        "--note",
        "works now",
        "--at",
        bog("2026-03-09 11:30").isoformat(),
    )
    assert (doc["status"], doc["outcome"]) == ("closed", "resolved")
    assert doc["closed_at"] == z("2026-03-09 11:30")
    last = history(tid)[-1]
    assert (last.kind, last.data["note"]) == ("confirmed", "works now")
    assert sweep_at(cli, monkeypatch, bog("2026-03-16 09:00"))["actions"] == []


def test_confirming_the_last_sub_ticket_resumes_the_parent(cli, isolated) -> None:
    seed = prepare(cli)
    parent, child = split_child(cli, seed, isolated / "att")
    resolve(child, bog(MONDAY_10))
    cli("ticket", "confirm", str(child), "--at", bog("2026-03-09 12:00").isoformat())
    assert ticket_doc(cli, parent)["status"] == "in_progress"
    assert [e.kind for e in history(parent)[-2:]] == ["child_closed", "resumed"]


def test_confirm_without_json_says_so_on_stderr(cli, monkeypatch) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    monkeypatch.setenv("DESKCTL_NOW", bog("2026-03-09 11:00").isoformat())
    result = cli("ticket", "confirm", str(tid))
    assert result.stdout == ""
    assert "closed resolved" in result.stderr


def test_reject_solution_goes_back_to_work_and_a_new_resolution_starts_round_2(
    cli, monkeypatch
) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    sweep_at(cli, monkeypatch, bog("2026-03-09 13:30"))  # contact and first call done
    doc = cli.json(
        "ticket",
        "reject-solution",
        str(tid),
        "--note",
        "still hangs",
        "--at",
        bog("2026-03-09 14:00").isoformat(),
    )
    assert (doc["status"], doc["resolved_at"]) == ("in_progress", None)
    assert sweep_at(cli, monkeypatch, bog("2026-03-16 09:00"))["actions"] == []

    resolve(tid, bog("2026-03-16 10:00"))
    again = sweep_at(cli, monkeypatch, bog("2026-03-16 13:00"))
    assert [(a["action"], a["key"]) for a in again["actions"]] == [
        ("contact", f"protocol:{tid}:2:0"),
        ("call", f"protocol:{tid}:2:1"),
    ]


@pytest.mark.parametrize("command", ["confirm", "reject-solution"])
def test_an_answer_needs_a_ticket_awaiting_verification(cli, command) -> None:
    seed = prepare(cli)
    from tests.factory import open_ticket

    tid = open_ticket(cli, seed, "Not resolved yet")
    before = len(history(tid))
    result = cli("ticket", command, str(tid), code=1)
    assert "only a ticket awaiting verification" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(history(tid)) == before
    missing = cli("ticket", command, "999", code=3)
    assert missing.stderr.strip() == "deskctl: no ticket 999"


def test_contact_attempts_are_recorded_with_channel_and_outcome(cli, monkeypatch) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    cli(
        "ticket",
        "contact",
        str(tid),
        "--via",
        "phone",
        "--outcome",
        "no-answer",
        "--at",
        bog("2026-03-09 13:05").isoformat(),
    )
    doc = cli.json(
        "ticket",
        "contact",
        str(tid),
        "--via",
        "email",
        "--outcome",
        "reached",
        "--note",
        "will test tomorrow",
        "--at",
        bog("2026-03-09 13:10").isoformat(),
    )
    assert doc["status"] == "awaiting_verification"
    attempts = [e for e in history(tid) if e.kind == "contact_attempt"]
    assert [(e.at, e.data["via"], e.data["outcome"]) for e in attempts] == [
        (bog("2026-03-09 13:05"), "phone", "no-answer"),
        (bog("2026-03-09 13:10"), "email", "reached"),
    ]
    assert attempts[1].data["note"] == "will test tomorrow"
    assert attempts[0].actor == "tester"
    # a contact attempt is not the customer's answer: the protocol keeps running
    doc = sweep_at(cli, monkeypatch, bog("2026-03-09 16:00"))
    assert [a for a, _ in steps_of(doc["actions"])] == ["contact", "call", "call"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--via", "fax", "--outcome", "reached"], "--via: 'fax' is not one of phone, email"),
        (
            ["--via", "phone", "--outcome", "maybe"],
            "--outcome: 'maybe' is not one of no-answer, reached",
        ),
        (
            ["--via", "phone", "--outcome", "reached", "--at", "yesterday"],
            "--at: not an ISO-8601 instant: 'yesterday'",
        ),
    ],
)
def test_contact_bad_input_exits_2_and_writes_nothing(cli, args, message) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    before = len(history(tid))
    result = cli("ticket", "contact", str(tid), *args, code=2)
    assert result.stderr.strip() == f"deskctl: {message}"
    assert len(history(tid)) == before


def test_contact_on_a_closed_ticket_is_refused(cli, monkeypatch) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    cli("ticket", "confirm", str(tid), "--at", bog("2026-03-09 11:00").isoformat())
    result = cli("ticket", "contact", str(tid), "--via", "phone", "--outcome", "reached", code=1)
    assert "closed" in result.stderr
    assert table("sweep_step") == []


def test_a_ticket_closed_as_accepted_cannot_be_reopened(cli, monkeypatch) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    sweep_at(cli, monkeypatch, bog("2026-03-12 13:00"))
    assert ticket_doc(cli, tid)["outcome"] == "accepted"
    before = len(history(tid))
    result = cli("ticket", "reopen", str(tid), "--at", bog("2026-03-12 13:05").isoformat(), code=1)
    assert "open a new ticket" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(history(tid)) == before
    assert ticket_doc(cli, tid)["status"] == "closed"
