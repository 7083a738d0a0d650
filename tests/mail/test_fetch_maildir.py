"""`mail fetch` from a Maildir: threading, quarantine, noise, exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factory import seed_medisoft
from tests.mail.helpers import (
    bounce,
    counts,
    deliver,
    maildir,
    maildir_config,
    message,
    outbox,
    write_config,
)

NOW = "2026-03-09T13:00:00Z"  # Monday 10:00 in São Paulo


@pytest.fixture
def box(isolated: Path, monkeypatch: pytest.MonkeyPatch, cli) -> Path:
    root = isolated / "Maildir"
    maildir(root)
    write_config(isolated, maildir_config(root), monkeypatch)
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    seed_medisoft(cli)
    return root


def fetch(cli, *args: str) -> dict:
    doc = cli.json("mail", "fetch", *args)
    return doc["mailboxes"][0]


def events(cli, tid: int) -> list[dict]:
    return cli.json("ticket", "show", str(tid))["events"]


def test_a_request_opens_a_ticket_acknowledged_in_portuguese_on_its_thread(
    cli, box: Path, isolated: Path
) -> None:
    first = message("Ana Souza <ana@hosp.example>", "PACS não abre exames",
                    attach=("relatório de erro.pdf", b"%PDF-1.4 x"))
    deliver(maildir(box), first)
    report = fetch(cli)
    assert report["counts"] == {"opened": 1}
    tid = report["messages"][0]["ticket"]
    doc = cli.json("ticket", "show", str(tid))
    assert doc["channel"] == "email" and doc["contact"] == "ana@hosp.example"
    assert doc["title"] == "PACS não abre exames"
    assert [a["filename"] for a in doc["attachments"]] == ["relatório_de_erro.pdf"]
    assert counts(box) == (0, 1)

    sent = outbox(isolated / "deskctl-data")
    assert len(sent) == 1
    ack = sent[0]
    assert ack["To"] == "ana@hosp.example"
    assert ack["Subject"] == f"[#{tid}] Recebemos sua solicitação: PACS não abre exames"
    assert ack["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in ack["References"]
    assert ack["Auto-Submitted"] == "auto-generated"
    assert ack["Reply-To"] == "suporte@medisoft.example"
    assert ack["From"] == "suporte@medisoft.example"  # no [smtp] from: the policy's address
    text = ack.get_body(("plain",)).get_content()
    assert f"chamado #{tid}" in text and "Olá, Ana Souza" in text
    html = ack.get_body(("html",)).get_content()
    assert "&#34;PACS não abre exames&#34;" in html or "&quot;PACS" in html

    # what the engineer reads back: the same headers and text the customer got
    shown = cli("mail", "show", "1").stdout
    assert "From: suporte@medisoft.example\nTo: ana@hosp.example\n" in shown
    assert f"chamado #{tid}" in shown and "Status: sent" in shown
    assert cli.json("mail", "show", "1")["body"].strip() == text.replace("\r\n", "\n").strip()
    assert "no outgoing message 9" in cli("mail", "show", "9", code=3).stderr


def test_replies_thread_by_in_reply_to_and_by_subject_token_only_from_a_contact(
    cli, box: Path, isolated: Path
) -> None:
    md = maildir(box)
    deliver(md, message("ana@hosp.example", "Erro no PACS"))
    tid = fetch(cli)["messages"][0]["ticket"]
    ack = outbox(isolated / "deskctl-data")[0]
    answer = message(
        "ana@hosp.example",
        f"Re: {ack['Subject']}",
        "Segue o log pedido.\n\nEm seg., 9 de mar. de 2026 às 10:00, Suporte escreveu:\n> antigo\n",
        in_reply_to=ack["Message-ID"],
    )
    # another mail client: no threading headers, only the token in the subject
    token = message("ana@hosp.example", f"Mais uma coisa [#{tid}]", "Acontece às 9h.")
    stranger_token = message("eve@evil.example", f"[#{tid}] fechem isto", "...")
    deliver(md, answer, token, stranger_token)
    report = fetch(cli)
    assert report["counts"] == {"replied": 2, "quarantined": 1}
    replies = [e for e in events(cli, tid) if e["kind"] == "customer_replied"]
    assert [e["data"]["text"] for e in replies] == ["Segue o log pedido.", "Acontece às 9h."]
    assert [e["data"]["via"] for e in replies] == ["thread", "subject token"]
    held = cli.json("mail", "quarantine", "list")
    assert [h["sender"] for h in held] == ["eve@evil.example"]
    assert "unknown sender" in held[0]["reason"]


def test_noise_changes_nothing_and_is_counted(cli, box: Path, isolated: Path) -> None:
    md = maildir(box)
    deliver(md, message("ana@hosp.example", "Erro no PACS"))
    tid = fetch(cli)["messages"][0]["ticket"]
    before = events(cli, tid)
    out = message("ana@hosp.example", f"Fora do escritório: [#{tid}]", "Volto segunda.",
                  headers={"Auto-Submitted": "auto-replied"})
    bulk = message("ana@hosp.example", f"[#{tid}] newsletter", headers={"Precedence": "bulk"})
    ms = message("ana@hosp.example", f"RE: [#{tid}]", headers={"X-Autoreply": "yes"})
    own = message("suporte@medisoft.example", f"[#{tid}] loop")
    deliver(md, out, bulk, ms, own, bounce("suporte@medisoft.example", out))
    report = fetch(cli)
    assert report["counts"] == {"ignored": 5}
    reasons = sorted(m["detail"] for m in report["messages"])
    assert reasons == ["auto-reply", "auto-submitted: auto-replied", "delivery report",
                       "own address", "precedence: bulk"]
    assert events(cli, tid) == before
    assert len(outbox(isolated / "deskctl-data")) == 1  # only the acknowledgement
    assert cli.json("mail", "quarantine", "list") == []
    assert counts(box) == (0, 6)


def test_each_message_is_handled_once_even_when_put_back_as_new(cli, box: Path) -> None:
    md = maildir(box)
    deliver(md, message("ana@hosp.example", "Erro no PACS"),
            message("ana@hosp.example", "sem id", message_id=None))
    assert fetch(cli)["counts"] == {"opened": 2}
    # a crash after the commit but before the move: the files are still in new/
    for name in list((box / "cur").iterdir()):
        name.rename(box / "new" / name.name.split(":2,")[0])
    assert fetch(cli)["counts"] == {"duplicate": 2}
    assert len(cli.json("ticket", "list")) == 2
    assert counts(box) == (0, 2)


def test_a_stranger_is_quarantined_then_opened_for_a_customer_or_discarded(
    cli, box: Path
) -> None:
    md = maildir(box)
    deliver(md, message("joao@newclinic.example", "Preciso de ajuda", "O PACS travou."),
            message("spam@junk.example", "Oferta"))
    assert fetch(cli)["counts"] == {"quarantined": 2}
    held = sorted(cli.json("mail", "quarantine", "list"), key=lambda h: h["sender"])
    assert [h["sender"] for h in held] == ["joao@newclinic.example", "spam@junk.example"]
    tid = int(cli("mail", "quarantine", "open", str(held[0]["id"]), "--customer", "hosp")
              .stdout.strip())
    doc = cli.json("ticket", "show", str(tid))
    assert doc["contact"] == "joao@newclinic.example" and doc["customer"] == "hosp"
    cli("mail", "quarantine", "discard", str(held[1]["id"]))
    assert cli.json("mail", "quarantine", "list") == []
    statuses = {h["status"] for h in cli.json("mail", "quarantine", "list", "--all")}
    assert statuses == {"opened", "discarded"}
    again = cli("mail", "quarantine", "discard", str(held[1]["id"]), code=1)
    assert "already discarded" in again.stderr


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_a_mailer_that_forgot_the_charset_still_keeps_the_accents(
    cli, box: Path, encoding: str
) -> None:
    # 8-bit text with no Content-Type at all: older PBX mailers and scripts send this
    raw = (
        "From: ana@hosp.example\nTo: suporte@medisoft.example\nSubject: PACS parado\n"
        "Message-ID: <raw8bit@hosp.example>\n\nO PACS não abre desde às 8h.\n"
    ).encode(encoding)
    (box / "new" / "raw8bit").write_bytes(raw)
    report = fetch(cli)
    assert report["counts"] == {"opened": 1}
    doc = cli.json("ticket", "show", str(report["messages"][0]["ticket"]))
    assert doc["fields"]["description"] == "O PACS não abre desde às 8h."


def test_maildir_messages_are_taken_in_delivery_order_not_name_order() -> None:
    """Delivery agents do not zero-pad a unique name's microseconds: name order would
    put a message delivered at .099999 s after one delivered at .100000 s."""
    from deskctl.services.mail_sources import delivery_order

    delivered = [
        "1767000000.M99999P7Q9.host",
        "1767000000.M99999P7Q10.host",
        "1767000000.M100000P7Q11.host",
        "1767000001.M5P7.host",  # Dovecot's shape: no Q
        "not-a-maildir-name",
    ]
    assert sorted(reversed(delivered), key=delivery_order) == delivered
    assert sorted(delivered) != delivered  # what name order did
