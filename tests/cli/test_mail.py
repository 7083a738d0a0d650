"""Mail: SMTP delivery to a real server on loopback, retries, the keyring, the outbox list."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_sweep import MONDAY_10, bog, new_verifying, prepare, sweep_at, table

TUESDAY = "2026-03-10 09:05"  # the first agenda e-mail (T+9h) is due


class Collector:
    """An aiosmtpd handler that keeps what it receives; may refuse some recipients."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(msg)
        return "250 OK"


class Server:
    def __init__(self, port: int, handler: Collector, **kw: Any) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(handler, hostname="127.0.0.1", port=port, **kw)
        self.handler = handler

    def __enter__(self) -> Collector:
        self.controller.start()
        return self.handler

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """A config.toml pointing at 127.0.0.1:<free port>, no TLS, user 'desk'."""
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        "[smtp]\n"
        f'host = "127.0.0.1"\nport = {port}\nstarttls = false\n'
        'username = "desk"\nfrom = "support@vendor.example"\ntimeout = 5\n'
    )
    monkeypatch.setenv("DESKCTL_CONFIG", str(config))
    return port


@pytest.fixture
def keyring_backend() -> Iterator[Any]:
    """Swap the process keyring for the test, restore it after."""
    import keyring

    before = keyring.get_keyring()

    def use(backend: Any) -> None:
        keyring.set_keyring(backend)

    yield use
    keyring.set_keyring(before)


def test_agenda_mail_is_delivered_over_smtp_once(cli, monkeypatch, smtp_port) -> None:
    from deskctl.services.mail import message_id

    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    with Server(smtp_port, Collector()) as server:
        doc = sweep_at(cli, monkeypatch, bog(TUESDAY))
        sweep_at(cli, monkeypatch, bog("2026-03-10 10:00"))
    assert doc["mail"]["sent"] == 1 and doc["mail"]["pending"] == 0
    [msg] = server.messages
    assert msg["To"] == "luis@clinic.example"
    assert msg["From"] == "support@vendor.example"
    assert msg["Message-ID"] == message_id(f"protocol:{tid}:1:4", "support@vendor.example")
    assert msg["Message-ID"].endswith("@vendor.example>")
    # in the Colombian contact's language, the agenda in Bogotá time
    assert "mar, 10 de marzo: 09:15-18:00" in msg.get_body(("plain",)).get_content()
    assert msg["Auto-Submitted"] == "auto-generated"
    [row] = cli.json("mail", "outbox")
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 1, None)
    assert row["message_id"] == msg["Message-ID"]


def test_smtp_down_then_up_defers_then_delivers_exactly_once(cli, monkeypatch, smtp_port) -> None:
    seed = prepare(cli)
    new_verifying(cli, seed, bog(MONDAY_10))
    monkeypatch.setenv("DESKCTL_NOW", bog(TUESDAY).isoformat())
    down = cli("sweep")  # the steps are done; the message waits
    assert "deferred" in down.stderr and "1 message(s) wait in the outbox" in down.stderr
    [row] = cli.json("mail", "outbox", "--pending")
    assert row["status"] == "pending" and row["attempts"] == 1
    assert "127.0.0.1" in row["last_error"]

    with Server(smtp_port, Collector()) as server:
        up = sweep_at(cli, monkeypatch, bog("2026-03-10 09:10"))
        again = sweep_at(cli, monkeypatch, bog("2026-03-10 09:15"))
    assert up["actions"] == [] and up["mail"]["sent"] == 1
    assert again["mail"]["sent"] == 0
    assert len(server.messages) == 1
    [row] = cli.json("mail", "outbox")
    assert row["status"] == "sent" and row["attempts"] == 2 and row["last_error"] is None
    assert cli.json("mail", "outbox", "--pending") == []


def test_a_refused_recipient_stays_pending_and_others_go(cli, monkeypatch, smtp_port) -> None:
    from deskctl.services import mail
    from deskctl.store import db

    prepare(cli)
    now = bog(TUESDAY)
    with db.session(db.ready_engine(), write=True) as s:
        for key, to in (("k1", "gone@clinic.example"), ("k2", "luis@clinic.example")):
            mail.enqueue(s, key=key, recipient=to, subject="s", body="b", now=now)
    with Server(smtp_port, Collector(refuse=("gone@clinic.example",))) as server:
        first = sweep_at(cli, monkeypatch, now)
        second = sweep_at(cli, monkeypatch, bog("2026-03-10 09:30"))
    assert [m["To"] for m in server.messages] == ["luis@clinic.example"]
    assert (first["mail"]["sent"], first["mail"]["failed"]) == (1, 1)
    assert (second["mail"]["sent"], second["mail"]["failed"]) == (0, 1)
    gone = next(r for r in table("outbox_message") if r["key"] == "k1")
    assert gone["sent_at"] is None and gone["attempts"] == 2
    assert gone["last_error"].startswith("550")


