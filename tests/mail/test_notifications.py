"""Customer notifications of a policy's [mail] notify list: once each, threaded, localised."""

from __future__ import annotations

from pathlib import Path

from tests.factory import open_ticket, seed_dms, seed_medisoft
from tests.mail.helpers import outbox

OPEN = "2026-03-05T19:00:00Z"  # Thu 16:00 in São Paulo: a high ticket is due Fri 16:30


def test_a_medisoft_ticket_is_acknowledged_answered_resolved_and_closed_in_portuguese(
    cli, monkeypatch, isolated: Path
) -> None:
    seed = seed_medisoft(cli)
    monkeypatch.setenv("DESKCTL_NOW", OPEN)
    tid = open_ticket(cli, seed, "Laudo não imprime", at=OPEN)
    cli("ticket", "triage", str(tid), "--severity", "high")
    cli("ticket", "respond", str(tid), "--message", "Estamos analisando o seu laudo.")
    cli("ticket", "resolve", str(tid), "--solution", "Atualize o driver da impressora.")
    cli("ticket", "confirm", str(tid))
    cli("sweep")  # delivers the outbox into the Maildir
    mails = {m["X-Deskctl-Key"].split(":")[2]: m for m in outbox(isolated / "deskctl-data")}
    assert sorted(mails) == ["acknowledgement", "closure", "response", "solution"]
    ack, resp = mails["acknowledgement"], mails["response"]
    assert all(f"[#{tid}]" in m["Subject"] for m in mails.values())
    assert all(m["Reply-To"] == "suporte@medisoft.example" for m in mails.values())
    # automatic ones say so (RFC 3834); the engineer's own words do not
    assert resp["Auto-Submitted"] is None
    assert {m["Auto-Submitted"] for k, m in mails.items() if k != "response"} == {"auto-generated"}
    # one thread: each answers the previous, References carry the whole chain
    assert resp["In-Reply-To"] == ack["Message-ID"]
    assert mails["closure"]["References"].split()[0] == ack["Message-ID"]
    ack_text = ack.get_body(("plain",)).get_content()
    assert "Olá, Ana Souza" in ack_text
    resp_text = resp.get_body(("plain",)).get_content()
    assert "Estamos analisando o seu laudo." in resp_text
    solution = mails["solution"].get_body(("plain",)).get_content()
    assert "Atualize o driver da impressora." in solution and '"sim"' in solution
    assert "foi resolvido" in mails["closure"].get_body(("plain",)).get_content()


def test_the_acknowledgement_promises_the_sla_in_the_calendar_zone(cli, monkeypatch, isolated):
    from datetime import datetime

    from deskctl.i18n import Formatter

    seed = seed_dms(cli)  # DMS gives an untriaged ticket its default severity (normal)
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-05T10:00:00Z")
    tid = open_ticket(cli, seed, "Licenza non attiva")
    cli("sweep")
    [ack] = outbox(isolated / "deskctl-data")
    due = cli.json("ticket", "show", str(tid))["sla"]["response"]["due_at"]
    promised = Formatter("it-IT", "Europe/Rome").instant(datetime.fromisoformat(due))
    assert promised.endswith("(CET)")
    assert f"Le risponderemo entro il {promised}." in ack.get_body(("plain",)).get_content()


def test_without_a_severity_the_acknowledgement_promises_no_instant(cli, monkeypatch, isolated):
    seed = seed_medisoft(cli)  # Medisoft: no default severity, no deadline before triage
    monkeypatch.setenv("DESKCTL_NOW", OPEN)
    open_ticket(cli, seed, "Laudo não imprime", at=OPEN)
    cli("sweep")
    [ack] = outbox(isolated / "deskctl-data")
    assert "assim que o chamado for classificado" in ack.get_body(("plain",)).get_content()


def test_an_italian_customer_reads_italian_and_a_retried_command_sends_nothing_twice(
    cli, monkeypatch, isolated: Path
) -> None:
    seed = seed_dms(cli)
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-05T10:00:00Z")
    tid = open_ticket(cli, seed, "Licenza non attiva")
    cli("sweep")
    cli("sweep")
    [ack] = outbox(isolated / "deskctl-data")
    assert str(ack["Subject"]) == f"[#{tid}] Abbiamo ricevuto la sua richiesta: Licenza non attiva"
    assert "Gentile Marco" in ack.get_body(("plain",)).get_content()
    html = ack.get_body(("html",)).get_content()
    assert '<html lang="it-IT">' in html
