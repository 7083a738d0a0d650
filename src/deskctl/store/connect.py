"""What both ways of connecting share (``store.db`` with SQLAlchemy, ``store.dbapi``
without): the SQLite busy timeout and the keyring, asked only on demand."""

from __future__ import annotations

from typing import Any

from deskctl.errors import notice

BUSY_TIMEOUT_MS = 30_000
KEYRING_SERVICE = "deskctl-db"
# Every PostgreSQL session starts with this. deskctl's statements run for milliseconds
# up to a second or two, where JIT compiling each plan costs more than it saves: the
# year's findings at 1M took 5.1-5.4 s with it and 4.1-4.4 s without; one overview
# run 10 s against 3.1 s.
PG_SESSION_SETUP = "SET jit = off"


def setup_pg_session(con: Any) -> None:
    """``PG_SESSION_SETUP`` on a new psycopg connection, committed (the setting then
    holds for the session whatever the connection's transaction mode)."""
    with con.cursor() as cur:
        cur.execute(PG_SESSION_SETUP)
    con.commit()


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
