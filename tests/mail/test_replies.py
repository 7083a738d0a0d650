"""What a customer's reply does: resume, the closure protocol ended by e-mail, reopen."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_sweep import MONDAY_10, bog, new_verifying, prepare, sweep_at, table
from tests.mail.helpers import deliver, maildir, maildir_config, message, outbox, write_config

TUESDAY = "2026-03-10 09:05"  # the first agenda e-mail (T+9h) went out


@pytest.fixture
def box(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = isolated / "Maildir"
    maildir(root)
    write_config(isolated, maildir_config(root), monkeypatch)
    return root


def fetch_at(cli, monkeypatch, at) -> dict:
    monkeypatch.setenv("DESKCTL_NOW", at.isoformat())
    return cli.json("mail", "fetch")["mailboxes"][0]


def agenda_mail(isolated: Path, tid: int):
    return next(m for m in outbox(isolated / "deskctl-data")
                if m["X-Deskctl-Key"].startswith(f"protocol:{tid}:"))


def status(cli, tid: int) -> tuple[str, str | None]:
    doc = cli.json("ticket", "show", str(tid))
    return doc["status"], doc["outcome"]


@pytest.mark.parametrize(("first_line", "expected", "effect"), [
    ("Sí, ya funciona. Gracias", ("closed", "resolved"), "confirmed"),
    ("No, sigue fallando", ("in_progress", None), "rejected"),
])
def test_a_reply_to_the_agenda_mail_confirms_or_rejects_at_once(
    cli, monkeypatch, box, isolated, first_line, expected, effect
) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    sweep_at(cli, monkeypatch, bog(TUESDAY))
    agenda = agenda_mail(isolated, tid)
    assert agenda["Auto-Submitted"] == "auto-generated"
    reply = message("Luis <luis@clinic.example>", f"RE: {agenda['Subject']}",
                    f"{first_line}\n\n-----Mensaje original-----\nDe: soporte\n> agenda",
                    in_reply_to=agenda["Message-ID"])
    deliver(maildir(box), reply)
    report = fetch_at(cli, monkeypatch, bog("2026-03-10 11:00"))
    assert report["counts"] == {effect: 1}
    assert status(cli, tid) == expected
    # no later protocol step fires: the second e-mail and the close never happen
    later = sweep_at(cli, monkeypatch, bog("2026-03-16 09:00"))
    assert [a for a in later["actions"] if a["ticket"] == tid] == []


def test_any_other_reply_stops_the_automatic_close_and_tells_the_engineer(
    cli, monkeypatch, box, isolated
) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    sweep_at(cli, monkeypatch, bog(TUESDAY))
    agenda = agenda_mail(isolated, tid)
    deliver(maildir(box), message("luis@clinic.example", f"RE: {agenda['Subject']}",
                                  "Puedo el miércoles a las 10:00.",
                                  in_reply_to=agenda["Message-ID"]))
    assert fetch_at(cli, monkeypatch, bog("2026-03-10 11:00"))["counts"] == {"replied": 1}
    later = sweep_at(cli, monkeypatch, bog("2026-03-16 09:00"))
    assert [a for a in later["actions"] if a["ticket"] == tid] == []
    assert status(cli, tid) == ("awaiting_verification", None)
    told = [r for r in table("notification") if r["kind"] == "customer_replied"]
    assert [(r["ticket_id"], r["recipient"]) for r in told] == [(tid, "alice")]
    # the engineer, who read it, decides
    cli("ticket", "confirm", str(tid))
    assert status(cli, tid) == ("closed", "resolved")


def test_a_reply_after_the_accepted_close_opens_a_linked_ticket(
    cli, monkeypatch, box, isolated
) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    sweep_at(cli, monkeypatch, bog(TUESDAY))
    agenda = agenda_mail(isolated, tid)
    sweep_at(cli, monkeypatch, bog("2026-03-12 13:05"))  # closed accepted
    assert status(cli, tid) == ("closed", "accepted")
    deliver(maildir(box), message("luis@clinic.example", f"RE: {agenda['Subject']}",
                                  "Volvió a fallar hoy.", in_reply_to=agenda["Message-ID"]))
    report = fetch_at(cli, monkeypatch, bog("2026-03-13 09:00"))
    assert report["counts"] == {"linked": 1}
    new = report["messages"][0]["ticket"]
    assert new != tid and status(cli, tid) == ("closed", "accepted")
    doc = cli.json("ticket", "show", str(new))
    assert doc["parent_id"] == tid and doc["status"] != "closed"
    assert doc["fields"]["description"] == "Volvió a fallar hoy."


def test_a_reply_to_a_ticket_awaiting_the_customer_resumes_it(
    cli, monkeypatch, box, isolated
) -> None:
    from tests.factory import open_ticket

    seed = prepare(cli)
    monkeypatch.setenv("DESKCTL_NOW", bog(MONDAY_10).isoformat())
    tid = open_ticket(cli, seed, "Informe no sale", at=bog(MONDAY_10).isoformat())
    cli("ticket", "triage", str(tid), "--impact", "high", "--urgency", "high")
    cli("ticket", "respond", str(tid))
    cli("ticket", "wait", str(tid), "--on", "customer")
    assert status(cli, tid)[0] == "awaiting_customer"
    deliver(maildir(box), message("luis@clinic.example", f"[#{tid}] datos",
                                  "Adjunto el log.", attach=("log del día.pdf", b"%PDF")))
    assert fetch_at(cli, monkeypatch, bog("2026-03-09 11:00"))["counts"] == {"resumed": 1}
    doc = cli.json("ticket", "show", str(tid))
    assert doc["status"] == "in_progress"
    assert [a["filename"] for a in doc["attachments"]] == ["log_del_día.pdf"]
    replied = [e for e in doc["events"] if e["kind"] == "customer_replied"]
    assert replied[0]["data"]["attachments"] == ["log_del_día.pdf"]
    # the engineer reads the customer's words in the history, not only in --json
    history = cli("ticket", "show", str(tid)).stdout
    assert "customer_replied" in history and "Adjunto el log." in history
