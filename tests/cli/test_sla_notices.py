"""SLA notices of the sweep: every open state that runs a metric, a body that says it all."""

from __future__ import annotations

from tests.cli.test_sweep import bog, prepare, sweep_at, table
from tests.factory import open_ticket


def _report_requested(cli, seed: dict[str, str] | None = None) -> int:
    """IMEXHS 8x5, Monday 2 March 09:00 Bogotá: severity 3, answered, a report requested
    (72 business hours, 10 a day: due Wednesday 11 March 11:00)."""
    seed = seed or prepare(cli)
    at = bog("2026-03-02 09:00").isoformat()
    tid = open_ticket(cli, seed, "Monthly uptime report", at=at)
    cli("ticket", "triage", str(tid), "--severity", "3", "--category", "defect", "--at", at)
    cli("ticket", "assign", str(tid), "--to", "alice", "--at", at)
    cli("ticket", "respond", str(tid), "--at", at)
    cli("ticket", "report", str(tid), "--request", "--at", at)
    return tid


def test_a_report_breached_while_awaiting_verification_is_noticed(cli, monkeypatch) -> None:
    tid = _report_requested(cli)
    # the solution is proposed before the report's limit; the report is still owed
    resolved = bog("2026-03-11 09:00").isoformat()
    cli("ticket", "resolve", str(tid), "--solution", "Router restarted", "--at", resolved)
    before = sweep_at(cli, monkeypatch, bog("2026-03-11 10:30"))
    # at risk once 18 business hours (a quarter) were left: Monday 9 March 13:00
    assert [(a["action"], a["at"]) for a in before["actions"] if a["key"].startswith("sla:")] == [
        ("sla_at_risk", "2026-03-09T18:00:00Z")
    ]
    after = sweep_at(cli, monkeypatch, bog("2026-03-11 12:00"))
    notices = [a for a in after["actions"] if a["key"].startswith("sla:")]
    assert [(a["action"], a["at"]) for a in notices] == [("sla_breached", "2026-03-11T16:00:00Z")]
    assert cli.json("ticket", "show", str(tid))["status"] == "awaiting_verification"
    assert {r["recipient"] for r in table("notification") if r["kind"] == "sla_breached"} == {
        "alice",
        "boss",
    }


def test_breach_notice_says_ticket_customer_severity_metric_local_limit_and_delay(
    cli, monkeypatch
) -> None:
    """In the vendor's language (IMEXHS: Colombia, Spanish), the limit in Bogotá time with
    the zone named, and how late at the sweep's instant."""
    tid = _report_requested(cli)
    sweep_at(cli, monkeypatch, bog("2026-03-11 14:30"))
    mails = {m["key"]: m for m in table("outbox_message")}
    breach = mails[f"sla:{tid}:report:breached:boss"]
    assert breach["subject"] == f"[#{tid}] SLA informe INCUMPLIDO: Monthly uptime report"
    body = breach["body"]
    for part in (
        f"#{tid} Monthly uptime report",
        "Clínica Andina",  # the customer's name, not its key
        "Severidad:   3",
        "informe (objetivo 72h)",
        "11/03/2026 11:00 (America/Bogota -05)",  # 16:00 UTC
        "Retraso:     3h30m",
        "Estado:      en atención",
        "Ingeniero:   Alice Rojas",
    ):
        assert part in body
    notes = {
        n["recipient"]: n["message"] for n in table("notification") if n["kind"] == "sla_breached"
    }
    assert notes["alice"] == notes["boss"]
    assert "\n" not in notes["alice"] and "3h30m de retraso" in notes["alice"]
    assert "venció el 11/03/2026 11:00 (America/Bogota -05)" in notes["alice"]


def test_at_risk_notice_says_how_much_business_time_is_left(cli, monkeypatch) -> None:
    tid = _report_requested(cli)
    sweep_at(cli, monkeypatch, bog("2026-03-10 09:00"))  # 12 business hours before the limit
    mail = {m["key"]: m for m in table("outbox_message")}[f"sla:{tid}:report:at_risk:alice"]
    assert mail["subject"] == f"[#{tid}] SLA informe en riesgo: Monthly uptime report"
    assert (
        "quedan 12h de horario hábil hasta el 11/03/2026 11:00 (America/Bogota -05)"
        in (mail["body"])
    )


def test_notice_language_follows_the_vendor_locale(cli, monkeypatch, tmp_path) -> None:
    from tests.cli.test_sweep import add_agents
    from tests.conftest import EXAMPLES

    text = (EXAMPLES / "imexhs.toml").read_text()
    english = tmp_path / "imexhs-en.toml"
    english.write_text(text.replace('country = "CO"', 'country = "CO"\nlocale = "en"', 1))
    cli("init", "--policy", str(english))
    cli("customer", "add", "clinic", "--name", "Clínica Andina", "--country", "CO")
    cli("contact", "add", "clinic", "luis@clinic.example", "--name", "Luis", "--named")
    cli("product", "add", "imexhs-ris", "--current", "4.1")
    cli("contract", "add", "clinic", "--plan", "8x5", "--start", "2026-01-01",
        "--activated", "2026-01-15", "--product", "imexhs-ris")  # fmt: skip
    add_agents(cli)
    seed = {"customer": "clinic", "contact": "luis@clinic.example", "product": "imexhs-ris",
            "version": "4.1", "channel": "portal"}  # fmt: skip
    tid = _report_requested(cli, seed)
    sweep_at(cli, monkeypatch, bog("2026-03-11 14:30"))
    mail = {m["key"]: m for m in table("outbox_message")}[f"sla:{tid}:report:breached:boss"]
    assert mail["subject"] == f"[#{tid}] SLA report BREACHED: Monthly uptime report"
    assert "passed Mar 11, 2026 11:00 (America/Bogota -05): 3h30m late." in mail["body"]
    assert "Status:    in progress" in mail["body"]
