"""Read queries straight through the DBAPI (``sqlite3``, ``psycopg``): no SQLAlchemy.

A read command spends most of its time importing; SQLAlchemy and SQLModel alone
cost more than the whole of ``ticket list`` should. So read commands open a
:class:`Reader` here and run :class:`Query` objects written once in
``store/reads/``: SQL with ``:name`` parameters and a converter per column, so a
row comes back as the ORM would give it (UTC-aware instants, ``date``,
``Decimal`` money, decoded JSON, ``bool``).

The SQLModel tables stay the one definition of the schema; a test runs every
query on both backends against stores built through the ORM write path.

A reader can also wrap an open SQLAlchemy session (:meth:`Reader.over`), so a
write transaction runs the same read queries inside itself. ``Query`` and
``Reader`` live in ``store.sql`` (no connections there, so ``store.identity`` can
use them on both paths); this module opens the connections and the transactions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from deskctl.errors import StoreUnavailable
from deskctl.store.connect import (
    BUSY_TIMEOUT_MS,
    keyring_password,
    needs_password,
    setup_pg_session,
)
from deskctl.store.sql import Converter as Converter
from deskctl.store.sql import Query as Query
from deskctl.store.sql import Reader as Reader
from deskctl.store.sql import _expand, _first_line, _store_error
from deskctl.store.sql import cents as cents
from deskctl.store.sql import day as day
from deskctl.store.sql import decimal_text as decimal_text
from deskctl.store.sql import flag as flag
from deskctl.store.sql import instant as instant
from deskctl.store.sql import json_doc as json_doc

# -- connections -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the store is: a SQLite file or a PostgreSQL conninfo (no SQLAlchemy URL)."""

    dialect: str  # "sqlite" | "postgresql"
    path: str = ""  # SQLite file
    conninfo: str = ""  # libpq URI, driver suffix removed
    has_password: bool = False
    key: str = ""  # keyring key, as store.db.keyring_key writes it


def target(raw_url: str) -> Target:
    scheme, _, rest = raw_url.partition("://")
    driver = scheme.split("+", 1)[0]
    if driver == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        return Target("sqlite", path=unquote(path.split("?", 1)[0]))
    if driver in ("postgresql", "postgres"):
        parts = urlsplit(raw_url)
        key = (
            f"{unquote(parts.username or '')}@{parts.hostname or 'localhost'}:"
            f"{parts.port or 5432}/{unquote(parts.path.lstrip('/'))}"
        )
        return Target(
            "postgresql",
            conninfo="postgresql://" + rest,
            has_password=parts.password is not None,
            key=key,
        )
    raise StoreUnavailable(f"store unavailable: unsupported store URL scheme {scheme!r}")