def test_password_comes_from_the_keyring(cli, monkeypatch, smtp_port, keyring_backend) -> None:
    from aiosmtpd.smtp import AuthResult
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1

        def __init__(self) -> None:
            super().__init__()
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.store.pop((service, username), None)

    keyring_backend(Memory())
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    result = cli("mail", "login", "--password-stdin", input="s3cret\n")
    assert "stored in the keyring" in result.stderr
    seed = prepare(cli)
    new_verifying(cli, seed, bog(MONDAY_10))
    collector = Collector()
    with Server(smtp_port, collector, authenticator=authenticator, auth_require_tls=False):
        doc = sweep_at(cli, monkeypatch, bog(TUESDAY))
    assert seen == [(b"desk", b"s3cret")]
    assert doc["mail"]["sent"] == 1 and len(collector.messages) == 1


def test_headless_keyring_gives_one_line_and_sends_without_password(
    cli, monkeypatch, smtp_port, keyring_backend
) -> None:
    from keyring.backends import fail

    keyring_backend(fail.Keyring())
    refused = cli("mail", "login", "--password-stdin", input="pw\n", code=1)
    assert refused.stderr.startswith("deskctl: keyring unavailable")
    assert len(refused.stderr.strip().splitlines()) == 1

    seed = prepare(cli)
    new_verifying(cli, seed, bog(MONDAY_10))
    monkeypatch.setenv("DESKCTL_NOW", bog(TUESDAY).isoformat())
    with Server(smtp_port, Collector()) as server:
        result = cli("sweep")
    assert "keyring unavailable (NoKeyringError); sending without a password" in result.stderr
    assert len(server.messages) == 1


def test_mail_login_needs_an_smtp_user(cli) -> None:
    result = cli("mail", "login", "--password-stdin", input="pw\n", code=2)
    assert result.stderr.strip() == "deskctl: set [smtp] host and username in config.toml first"


def test_a_broken_smtp_config_stops_the_sweep_before_anything(cli, monkeypatch, tmp_path) -> None:
    seed = prepare(cli)
    new_verifying(cli, seed, bog(MONDAY_10))
    config = tmp_path / "bad.toml"
    config.write_text('[smtp]\nhost = "mail.example"\nport = "twenty-five"\n')
    monkeypatch.setenv("DESKCTL_CONFIG", str(config))
    monkeypatch.setenv("DESKCTL_NOW", bog(TUESDAY).isoformat())
    result = cli("sweep", code=2)
    assert result.stderr.strip() == (
        "deskctl: config: smtp.port must be a port number, not 'twenty-five'"
    )
    assert table("sweep_step") == []


def test_outbox_lists_newest_first_and_checks_its_options(cli, monkeypatch) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    sweep_at(cli, monkeypatch, bog(TUESDAY))  # the first agenda e-mail, to the Maildir
    sweep_at(cli, monkeypatch, bog("2026-03-11 11:05"))  # the second one
    rows = cli.json("mail", "outbox")
    assert [r["key"] for r in rows] == [f"protocol:{tid}:1:5", f"protocol:{tid}:1:4"]
    assert {r["status"] for r in rows} == {"sent"}
    tsv = cli("mail", "outbox").stdout.splitlines()
    assert len(tsv) == 2 and tsv[0].split("\t")[1] == "sent"
    assert cli("mail", "outbox", "--limit", "-1", code=2).stderr.strip() == (
        "deskctl: --limit must be 0 or more"
    )


def test_maildir_delivery_is_idempotent(tmp_path) -> None:
    from datetime import UTC, datetime

    from deskctl.services.mail import MaildirTransport, build_message
    from deskctl.store.models import OutboxMessage

    row = OutboxMessage(
        key="protocol:1:1:4",
        ticket_id=1,
        recipient="a@b.example",
        subject="hi",
        body="body",
        created_at=datetime.now(UTC),
    )
    box = MaildirTransport(tmp_path / "out")
    msg = build_message(row, "desk@vendor.example", datetime(2026, 3, 10, tzinfo=UTC))
    box.send(msg)
    box.send(msg)
    files = list((tmp_path / "out" / "new").iterdir())
    assert len(files) == 1 and list((tmp_path / "out" / "tmp").iterdir()) == []
    assert b"Subject: hi" in files[0].read_bytes()
