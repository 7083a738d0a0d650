"""`ticket log` and `ticket worklog`: entries are events, never edited; corrections are entries."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli.test_billing_cli import DMS, NOW, log, open_dms, seeded
from tests.factory import seed_dms


@pytest.fixture
def dms(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: Any) -> dict:
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    seeded(cli, "dms", seed_dms, tmp_path_factory)
    return dict(DMS)


def worklog(cli: Any, ticket: int) -> dict:
    return cli.json("ticket", "worklog", ticket)


def events(cli: Any, ticket: int) -> list[dict]:
    return [e for e in cli.json("ticket", "show", ticket)["events"] if e["kind"] == "worklog"]


def test_durations_add_up_and_each_entry_is_an_event(cli, dms) -> None:
    ticket = open_dms(cli, dms)
    log(cli, ticket, "25m", "--note", "index rebuild")
    log(cli, ticket, "1h10m", "--kind", "onsite")
    log(cli, ticket, "25")  # bare minutes
    doc = worklog(cli, ticket)
    assert [(e["minutes"], e["kind"]) for e in doc["entries"]] == [
        (25, "connection"),
        (70, "onsite"),
        (25, "connection"),
    ]
    assert doc["total_minutes"] == 120
    assert doc["uninvoiced_minutes"] == 120
    assert doc["by_kind"] == {"connection": 50, "onsite": 70}
    assert doc["entries"][0]["note"] == "index rebuild"
    assert {e["actor"] for e in doc["entries"]} == {"tester"}
    history = {e["seq"]: e for e in events(cli, ticket)}
    for entry in doc["entries"]:
        event = history[entry["seq"]]
        assert event["data"]["minutes"] == entry["minutes"]
        assert event["data"].get("kind", "connection") == entry["kind"]
        assert event["at"] == entry["at"]


def test_log_json_reports_the_entry_and_total(cli, dms) -> None:
    ticket = open_dms(cli, dms)
    log(cli, ticket, "20m")
    doc = cli.json("ticket", "log", ticket, "15m", "--at", "2026-03-03T10:00:00+01:00")
    assert (doc["ticket"], doc["minutes"], doc["kind"], doc["invoice"]) == (
        ticket,
        15,
        "connection",
        None,
    )
    assert doc["at"] == "2026-03-03T09:00:00Z"
    assert doc["total_minutes"] == 35


def test_a_correction_is_a_negative_entry_with_a_reason(cli, dms) -> None:
    ticket = open_dms(cli, dms)
    log(cli, ticket, "40m")
    log(cli, ticket, "-10m", "--reason", "counted the wait on hold")
    doc = worklog(cli, ticket)
    assert [e["minutes"] for e in doc["entries"]] == [40, -10]
    assert doc["total_minutes"] == 30
    assert "counted the wait on hold" in doc["entries"][1]["note"]
    assert events(cli, ticket)[-1]["data"]["reason"] == "counted the wait on hold"


@pytest.mark.parametrize(
    "args, message",
    [
        (["-10m"], "--reason"),  # a correction must say why
        (["-10m", "--reason", "   "], "--reason"),
        (["-41m", "--reason", "typo"], "exceeds"),  # more than was logged
        (["-5m", "--reason", "typo", "--kind", "recovery"], "recovery"),  # none of that kind
        (["15m", "--reason", "why"], "corrections only"),
        (["0"], "zero"),
        (["0m"], "zero"),
        (["90s"], "whole number of minutes"),
        (["ten"], "DURATION"),
        (["--bogus"], "DURATION"),
        (["25h"], "24h"),
        (["15m", "--kind", "coffee"], "--kind"),
        (["15m", "--at", "last tuesday"], "--at"),
        (["15m", "--at", "2026-03-02T10:00:00"], "offset"),
    ],
)
def test_bad_entries_are_refused_and_write_nothing(cli, dms, args, message) -> None:
    ticket = open_dms(cli, dms)
    log(cli, ticket, "40m")
    before = cli.json("ticket", "show", ticket)["rev"]
    result = cli("ticket", "log", ticket, *args, code=2)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    assert worklog(cli, ticket)["total_minutes"] == 40
    assert cli.json("ticket", "show", ticket)["rev"] == before


def test_unknown_ticket(cli, dms) -> None:
    assert "999" in cli("ticket", "log", 999, "10m", code=3).stderr
    cli("ticket", "worklog", 999, code=3)


def test_worklog_csv_and_text(cli, dms) -> None:
    ticket = open_dms(cli, dms)
    log(cli, ticket, "1h5m", "--note", "call, then remote session")
    rows = cli("ticket", "worklog", ticket, "--csv").stdout.splitlines()
    assert rows[0] == "at,minutes,kind,actor,invoice,note"
    assert rows[1] == '2026-03-02T09:00:00Z,65,connection,tester,,"call, then remote session"'
    text = cli("ticket", "worklog", ticket).stdout  # tab-separated when piped
    assert text.split("\t")[1] == "65"
    empty = open_dms(cli, dms, title="nothing yet")
    assert worklog(cli, empty) == {
        "ticket": empty,
        "entries": [],
        "total_minutes": 0,
        "uninvoiced_minutes": 0,
        "by_kind": {},
    }


def test_time_may_be_logged_on_a_closed_ticket(cli, dms) -> None:
    """Work is often logged after the call that closed the case."""
    from tests.cli.test_billing_cli import triage

    ticket = open_dms(cli, dms)
    triage(ticket, "out_of_scope", topic="network")  # closes it, rejected
    assert cli.json("ticket", "show", ticket)["status"] == "closed"
    log(cli, ticket, "15m", "--kind", "diagnosis")
    assert worklog(cli, ticket)["total_minutes"] == 15
