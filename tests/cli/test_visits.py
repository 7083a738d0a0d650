"""`ticket onsite` and `ticket report` end to end: they start and stop the SLA metrics."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli.test_flow import seeded
from tests.conftest import EXAMPLES
from tests.factory import open_ticket, seed_imexhs

# Monday 2026-06-08 in Amman (UTC+3): the desk is open Sun-Thu 08:00-16:00.
OPENED = "2026-06-08T08:30:00+03:00"
REQUESTED = "2026-06-08T09:00:00+03:00"
LATER = "2026-06-20T12:00:00Z"  # DESKCTL_NOW for reading: after every event


def seed_progresssoft_visits(cli: Any) -> dict[str, str]:
    cli("init", "--policy", str(EXAMPLES / "progresssoft.toml"))
    cli("customer", "add", "bank", "--name", "Arab Bank", "--country", "JO")
    cli("contact", "add", "bank", "ops@bank.example", "--name", "Ops", "--named")
    cli("product", "add", "ecc", "--current", "3.0")
    cli("contract", "add", "bank", "--plan", "assistance", "--start", "2026-01-01",
        "--end", "2026-12-31", "--product", "ecc")  # fmt: skip
    return {"customer": "bank", "contact": "ops@bank.example"}


@pytest.fixture
def critical(cli, tmp_path_factory, monkeypatch) -> int:
    """A critical ProgressSoft ticket with every required intake field, triaged."""
    seeded(cli, seed_progresssoft_visits, tmp_path_factory, monkeypatch)
    tid = int(cli("ticket", "open", "--customer", "bank", "--contact", "ops@bank.example",
                  "--title", "Cheque clearing stopped", "--channel", "phone", "--product", "ecc",
                  "--version", "3.0", "--server", "RHEL 9", "--os", "Windows 11",
                  "--hardware", "Dell R750", "--task", "clearing", "--error", "ORA-00600",
                  "--at", OPENED).stdout)  # fmt: skip
    cli("ticket", "triage", tid, "--severity", "critical", "--at", OPENED)
    monkeypatch.setenv("DESKCTL_NOW", LATER)
    return tid


def show(cli, tid: int) -> dict[str, Any]:
    return cli.json("ticket", "show", str(tid))


@pytest.mark.parametrize(
    "arrived, state",
    [
        ("2026-06-08T11:00:00+03:00", "met"),  # 2 h after the request
        ("2026-06-08T12:30:00+03:00", "late"),  # 3 h 30: past the 3 h goal, within 4 h
        ("2026-06-08T13:30:00+03:00", "breached"),  # 4 h 30: past the 4 h limit
    ],
)
def test_progresssoft_onsite_three_to_four_hours(cli, critical, arrived, state) -> None:
    assert show(cli, critical)["sla"]["onsite"]["state"] == "not_requested"
    cli("ticket", "onsite", critical, "--request", "--note", "server room", "--at", REQUESTED)
    doc = cli.json("ticket", "onsite", critical, "--arrived", "--at", arrived, "--json")
    assert doc["sla"]["onsite"]["state"] == state
    assert show(cli, critical)["sla"]["onsite"]["state"] == state
    kinds = [e["kind"] for e in show(cli, critical)["events"]][-2:]
    assert kinds == ["onsite_requested", "onsite_arrived"]


@pytest.mark.parametrize(
    "delivered, state",
    [
        ("2026-06-11T17:00:00-05:00", "met"),  # 28 business hours after the request
        # Mon 15 June is a holiday in Colombia; 72 business hours end Fri 19 June 11:00
        ("2026-06-25T09:00:00-05:00", "breached"),
    ],
)
def test_imexhs_report_within_72_business_hours(
    cli, tmp_path_factory, monkeypatch, delivered, state
) -> None:
    imexhs = seeded(cli, seed_imexhs, tmp_path_factory, monkeypatch)
    tuesday = "2026-06-09T09:00:00-05:00"  # Tuesday 09:00 in Bogota
    tid = open_ticket(cli, imexhs, "monthly report", at=tuesday)
    cli("ticket", "triage", tid, "--severity", "2", "--at", tuesday)
    assert show(cli, tid)["sla"]["report"]["state"] == "not_requested"
    cli("ticket", "report", tid, "--request", "--what", "uptime June", "--at", tuesday)
    monkeypatch.setenv("DESKCTL_NOW", "2026-06-10T12:00:00Z")
    assert show(cli, tid)["sla"]["report"]["state"] == "running"
    cli("ticket", "report", tid, "--delivered", "--at", delivered)
    monkeypatch.setenv("DESKCTL_NOW", LATER)
    doc = show(cli, tid)
    assert doc["sla"]["report"]["state"] == state
    requested = next(e for e in doc["events"] if e["kind"] == "report_requested")
    assert "uptime June" in str(requested)


def _events(cli, tid: int) -> list[dict[str, Any]]:
    return show(cli, tid)["events"]


@pytest.mark.parametrize(
    "args, code",
    [
        (("onsite", "--arrived"), 1),  # no open request
        (("report", "--delivered"), 1),
        (("onsite",), 2),  # neither flag
        (("onsite", "--request", "--arrived"), 2),  # both
        (("report", "--delivered", "--what", "x"), 2),
    ],
)
def test_refusals_write_nothing(cli, critical, args, code) -> None:
    before = _events(cli, critical)
    cli("ticket", args[0], critical, *args[1:], "--at", REQUESTED, code=code)
    assert _events(cli, critical) == before


@pytest.mark.parametrize("command, done", [("onsite", "--arrived"), ("report", "--delivered")])
def test_second_request_refused_while_open(cli, critical, command, done) -> None:
    cli("ticket", command, critical, "--request", "--at", REQUESTED)
    before = _events(cli, critical)
    result = cli("ticket", command, critical, "--request", "--at", REQUESTED, code=1)
    assert "already requested" in result.stderr
    assert _events(cli, critical) == before
    cli("ticket", command, critical, done, "--at", "2026-06-08T10:00:00+03:00")
    cli("ticket", command, critical, "--request", "--at", "2026-06-08T11:00:00+03:00")


@pytest.mark.parametrize("command, done", [("onsite", "--arrived"), ("report", "--delivered")])
def test_closed_ticket_refused(cli, critical, command, done) -> None:
    cli("ticket", command, critical, "--request", "--at", REQUESTED)
    cli("ticket", "close", critical, "--outcome", "resolved", "--reason", "fixed remotely",
        "--at", "2026-06-08T10:00:00+03:00")  # fmt: skip
    before = _events(cli, critical)
    for flag in ("--request", done):
        cli("ticket", command, critical, flag, "--at", "2026-06-08T11:00:00+03:00", code=1)
    assert _events(cli, critical) == before


def test_unknown_ticket_is_not_found(cli, critical) -> None:
    cli("ticket", "onsite", "999", "--request", code=3)


def test_a_visit_nobody_asked_for_reads_not_requested(cli, critical) -> None:
    """Text views say "not requested" with no deadline; only a request starts the clock."""
    shown = cli("ticket", "show", str(critical)).stdout
    assert "sla onsite: not requested\n" in shown
    status = cli("sla", "status", str(critical)).stdout
    assert "onsite not requested" in status and "never requested" in status
    doc = cli.json("sla", "status", str(critical))
    assert doc["state"] == doc["metrics"]["response"]["state"]  # the response decides
    cli("ticket", "onsite", str(critical), "--request", "--at", LATER)
    assert show(cli, critical)["sla"]["onsite"]["state"] != "not_requested"
    assert "sla onsite: not requested" not in cli("ticket", "show", str(critical)).stdout