def _connect_sqlite(t: Target) -> Any:
    import sqlite3
    from pathlib import Path

    if not Path(t.path).is_file():
        return None  # not created yet: the full path creates it (first use)
    con = sqlite3.connect(t.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA synchronous = NORMAL")
    return con


def _connect_pg(t: Target) -> Any:
    con = _login_pg(t)
    setup_pg_session(con)
    return con


def _login_pg(t: Target) -> Any:
    import psycopg

    try:
        return psycopg.connect(t.conninfo, connect_timeout=10, autocommit=True)
    except psycopg.OperationalError as exc:
        if t.has_password or not needs_password(exc):
            raise StoreUnavailable(f"store unavailable: {_first_line(exc)}") from None
        password = keyring_password(t.key)
        if not password:
            raise StoreUnavailable(f"store unavailable: {_first_line(exc)}") from None
    try:
        return psycopg.connect(t.conninfo, connect_timeout=10, autocommit=True, password=password)
    except psycopg.OperationalError as exc:
        raise StoreUnavailable(f"store unavailable: {_first_line(exc)}") from None



_REVISION = Query("SELECT version_num FROM alembic_version")


def _revision(reader: Reader) -> str | None:
    try:
        rows = reader.scalars(_REVISION)
    except StoreUnavailable:  # sqlite: no such table
        return None
    except Exception as exc:
        if "does not exist" in str(exc) or "no such table" in str(exc):
            return None
        raise
    return rows[0] if rows else None


def _checked(raw_url: str | None) -> tuple[Any, str]:
    """A connection to the configured store, its schema known to be this code's.

    Anything but a store at this code's revision (missing, empty, older, newer) is
    left to ``store.db.ready_engine``, which creates, refuses or explains.
    """
    from deskctl.store.schema import SCHEMA_HEAD

    t = target(raw_url or _configured())
    con = _open(t)
    if con is None or _revision_of(con, t.dialect) != SCHEMA_HEAD:
        if con is not None:
            con.close()
        from deskctl.store import db

        db.ready_engine()  # raises, or creates/upgrades a first-use SQLite store
        con = _open(t)
        assert con is not None
    return con, t.dialect


@contextmanager
def read(raw_url: str | None = None) -> Iterator[Reader]:
    """One read-only transaction on the configured store, its schema checked first."""
    con, dialect = _checked(raw_url)
    try:
        yield from _transaction(con, dialect)
    finally:
        con.close()


def _open(t: Target) -> Any:
    if t.dialect == "sqlite":
        try:
            return _connect_sqlite(t)
        except Exception as exc:
            raise StoreUnavailable(f"store unavailable: {_first_line(exc)}") from None
    return _connect_pg(t)


def _revision_of(con: Any, dialect: str) -> str | None:
    try:
        return _revision(Reader(con, dialect))
    except StoreUnavailable:
        return None


def _transaction(con: Any, dialect: str) -> Iterator[Reader]:
    # One snapshot for every query of the command (REPEATABLE READ on PostgreSQL).
    if dialect == "postgresql":
        con.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    else:
        con.execute("BEGIN")
    try:
        yield Reader(con, dialect)
    finally:
        con.execute("ROLLBACK")


# -- writes ------------------------------------------------------------------------------


class Writer(Reader):
    """A write transaction on one DBAPI connection: the reads, plus statements."""

    def execute(self, q: Query, /, **params: Any) -> int:
        """Run an INSERT/UPDATE; the number of rows it touched."""
        _names, cur = self._run_statement(q, params)
        return int(cur.rowcount)

    def _run_statement(self, q: Query, params: Mapping[str, Any]) -> tuple[None, Any]:
        sql, bound = _expand(q.text(self.dialect), params, self.dialect)
        try:
            return None, self._execute(sql, bound)
        except Exception as exc:
            raise _write_error(exc) from None

    def json(self, value: Any, *, none_as_null: bool = False) -> Any:
        """A JSON column's parameter as SQLAlchemy's JSON type writes it."""
        if value is None and none_as_null:
            return None
        if self.dialect == "postgresql":
            from psycopg.types.json import Json

            return Json(value)
        return json.dumps(value)

    def for_update(self) -> str:
        """Lock the rows read on PostgreSQL; SQLite's write transaction already holds it."""
        return " FOR UPDATE" if self.dialect == "postgresql" else ""


def _write_error(exc: Exception) -> Exception:
    """An integrity error is a lost race (exit 4), as on the SQLAlchemy path."""
    from deskctl.errors import Conflict

    if type(exc).__name__ in ("IntegrityError", "UniqueViolation", "ForeignKeyViolation"):
        return Conflict("changed by someone else meanwhile; try again")
    if type(exc).__name__ == "SerializationFailure":
        return Conflict("changed by someone else meanwhile; try again")
    return _store_error(exc)


@contextmanager
def write(raw_url: str | None = None) -> Iterator[Writer]:
    """One write transaction; SQLite takes its write lock up front (``BEGIN IMMEDIATE``)
    so two commands queue for it instead of failing half-way."""
    with writes(raw_url) as transaction, transaction() as writer:
        yield writer


@contextmanager
def writes(raw_url: str | None = None) -> Iterator[Callable[[], Any]]:
    """One connection (its schema checked once) for many write transactions: a move on
    a thousand ids opens one connection, and ``transaction()`` for each id."""
    con, dialect = _checked(raw_url)
    try:
        yield lambda: _write_transaction(con, dialect)
    finally:
        con.close()


@contextmanager
def _write_transaction(con: Any, dialect: str) -> Iterator[Writer]:
    con.execute("BEGIN IMMEDIATE" if dialect == "sqlite" else "BEGIN")
    writer = Writer(con, dialect)
    try:
        yield writer
    except BaseException:
        con.execute("ROLLBACK")
        raise
    try:
        con.execute("COMMIT")
    except Exception as exc:
        raise _write_error(exc) from None


def _configured() -> str:
    from deskctl.config import database_url

    return database_url()
