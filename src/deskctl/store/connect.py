"""What both ways of connecting share (``store.db`` with SQLAlchemy, ``store.dbapi``
without): the SQLite busy timeout and the keyring, asked only on demand."""

from __future__ import annotations

from deskctl.errors import notice

BUSY_TIMEOUT_MS = 30_000
KEYRING_SERVICE = "deskctl-db"


def needs_password(exc: BaseException) -> bool:
    message = str(exc).lower()
    return "password" in message and ("no password" in message or "authentication" in message)


def keyring_password(key: str) -> str | None:
    """The store's password from the keyring; only asked when the server wants one."""
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, key)
    except Exception as exc:  # no backend on a headless machine: fall back, never crash
        notice(f"keyring unavailable ({type(exc).__name__}); using PGPASSWORD or ~/.pgpass")
        return None
