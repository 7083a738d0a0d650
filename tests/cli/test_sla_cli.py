"""SLA end to end through the CLI: seed scenarios of docs/rules.md §2/§5 under DESKCTL_NOW.

Lifecycle changes go through the `ticket` commands with --at. On-site visits have
no command yet: those events are recorded the way a command would record them,
through ``services.tickets.current/apply`` in one write transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.cli.test_flow import seeded
from tests.conftest import EXAMPLES
from tests.factory import open_ticket, seed_imexhs, seed_medisoft

ACTOR = "tester"


def act(ticket_id: int, at: str, build: Callable[[Any, Any, Any], Any]) -> None:
    """Record what ``build(state, policy, now)`` returns on the ticket, at ``at``."""
    from deskctl import clock
    from deskctl.services import tickets as svc
    from deskctl.store import db

    now = clock.parse_instant(at)
    with db.session(db.ready_engine(), write=True) as s:
        ticket, history, state = svc.current(s, ticket_id)
        policy = svc.policy_of(s, ticket)
        new = build(state, policy, now)
        svc.apply(s, ticket, history, new if isinstance(new, list) else [new], now=now,
                  policy=policy)  # fmt: skip


def event(kind: str) -> Callable[[Any, Any, Any], Any]:
    from deskctl.domain.events import Event

    return lambda st, p, now: Event(seq=st.version + 1, at=now, kind=kind, actor=ACTOR)


def sla(cli, ticket_id: int, now: str, monkeypatch) -> dict[str, Any]:
    monkeypatch.setenv("DESKCTL_NOW", now)
    return cli.json("sla", "status", str(ticket_id))


@pytest.fixture
def medisoft(cli, tmp_path_factory, monkeypatch) -> dict[str, str]:
    return seeded(cli, seed_medisoft, tmp_path_factory, monkeypatch)


@pytest.fixture
def imexhs(cli, tmp_path_factory, monkeypatch) -> dict[str, str]:
    return seeded(cli, seed_imexhs, tmp_path_factory, monkeypatch)


# -- Medisoft (seed 000): high = response within 8 business hours ---------------------------

OPENED = "2026-03-05T16:00:00-03:00"  # Thursday 16:00 in São Paulo; due Friday 16:30


def _medisoft_high(cli, seed: dict[str, str]) -> int:
    tid = open_ticket(cli, seed, at=OPENED)
    cli("ticket", "triage", tid, "--severity", "high", "--at", OPENED)
    return tid


def test_medisoft_high_answered_at_the_deadline_is_met(cli, medisoft, monkeypatch) -> None:
    tid = _medisoft_high(cli, medisoft)
    doc = sla(cli, tid, "2026-03-06T10:00:00-03:00", monkeypatch)
    response = doc["metrics"]["response"]
    assert response["state"] == "running"
    assert (
        response["due_at"]
        == response["goal_at"]
        == response["limit_at"]
        == ("2026-03-06T19:30:00Z")
    )
    assert response["due_local"] == "2026-03-06T16:30:00-03:00"
    assert response["elapsed_seconds"] == 3 * 3600  # Thu 16:00-17:30, Fri 08:30-10:00
    assert response["remaining_seconds"] == 5 * 3600
    cli("ticket", "respond", tid, "--at", "2026-03-06T16:30:00-03:00")
    doc = sla(cli, tid, "2026-03-09T12:00:00Z", monkeypatch)
    assert doc["state"] == "met" and doc["metrics"]["response"]["state"] == "met"
    assert doc["metrics"]["response"]["stopped_at"] == "2026-03-06T19:30:00Z"


def test_medisoft_high_answered_a_minute_late_is_breached(cli, medisoft, monkeypatch) -> None:
    tid = _medisoft_high(cli, medisoft)
    cli("ticket", "respond", tid, "--at", "2026-03-06T16:31:00-03:00")
    doc = sla(cli, tid, "2026-03-06T17:00:00-03:00", monkeypatch)
    assert doc["metrics"]["response"]["state"] == "breached"
    shown = cli.json("ticket", "show", str(tid))
    assert shown["sla"]["response"]["state"] == "breached"


def test_medisoft_unanswered_turns_at_risk_then_breached(cli, medisoft, monkeypatch) -> None:
    tid = _medisoft_high(cli, medisoft)
    # 25 % of 8 h = 2 h: at risk once less than 2 business hours are left (Fri 14:30)
    assert sla(cli, tid, "2026-03-06T14:00:00-03:00", monkeypatch)["state"] == "running"
    assert sla(cli, tid, "2026-03-06T14:31:00-03:00", monkeypatch)["state"] == "at_risk"
    late = sla(cli, tid, "2026-03-06T16:30:01-03:00", monkeypatch)
    assert late["state"] == "breached"
    assert late["metrics"]["response"]["remaining_seconds"] < 0


def test_ticket_show_json_sla_shape(cli, medisoft, monkeypatch) -> None:
    tid = _medisoft_high(cli, medisoft)
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-06T10:00:00-03:00")
    response = cli.json("ticket", "show", str(tid))["sla"]["response"]
    assert {"state", "due_at", "goal_at", "limit_at", "elapsed_seconds",
            "remaining_seconds"} <= set(response)  # fmt: skip
    assert response["due_at"].endswith("Z")
    assert isinstance(response["elapsed_seconds"], int)


def test_sla_columns_follow_every_change_and_refresh(cli, medisoft, monkeypatch) -> None:
    _medisoft_high(cli, medisoft)
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-06T10:00:00-03:00")
    row = cli.json("ticket", "list")[0]
    assert row["sla_state"] == "running" and row["sla_due_at"] == "2026-03-06T19:30:00Z"
    # time passes with no change: the row says what it said until a refresh
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-06T17:00:00-03:00")
    assert cli.json("ticket", "list")[0]["sla_state"] == "running"
    assert cli.json("sla", "refresh") == {"refreshed": 1, "at": "2026-03-06T20:00:00Z"}
    assert cli.json("ticket", "list")[0]["sla_state"] == "breached"


def test_untriaged_medisoft_ticket_has_no_deadline_yet(cli, medisoft, monkeypatch) -> None:
    tid = open_ticket(cli, medisoft, at=OPENED)
    doc = sla(cli, tid, "2026-03-06T10:00:00-03:00", monkeypatch)
    assert doc["metrics"]["response"]["state"] == "pending"
    assert doc["metrics"]["response"]["due_at"] is None
    assert cli.json("ticket", "list")[0]["sla_due_at"] is None


def test_ticket_without_contract_plan_has_no_sla(cli, medisoft, monkeypatch) -> None:
    cli("agent", "add", "tester", "--role", "manager")  # may open without a contract
    cli("customer", "add", "walkin", "--name", "Walk-in", "--country", "BR")
    cli("contact", "add", "walkin", "x@walkin.example", "--name", "X")
    tid = int(cli("ticket", "open", "--contact", "x@walkin.example", "--title", "help",
                  "--override", "walk-in customer", "--at", OPENED).stdout)  # fmt: skip
    doc = sla(cli, tid, "2026-03-06T10:00:00-03:00", monkeypatch)
    assert doc["metrics"] == {} and doc["state"] is None and doc["plan"] is None
    assert cli.json("ticket", "show", str(tid))["sla"] == {}
    assert "no SLA applies" in cli("sla", "status", str(tid)).stdout


def test_sla_status_plain_and_unknown_ticket(cli, medisoft, monkeypatch) -> None:
    tid = _medisoft_high(cli, medisoft)
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-06T10:00:00-03:00")
    out = cli("sla", "status", str(tid)).stdout
    assert "response" in out and "running" in out
    assert "Fri 2026-03-06 16:30 -0300" in out and "2026-03-06T19:30:00Z" in out
    missing = cli("sla", "status", "999", code=3)
    assert missing.stdout == "" and len(missing.stderr.strip().splitlines()) == 1


# -- IMEXHS (seed 001): Sev 1 response 5-9 business hours, clock from complete information ---

MON_0800 = "2026-03-09T08:00:00-05:00"  # Monday 08:00 in Bogotá; the desk opens 08:00-18:00


def _imexhs_incomplete(cli, seed: dict[str, str]) -> int:
    """A ticket opened Monday 08:00 without a description (IMEXHS requires one)."""
    tid = int(cli("ticket", "open", "--customer", seed["customer"], "--contact", seed["contact"],
                  "--title", "PACS down", "--product", seed["product"], "--version", "4.1",
                  "--at", MON_0800).stdout)  # fmt: skip
    return tid


def _complete_and_triage(cli, tid: int, at: str = "2026-03-09T09:00:00-05:00") -> None:
    cli("ticket", "update", tid, "--description", "all images fail to load", "--at", at)
    cli("ticket", "triage", tid, "--impact", "high", "--urgency", "high", "--at", at)  # Sev 1


def test_imexhs_clock_waits_for_complete_information(cli, imexhs, monkeypatch) -> None:
    tid = _imexhs_incomplete(cli, imexhs)
    before = sla(cli, tid, "2026-03-09T08:59:00-05:00", monkeypatch)["metrics"]["response"]
    assert before["state"] == "pending" and before["due_at"] is None
    _complete_and_triage(cli, tid)
    after = sla(cli, tid, "2026-03-09T10:00:00-05:00", monkeypatch)["metrics"]["response"]
    assert after["started_at"] == "2026-03-09T14:00:00Z"  # 09:00 Bogotá
    assert after["goal_at"] == "2026-03-09T19:00:00Z"  # +5 h: 14:00 local
    assert after["limit_at"] == after["due_at"] == "2026-03-09T23:00:00Z"  # +9 h: 18:00
    assert after["elapsed_seconds"] == 3600


@pytest.mark.parametrize(
    "answered, state",
    [
        ("2026-03-09T13:00:00-05:00", "met"),  # 4 h after the clock started
        ("2026-03-09T15:00:00-05:00", "late"),  # 6 h: past the goal, within the limit
        ("2026-03-10T09:00:00-05:00", "breached"),  # 10 business hours: Tuesday 09:00
    ],
)
def test_imexhs_range_target_met_late_breached(cli, imexhs, monkeypatch, answered, state) -> None:
    tid = _imexhs_incomplete(cli, imexhs)
    _complete_and_triage(cli, tid)
    cli("ticket", "respond", tid, "--at", answered)
    doc = sla(cli, tid, "2026-03-11T12:00:00Z", monkeypatch)
    assert doc["metrics"]["response"]["state"] == state
    assert doc["metrics"]["report"]["state"] == "pending"  # no report was requested...
    assert doc["state"] == state  # ...so the ticket's SLA is its response's


@pytest.mark.parametrize(
    "wait, paused_status",
    [(["forward", "--to", "Siemens"], "forwarded"), (["wait", "--on", "customer"],
                                                     "awaiting_customer")],
)  # fmt: skip
def test_imexhs_clock_pauses_while_waiting(cli, imexhs, monkeypatch, wait, paused_status) -> None:
    tid = open_ticket(cli, imexhs, "PACS down", at=MON_0800)  # complete: clock starts at once
    cli("ticket", "triage", tid, "--severity", "1", "--at", MON_0800)
    cli("ticket", "start", tid, "--at", MON_0800)
    cli("ticket", wait[0], tid, *wait[1:], "--at", "2026-03-09T10:00:00-05:00")
    waiting = sla(cli, tid, "2026-03-10T09:00:00-05:00", monkeypatch)
    assert cli.json("ticket", "show", str(tid))["status"] == paused_status
    assert waiting["metrics"]["response"]["state"] == "paused"
    assert waiting["metrics"]["response"]["elapsed_seconds"] == 2 * 3600
    cli("ticket", "resume", tid, "--at", "2026-03-10T10:00:00-05:00")
    # 2 h on Monday and 2 h on Tuesday: 4 h used although 26 h went by
    cli("ticket", "respond", tid, "--at", "2026-03-10T12:00:00-05:00")
    done = sla(cli, tid, "2026-03-10T12:00:00-05:00", monkeypatch)["metrics"]["response"]
    assert done["state"] == "met" and done["elapsed_seconds"] == 4 * 3600


def test_report_counts_optional_metrics_only_when_requested(cli, imexhs, monkeypatch) -> None:
    from deskctl.domain.events import REPORT_REQUESTED

    plain = open_ticket(cli, imexhs, "no report", at=MON_0800)
    asked = open_ticket(cli, imexhs, "report asked", at=MON_0800)
    for tid in (plain, asked):
        cli("ticket", "triage", tid, "--severity", "2", "--at", MON_0800)
        cli("ticket", "respond", tid, "--at", "2026-03-09T10:00:00-05:00")
    act(asked, "2026-03-09T11:00:00-05:00", event(REPORT_REQUESTED))
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-10T12:00:00Z")
    doc = cli.json("sla", "report", "--from", "2026-03-09", "--to", "2026-03-09")
    assert doc["totals"]["metrics"]["response"]["met"] == 2
    report = doc["totals"]["metrics"]["report"]
    assert (report["running"], report["pending"]) == (1, 0)
    rows = {t["id"]: t for t in doc["tickets"]}
    assert set(rows[plain]["metrics"]) == {"response"} and rows[plain]["state"] == "met"
    assert rows[asked]["state"] == "running"


# -- ProgressSoft (seed 004): critical on site within 3-4 business hours ---------------------

SUN_0900 = "2026-03-08T09:00:00+03:00"  # Sunday 09:00 in Amman; the desk opens Sun-Thu 08-16


def seed_progresssoft(cli) -> dict[str, str]:
    cli("init", "--policy", str(EXAMPLES / "progresssoft.toml"))
    cli("customer", "add", "bank", "--name", "Arab Bank", "--country", "JO")
    cli("contact", "add", "bank", "ops@bank.example", "--name", "Ops", "--named")
    cli("product", "add", "ecc", "--current", "3.0")
    cli("contract", "add", "bank", "--plan", "assistance", "--start", "2026-01-01",
        "--product", "ecc")  # fmt: skip
    return {"customer": "bank", "contact": "ops@bank.example"}


def _progresssoft_critical(cli, tmp_path_factory, monkeypatch) -> int:
    seeded(cli, seed_progresssoft, tmp_path_factory, monkeypatch)
    tid = int(cli("ticket", "open", "--customer", "bank", "--contact", "ops@bank.example",
                  "--title", "Cheque clearing stopped", "--channel", "phone", "--product", "ecc",
                  "--version", "3.0",
                  "--server", "RHEL 9 / Oracle 19c", "--os", "Windows 11", "--hardware",
                  "Dell R750", "--task", "clearing", "--error", "ORA-00600",
                  "--at", SUN_0900).stdout)  # fmt: skip
    cli("ticket", "triage", tid, "--severity", "critical", "--at", SUN_0900)
    cli("ticket", "respond", tid, "--at", SUN_0900)
    return tid


@pytest.mark.parametrize(
    "arrived, state",
    [
        ("2026-03-08T12:00:00+03:00", "met"),  # 2 h after the request
        ("2026-03-08T13:30:00+03:00", "late"),  # 3.5 h: past 3 h, within 4 h
        ("2026-03-09T08:30:00+03:00", "breached"),  # 6.5 business hours (Monday)
    ],
)
def test_progresssoft_onsite_started_by_request(
    cli, tmp_path_factory, monkeypatch, arrived, state
) -> None:
    from deskctl.domain.events import ONSITE_ARRIVED, ONSITE_REQUESTED

    tid = _progresssoft_critical(cli, tmp_path_factory, monkeypatch)
    idle = sla(cli, tid, "2026-03-08T10:00:00+03:00", monkeypatch)["metrics"]
    assert idle["onsite"]["state"] == "pending" and idle["response"]["state"] == "met"
    assert cli.json("ticket", "list")[0]["sla_state"] == "met"  # no visit asked for yet
    act(tid, "2026-03-08T10:00:00+03:00", event(ONSITE_REQUESTED))
    running = sla(cli, tid, "2026-03-08T11:00:00+03:00", monkeypatch)["metrics"]["onsite"]
    assert running["state"] == "running"
    assert running["goal_at"] == "2026-03-08T10:00:00Z"  # 13:00 Amman
    assert running["due_at"] == "2026-03-08T11:00:00Z"  # 14:00 Amman
    act(tid, arrived, event(ONSITE_ARRIVED))
    assert sla(cli, tid, "2026-03-10T12:00:00Z", monkeypatch)["metrics"]["onsite"]["state"] == state


# -- ticket list: countdown column and --sort sla ---------------------------------------------


def test_ticket_list_countdown_and_sort_by_deadline(cli, medisoft, monkeypatch) -> None:
    low = open_ticket(cli, medisoft, "low one", at=OPENED)
    cli("ticket", "triage", low, "--severity", "low", "--at", OPENED)
    high = open_ticket(cli, medisoft, "high one", at=OPENED)
    cli("ticket", "triage", high, "--severity", "high", "--at", OPENED)
    untriaged = open_ticket(cli, medisoft, "not triaged", at=OPENED)
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-06T14:30:00-03:00")
    ids = [int(line) for line in cli("ticket", "list", "--sort", "sla", "-q").stdout.split()]
    assert ids == [high, low, untriaged]
    assert [int(x) for x in cli("ticket", "list", "-q").stdout.split()] == [untriaged, high, low]
    lines = {int(line.split("\t")[0]): line.split("\t") for line in
             cli("ticket", "list").stdout.splitlines()}  # fmt: skip
    assert lines[high][3] == "2h00m"  # due Fri 16:30, wall clock 2 h away
    assert lines[untriaged][3] == ""
    assert "[" not in cli("ticket", "list").stdout  # no markup when piped
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-06T17:00:00-03:00")
    lines = {int(line.split("\t")[0]): line.split("\t") for line in
             cli("ticket", "list").stdout.splitlines()}  # fmt: skip
    assert lines[high][3] == "-30m"  # past due before any refresh
    cli("sla", "refresh")
    lines = {int(line.split("\t")[0]): line.split("\t") for line in
             cli("ticket", "list").stdout.splitlines()}  # fmt: skip
    assert lines[high][3] == "breached"
    cli("ticket", "list", "--sort", "due", code=2)


def test_countdown_cells() -> None:
    from datetime import UTC, datetime, timedelta

    from deskctl.render.tickets import countdown

    now = datetime(2026, 3, 6, 12, tzinfo=UTC)
    assert countdown("running", now + timedelta(days=2, hours=3), now) == ("2d03h", None)
    assert countdown("at_risk", now + timedelta(minutes=45), now) == ("45m", "yellow")
    assert countdown("late", now + timedelta(hours=1), now)[1] == "magenta"
    assert countdown("running", now - timedelta(minutes=5), now) == ("-5m", "bold red")
    assert countdown("breached", None, now) == ("breached", "bold red")
    assert countdown("paused", now + timedelta(hours=3), now)[0] == "paused 3h00m"
    assert countdown(None, None, now) == ("", None)
