"""A second session on the very snapshot of the store another one reads, so a report
can read it on two connections at once and still print figures of one instant.

PostgreSQL exports a transaction's snapshot for others to import (``pg_dump -j``
does the same). SQLite has no such call in Python's driver; instead, both read
transactions begin while a third connection holds the write lock (``BEGIN
IMMEDIATE``), so no commit can fall between them, and the lock is let go at once:
writers wait a few milliseconds, readers not at all.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from deskctl.store.connect import BUSY_TIMEOUT_MS

# How long SQLite's twin waits for the write lock. A writer holds it for milliseconds
# (a move) or minutes (``sla refresh --all``): past this, reading on one connection is
# quicker than waiting.
LOCK_WAIT_MS = 200

# what pg_export_snapshot() returns (00000003-0000001B-1): spelled into SET TRANSACTION
# SNAPSHOT, which takes no bound parameter
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")


def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def twin(session: Session) -> Iterator[Session | None]:
    """A second session that sees what ``session`` sees from here on, or None where
    two connections gain nothing or cannot share a snapshot (one CPU, an in-memory
    SQLite store, a writer holding SQLite's lock past ``LOCK_WAIT_MS``).
    ``session``'s transaction is ended first (it has only read) and begun again on
    the shared snapshot."""
    engine = session.get_bind()
    if cpus() < 2 or not isinstance(engine, Engine):  # a Connection: a dry run's savepoint
        yield None
        return
    if engine.dialect.name == "postgresql":
        begin = _pg_pair
    elif engine.url.database not in (None, "", ":memory:"):
        begin = _sqlite_pair
    else:
        yield None
        return
    other = begin(engine, session)
    if other is None:
        yield None
        return
    try:
        yield other
    finally:
        other.close()


# a hot standby cannot export one ("during recovery"): reports read there on one connection
EXPORT = "SELECT pg_export_snapshot()"


def _pg_pair(engine: Engine, session: Session) -> Session | None:
    repeatable = {"isolation_level": "REPEATABLE READ"}
    session.rollback()
    session.connection(execution_options=repeatable)
    try:
        snapshot = str(session.execute(text(EXPORT)).scalar_one())
    except DBAPIError:
        session.rollback()  # the session reads on, in a transaction of its own
        return None
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        return None
    other = Session(engine)
    other.connection(execution_options=repeatable)
    other.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
    return other


def _sqlite_pair(engine: Engine, session: Session) -> Session | None:
    read = text("SELECT 1 FROM sqlite_master LIMIT 1")  # a read: the snapshot is taken
    session.rollback()
    lock = engine.raw_connection()
    try:
        con: Any = lock.driver_connection
        con.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
        try:
            con.execute("BEGIN IMMEDIATE")
        except Exception:  # a writer at work (or a read-only file): read on one
            return None
        finally:
            con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            session.execute(read)
            other = Session(engine)
            other.execute(read)
        finally:
            con.execute("ROLLBACK")
    finally:
        lock.close()
    return other


class Beside:
    """``work(session)`` run on a thread of its own, started at once;
    ``result()`` waits for it and returns what it returned, or raises what it raised.
    Used as a context manager: a block left by an error (Ctrl-C) first stops the
    statement the thread runs (``sqlite3``'s interrupt, PostgreSQL's cancel), so the
    session is not closed under it. The thread is a daemon: an exit never waits."""

    def __init__(self, session: Session, work: Callable[[Session], Any]) -> None:
        self._work = partial(work, session)
        self._dbapi: Any = session.connection().connection.dbapi_connection
        self._out: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._out = self._work()
        except BaseException as exc:  # handed to result()
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._out

    def __enter__(self) -> Beside:
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if error is not None and self._thread.is_alive():
            self.stop()

    def stop(self, wait: float = 2.0) -> None:
        """Stop the thread's statement and wait up to ``wait`` seconds for it to end."""
        if isinstance(self._dbapi, sqlite3.Connection):
            self._dbapi.interrupt()
        else:  # psycopg: a cancel request on its own connection to the server
            (getattr(self._dbapi, "cancel_safe", None) or self._dbapi.cancel)()
        self._thread.join(wait)
