"""The Dovecot server of the mail tests: started once per test session, emptied per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mail.dovecot import Dovecot, available


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    if not available():
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd)")
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap(dovecot_server: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Dovecot:
    dovecot_server.empty()
    monkeypatch.setenv("DESKCTL_IMAP_CAFILE", str(dovecot_server.cafile))
    return dovecot_server
