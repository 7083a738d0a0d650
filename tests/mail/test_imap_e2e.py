"""A day of a Medisoft mailbox against real servers: Dovecot (IMAP, TLS) and aiosmtpd."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_mail import Collector, Server, free_port
from tests.conftest import ROOT
from tests.factory import seed_medisoft
from tests.mail.dovecot import PASSWORD, Dovecot
from tests.mail.helpers import bounce, message

NOW = "2026-03-09T13:00:00Z"


def configure(imap: Dovecot, tmp: Path, monkeypatch, smtp_port: int | None = None) -> None:
    secret = tmp / "imap-password"
    secret.write_text(PASSWORD + "\n")
    text = imap.config_toml(secret)
    if smtp_port:
        text += (f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nstarttls = false\n'
                 'from = "suporte@medisoft.example"\ntimeout = 5\n')
    path = tmp / "config.toml"
    path.write_text(text)
    monkeypatch.setenv("DESKCTL_CONFIG", str(path))


def append(imap: Dovecot, *msgs) -> None:
    with imap.client() as c:
        for msg in msgs:
            c.append("INBOX", msg.as_bytes())


def unseen(imap: Dovecot) -> int:
    with imap.client() as c:
        c.select_folder("INBOX", readonly=True)
        return len(c.search(["NOT", "SEEN"]))


def test_a_day_of_the_medisoft_mailbox(cli, monkeypatch, imap, tmp_path) -> None:
    port = free_port()
    configure(imap, tmp_path, monkeypatch, port)
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    seed_medisoft(cli)
    request = message("Ana Souza <ana@hosp.example>", "Laudos não imprimem")
    append(imap, request)
    with Server(port, Collector()) as smtp:
        first = cli.json("mail", "fetch")
        assert first["mailboxes"][0]["counts"] == {"opened": 1}
        tid = first["mailboxes"][0]["messages"][0]["ticket"]
        [ack] = smtp.messages
        assert ack["In-Reply-To"] == request["Message-ID"]
        assert str(ack["Subject"]) == f"[#{tid}] Recebemos sua solicitação: Laudos não imprimem"
        assert "Olá, Ana Souza" in ack.get_body(("plain",)).get_content()
        # the customer writes again from her phone, with only the token; her
        # out-of-office answers our acknowledgement; a bounce; a stranger
        token = message("ana@hosp.example", f"Re: [#{tid}] mais detalhes", "Só no setor 2.")
        away = message("ana@hosp.example", f"Ausente: {ack['Subject']}", "Volto dia 16.",
                       in_reply_to=ack["Message-ID"], headers={"Auto-Submitted": "auto-replied"})
        stranger = message("eve@elsewhere.example", "Vendo leads", "...")
        append(imap, token, away, bounce("suporte@medisoft.example", request), stranger)
        second = cli.json("mail", "fetch")["mailboxes"][0]
        assert second["counts"] == {"ignored": 2, "quarantined": 1, "replied": 1}
        assert len(smtp.messages) == 1  # nothing answers an auto-reply or a bounce
        assert cli.json("mail", "fetch")["mailboxes"][0]["total"] == 0
    assert unseen(imap) == 0
    texts = [e["data"]["text"] for e in cli.json("ticket", "show", str(tid))["events"]
             if e["kind"] == "customer_replied"]
    assert texts == ["Só no setor 2."]


def _fetch_process(extra_env: dict[str, str]) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), **extra_env)
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "deskctl"), "mail", "fetch", "--no-deliver", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _ledger() -> list[tuple[str, str, int | None]]:
    from sqlalchemy import text

    from deskctl.store import db

    with db.session(db.ready_engine()) as s:
        rows = s.execute(text("SELECT key, effect, ticket_id FROM mail_message"))
        return [tuple(r) for r in rows]


def _requests(n: int) -> list:
    return [message("ana@hosp.example", f"Pedido {i}", f"Texto {i}") for i in range(n)]


@pytest.mark.slow
def test_two_concurrent_fetches_and_a_kill_handle_every_message_once(
    cli, monkeypatch, imap, tmp_path
) -> None:
    from deskctl.store import db

    configure(imap, tmp_path, monkeypatch)
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    seed_medisoft(cli)
    msgs = _requests(40)
    append(imap, *msgs)
    db.dispose_all()
    # kill -9 a fetch once it has handled a few messages
    victim = _fetch_process({})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(_ledger()) < 5:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert 5 <= len(_ledger()) < 40
    # two fetches at once finish the mailbox
    procs = [_fetch_process({}) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    ledger = _ledger()
    assert sorted(k for k, _, _ in ledger) == sorted(m["Message-ID"] for m in msgs)
    assert {e for _, e, _ in ledger} == {"opened"}
    tickets = cli.json("ticket", "list", "--limit", "0")
    assert len(tickets) == 40 == len({t for _, _, t in ledger})
    assert sorted(t["title"] for t in tickets) == sorted(f"Pedido {i}" for i in range(40))
    assert unseen(imap) == 0
