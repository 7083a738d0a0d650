"""password_command for SMTP and IMAP: run it, read one line, never store or print it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_mail import Collector, Server, free_port
from tests.cli.test_sweep import MONDAY_10, bog, new_verifying, prepare, sweep_at

TUESDAY = "2026-03-10 09:05"


def smtp_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> int:
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        "[smtp]\n"
        f'host = "127.0.0.1"\nport = {port}\nstarttls = false\nusername = "desk"\n'
        f'from = "support@vendor.example"\ntimeout = 5\npassword_command = {command!r}\n'
    )
    monkeypatch.setenv("DESKCTL_CONFIG", str(config))
    return port


def test_smtp_logs_in_with_the_first_line_of_password_command(cli, monkeypatch, tmp_path):
    from aiosmtpd.smtp import AuthResult

    secret = tmp_path / "secret"
    secret.write_text("s3cret pass\nsecond line ignored\n")
    port = smtp_config(tmp_path, monkeypatch, f"cat {secret}")
    seen: list[bytes] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append(auth_data.password)
        return AuthResult(success=auth_data.password == b"s3cret pass")

    seed = prepare(cli)
    new_verifying(cli, seed, bog(MONDAY_10))
    collector = Collector()
    with Server(port, collector, authenticator=authenticator, auth_require_tls=False):
        doc = sweep_at(cli, monkeypatch, bog(TUESDAY))
    assert seen == [b"s3cret pass"]
    assert doc["mail"]["sent"] == 1 and len(collector.messages) == 1


def test_a_failing_password_command_defers_the_mail_and_prints_no_secret(
    cli, monkeypatch, tmp_path
):
    port = smtp_config(tmp_path, monkeypatch, "echo hunter2; exit 3")
    seed = prepare(cli)
    new_verifying(cli, seed, bog(MONDAY_10))
    with Server(port, Collector()) as server:
        monkeypatch.setenv("DESKCTL_NOW", bog(TUESDAY).isoformat())
        result = cli("sweep")
    assert server.messages == []
    assert "password_command exited 3" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    [row] = cli.json("mail", "outbox", "--pending")
    assert "password_command exited 3" in row["last_error"]


def test_a_password_in_config_toml_is_refused(cli, monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[smtp]\nhost = "127.0.0.1"\nusername = "desk"\npassword = "x"\n'
                      '[mailboxes.a]\nimap_host = "127.0.0.1"\npassword = "y"\n')
    monkeypatch.setenv("DESKCTL_CONFIG", str(config))
    cli("init")
    out = cli("mail", "fetch", code=2)
    assert out.stderr.startswith("deskctl: config: mailboxes.a.password: never write")
    smtp = cli("mail", "login", "--password-stdin", input="pw\n", code=2)
    assert smtp.stderr.startswith("deskctl: config: smtp.password: never write")
