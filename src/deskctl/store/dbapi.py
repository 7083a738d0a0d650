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
write transaction runs the same read queries inside itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

from deskctl.errors import BadInput, StoreUnavailable
from deskctl.store.connect import BUSY_TIMEOUT_MS, keyring_password, needs_password

Converter = Callable[[Any], Any]


# -- column converters: raw DBAPI value -> the value the ORM types give -------------------


def instant(value: Any) -> datetime | None:
    """UTCDateTime: SQLite keeps naive UTC text, PostgreSQL an aware timestamp."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def cents(value: Any) -> Decimal | None:
    """Cents: whole cents in a BIGINT."""
    if value is None:
        return None
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


def decimal_text(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def json_doc(value: Any) -> Any:
    """JSON columns: text on SQLite, decoded by psycopg on PostgreSQL."""
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value


# -- queries ---------------------------------------------------------------------------

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Query:
    """One read query, written once: ``sql`` with ``:name`` parameters (``pg`` when
    PostgreSQL needs other SQL), and a converter for each column that needs one."""

    sql: str
    types: Mapping[str, Converter] = field(default_factory=dict)
    pg: str | None = None

    def text(self, dialect: str) -> str:
        return self.pg if dialect == "postgresql" and self.pg is not None else self.sql


def _bind(value: Any, dialect: str) -> Any:
    """A parameter as the ORM types store it (SQLite: naive UTC text, ISO dates)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; instants must be UTC-aware")
        value = value.astimezone(UTC)
        if dialect == "sqlite":
            return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value
    if isinstance(value, date) and dialect == "sqlite":
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _expand(sql: str, params: Mapping[str, Any], dialect: str) -> tuple[str, dict[str, Any]]:
    """Lists become ``(:p_0, :p_1, ...)``; then the driver's own parameter style."""
    bound: dict[str, Any] = {}

    def placeholder(name: str) -> str:
        return f"%({name})s" if dialect == "postgresql" else f":{name}"

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in params:
            raise KeyError(f"query parameter {name!r} not given")
        value = params[name]
        if isinstance(value, (list, tuple, set, frozenset)):
            items = list(value) or [None]  # IN (NULL) matches nothing
            names = [f"{name}_{i}" for i in range(len(items))]
            for n, v in zip(names, items, strict=True):
                bound[n] = _bind(v, dialect)
            return "(" + ", ".join(placeholder(n) for n in names) + ")"
        bound[name] = _bind(value, dialect)
        return placeholder(name)

    if dialect == "postgresql":
        sql = sql.replace("%", "%%")
    return _PARAM.sub(sub, sql), bound


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


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


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


class Reader:
    """Runs :class:`Query` objects on one DBAPI connection; rows come back as dicts."""

    def __init__(self, con: Any, dialect: str, *, execute: Callable[..., Any] | None = None):
        self.con = con
        self.dialect = dialect
        self._execute = execute or self._dbapi_execute

    @classmethod
    def over(cls, session: Any) -> Reader:
        """The same queries inside an open SQLAlchemy session's transaction."""
        conn = session.connection()
        dialect = conn.dialect.name

        def execute(sql: str, params: dict[str, Any]) -> Any:
            session.flush()  # the raw SQL must see what the ORM holds pending
            return conn.exec_driver_sql(sql, params)

        return cls(conn, dialect, execute=execute)

    def _dbapi_execute(self, sql: str, params: dict[str, Any]) -> Any:
        cur = self.con.cursor()
        cur.execute(sql, params)
        return cur

    def _run(self, q: Query, params: Mapping[str, Any]) -> tuple[list[str], Any]:
        sql, bound = _expand(q.text(self.dialect), params, self.dialect)
        try:
            cur = self._execute(sql, bound)
        except Exception as exc:
            raise _store_error(exc) from None
        if hasattr(cur, "keys"):  # a SQLAlchemy result (Reader.over)
            return list(cur.keys()), cur
        return [d[0] for d in cur.description], cur

    def all(self, q: Query, /, **params: Any) -> list[dict[str, Any]]:
        names, cur = self._run(q, params)
        return [_convert(names, row, q.types) for row in cur.fetchall()]

    def iter(self, q: Query, /, *, size: int = 2000, **params: Any) -> Iterator[dict[str, Any]]:
        names, cur = self._run(q, params)
        while batch := cur.fetchmany(size):
            for row in batch:
                yield _convert(names, row, q.types)

    def one(self, q: Query, /, **params: Any) -> dict[str, Any] | None:
        rows = self.all(q, **params)
        return rows[0] if rows else None

    def scalars(self, q: Query, /, **params: Any) -> list[Any]:
        names, cur = self._run(q, params)
        convert = q.types.get(names[0])
        values = [row[0] for row in cur.fetchall()]
        return [convert(v) for v in values] if convert else values


def _convert(names: Sequence[str], row: Sequence[Any], types: Mapping[str, Converter]) -> dict:
    doc = dict(zip(names, row, strict=True))
    for name, convert in types.items():
        if name in doc:
            doc[name] = convert(doc[name])
    return doc


def _store_error(exc: Exception) -> Exception:
    """Driver errors as the SQLAlchemy path reports them: unavailable store is exit 5."""
    if isinstance(exc, (StoreUnavailable, KeyError)):
        return exc
    kind = type(exc).__name__
    if kind == "OperationalError":
        return StoreUnavailable(f"store unavailable: {_first_line(getattr(exc, 'orig', exc))}")
    # the same PostgreSQL classes as store.db.store_error: a value the column cannot
    # hold (22xxx, e.g. an id beyond bigint) is bad input; privilege and a server
    # going away leave the store unavailable
    sqlstate = str(getattr(exc, "sqlstate", "") or "")
    if sqlstate.startswith("22"):
        return BadInput(f"the store refused a value: {_first_line(exc)}")
    if sqlstate == "42501" or sqlstate.startswith(("08", "57P")) or sqlstate == "53300":
        return StoreUnavailable(f"store unavailable: {_first_line(exc)}")
    return exc


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
    con, dialect = _checked(raw_url)
    try:
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
    finally:
        con.close()


def _configured() -> str:
    from deskctl.config import database_url

    return database_url()
