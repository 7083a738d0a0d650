"""A keyring that cannot store is found out before anything claims "stored" (exit 1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

PG_URL = "postgresql://desk@127.0.0.1:5432/desk"


@pytest.fixture
def keyring_backend() -> Iterator[Any]:
    import keyring

    before = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(before)


class Forgetful:
    """Says yes, keeps nothing: the worst kind of keyring."""

    priority = 1

    def set_password(self, service: str, username: str, password: str) -> None:
        pass

    def get_password(self, service: str, username: str) -> str | None:
        return None


@pytest.mark.parametrize("backend", ["null", "fail", "forgetful"])
def test_db_login_refuses_when_nothing_is_kept(cli, keyring_backend, backend: str) -> None:
    from keyring.backend import KeyringBackend
    from keyring.backends import fail, null

    chosen = {"null": null.Keyring, "fail": fail.Keyring}.get(backend)
    if chosen is None:
        chosen = type("ForgetfulKeyring", (Forgetful, KeyringBackend), {})
    keyring_backend(chosen())
    result = cli("db", "login", PG_URL, "--password-stdin", input="s3cret\n", code=1)
    assert result.stderr.startswith("deskctl: keyring unavailable")
    assert "no password stored" in result.stderr and "~/.pgpass" in result.stderr
    assert "stored in the keyring" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_db_login_with_a_working_keyring_says_where(cli, keyring_backend) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.kept: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.kept.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.kept[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.kept.pop((service, username), None)

    keyring_backend(Memory())
    result = cli("db", "login", PG_URL, "--password-stdin", input="s3cret\n")
    assert "stored in the keyring" in result.stderr and "Memory" in result.stderr
    assert keyring.get_password("deskctl-db", "desk@127.0.0.1:5432/desk") == "s3cret"


def test_mail_login_with_the_null_keyring_points_to_password_command(cli, monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[smtp]\nhost = "127.0.0.1"\nusername = "desk"\n')
    monkeypatch.setenv("DESKCTL_CONFIG", str(config))
    result = cli("mail", "login", "--password-stdin", input="pw\n", code=1)  # null backend
    assert "no password stored" in result.stderr and "password_command" in result.stderr
