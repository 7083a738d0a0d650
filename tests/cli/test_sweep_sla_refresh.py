"""A running SLA clock breaches by itself; the sweep notices without any ticket change."""

from __future__ import annotations

from tests.factory import open_ticket, seed_medisoft


def test_sweep_refreshes_sla_and_raises_breach_notice_once(cli, monkeypatch) -> None:
    seed = seed_medisoft(cli)
    cli("agent", "add", "boss", "--role", "manager")  # the first agent of a store
    cli("agent", "add", "maria", "--role", "agent", env={"DESKCTL_USER": "boss"})
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-05T19:00:00Z")  # Thu 16:00 São Paulo
    ticket = open_ticket(cli, seed)
    cli("ticket", "triage", ticket, "--severity", "high")
    cli("ticket", "assign", ticket, "--to", "maria")
    assert cli.json("ticket", "show", ticket)["sla"]["response"]["state"] == "running"

    # Fri 17:00 local: past the 16:30 deadline, inside business hours, no change since.
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-06T20:00:00Z")
    first = cli.json("sweep")
    kinds = [(a["ticket"], a["action"]) for a in first["actions"]]
    assert (ticket, "sla_breached") in kinds
    row = cli.json("ticket", "list")[0]
    assert row["sla_state"] == "breached"

    again = cli.json("sweep")
    assert (ticket, "sla_breached") not in [(a["ticket"], a["action"]) for a in again["actions"]]
