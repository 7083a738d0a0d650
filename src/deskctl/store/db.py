"""Engine and transactions for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout, and every
write transaction starts with ``BEGIN IMMEDIATE`` so two commands queue for
the write lock instead of failing half-way or losing an update.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
)
from sqlmodel import Session

from deskctl import files
from deskctl.errors import BadInput, Conflict, DeskctlError, Refused, StoreUnavailable
from deskctl.store.connect import (  # noqa: F401 -- cli.db uses KEYRING_SERVICE
    BUSY_TIMEOUT_MS,
    KEYRING_SERVICE,
    setup_pg_session,
)
from deskctl.store.schema import SCHEMA_HEAD, migrations_dir

SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
# One of migration 0009's rule triggers said no (its own message): refused, exit 1. A
# plain GRANT refusal ("permission denied for table ...") means this login is no deskctl
# role at all: the store is unavailable to it, exit 5.
INSUFFICIENT_PRIVILEGE = "42501"


def keyring_key(url: URL) -> str:
    return f"{url.username or ''}@{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def resolve_url(raw: str) -> URL:
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername not in SUPPORTED_DRIVERS:
        raise BadInput(
            f"DESKCTL_DB: {url.drivername}:// is not supported; use a SQLite file path or "
            "postgresql://user@host/db"
        )
    return url


def _keyring_on_demand(engine: Engine, url: URL) -> None:
    """Ask the keyring only when the server wants a password the URL does not give.

    Probing it on every connect cost about half a second on a machine without a
    keyring backend, for stores that use trust, peer, PGPASSWORD or ~/.pgpass.
    """
    if url.password is not None:
        return

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _rec: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        from deskctl.store.connect import keyring_password, needs_password

        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:
            if not needs_password(exc):
                raise
            password = keyring_password(keyring_key(url))
            if not password:
                raise
            cparams["password"] = password
            return None  # SQLAlchemy connects again, with the password


def redacted(url: URL | str) -> str:
    """A URL safe to print: the password is never shown."""
    return make_url(str(url)).render_as_string(hide_password=True)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        # WAL rewrites the file header: only in an empty file or deskctl's own store,
        # never in another application's database (which is refused right after).
        cur.execute(
            "SELECT count(*) = 0 OR sum(name = 'alembic_version') > 0 FROM sqlite_master"
        )
        if cur.fetchone()[0]:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


_ENGINES: dict[str, Engine] = {}


def get_engine(raw_url: str) -> Engine:
    """One engine (and pool) per store URL for the life of the process."""
    engine = _ENGINES.get(raw_url)
    if engine is None:
        engine = _ENGINES[raw_url] = _make_engine(raw_url)
    return engine


def dispose(raw_url: str) -> None:
    """Close and forget the engine of one store (its file is about to be replaced)."""
    engine = _ENGINES.pop(raw_url, None)
    if engine is not None:
        engine.dispose()


def dispose_all() -> None:
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def _parse_url(raw_url: str) -> URL:
    try:
        url = resolve_url(raw_url)
    except (ArgumentError, ValueError) as exc:
        raise BadInput(f"DESKCTL_DB: not a store URL or file path: {_first_line(exc)}") from None
    return url


def _quiet_cleanup_logs() -> None:
    """SQLAlchemy logs its own cleanup failures, traceback and all: a query stopped by
    Ctrl-C while its rows stream in leaves the connection invalidated, and the cursor
    then cannot be closed ("Cannot operate on a closed database"). With no handler
    configured, Python prints such a record on stderr (``logging.lastResort``), under
    the command's one line. A handler that drops them keeps stderr to that line; with
    DESKCTL_DEBUG set they print as before."""
    import logging

    logger = logging.getLogger("sqlalchemy")
    if os.environ.get("DESKCTL_DEBUG") or logger.handlers:
        return
    logger.addHandler(logging.NullHandler())


def _make_engine(raw_url: str) -> Engine:
    _quiet_cleanup_logs()
    url = _parse_url(raw_url)
    if url.drivername.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        if url.database and url.database != ":memory:":
            path = Path(url.database)
            # created owner-only on first use, not when the engine is made
            event.listen(engine, "do_connect", lambda *_: _create_sqlite_file(path))
        _sqlite_setup(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    _keyring_on_demand(engine, url)
    event.listen(engine, "connect", lambda con, _record: setup_pg_session(con))
    return engine


def _create_sqlite_file(path: Path) -> None:
    """A new store file is owner-only from its first byte (its -wal/-shm inherit the mode)."""
    try:
        files.create_private(path)
    except OSError as exc:
        raise StoreUnavailable(f"store unavailable: {path}: {exc.strerror or exc}") from None


def default_engine() -> Engine:
    from deskctl.config import database_url

    return get_engine(database_url())


def store_error(exc: BaseException) -> DeskctlError | None:
    """The one map of driver failures: a lost race (a unique or foreign key the other
    writer took first) is a conflict, exit 4; an unreachable or broken store exit 5.
    None for anything else (a bug, not the user's store)."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == INSUFFICIENT_PRIVILEGE and not _first_line(exc).startswith("permission denied"):
        return Refused(f"refused by the database: {_first_line(exc)}")
    if sqlstate in _UNAVAILABLE_SQLSTATES:
        return StoreUnavailable(f"store unavailable: {_first_line(exc)}")
    if isinstance(exc, IntegrityError):
        return Conflict("changed by someone else meanwhile; try again")
    if isinstance(exc, DataError):  # a value the column cannot hold (PostgreSQL)
        return BadInput(f"the store refused a value: {_first_line(exc)}")
    if isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return StoreUnavailable(f"store unavailable: {_first_line(exc)}")
    if isinstance(exc, DatabaseError) and _is_not_a_database(exc):
        return StoreUnavailable(f"store unavailable: {_first_line(exc)}")
    return None


# PostgreSQL errors that are not deskctl's fault: privilege (42501), the server
# shutting down or gone (57P01-57P03, 08*), too many connections (53300).
_UNAVAILABLE_SQLSTATES = {"42501", "57P01", "57P02", "57P03", "53300", "08000", "08003", "08006"}


@contextmanager
def store_errors() -> Iterator[None]:
    """An unavailable store raised as exit 5 where it happens. A lost race stays the
    driver's IntegrityError until the CLI maps it (``store_error``): a caller that
    expects one -- the sweep's idempotency keys -- must be able to tell it apart."""
    try:
        yield
    except DBAPIError as exc:
        mapped = store_error(exc)
        if isinstance(mapped, StoreUnavailable | Refused):
            raise mapped from None
        raise


def _is_not_a_database(exc: DatabaseError) -> bool:
    message = str(getattr(exc, "orig", exc)).lower()
    return "not a database" in message or "malformed" in message or "encrypted" in message


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


@contextmanager
def session(
    engine: Engine | Connection | None = None, *, write: bool = False, act_as: bool = False
) -> Iterator[Session]:
    """One transaction. ``write=True`` takes SQLite's write lock up front.

    A write transaction first checks who is acting (store.identity): a read-only
    role or a forged ``DESKCTL_USER`` is refused before anything is written, and
    inside the block ``config.acting_user()`` names the identity found.
    ``act_as``: the command writes history in other agents' names (demo, imports).
    """
    from deskctl import config
    from deskctl.domain.roles import Act
    from deskctl.store import identity

    engine = engine or default_engine()
    bind = engine.execution_options(begin="IMMEDIATE") if write else engine
    # A connection already in a transaction (a dry run that is rolled back as a whole):
    # each session is a savepoint inside it, so its commit and rollback stay inside too.
    joined: dict[str, Any] = (
        {"join_transaction_mode": "create_savepoint"} if isinstance(bind, Connection) else {}
    )
    with store_errors(), Session(bind, expire_on_commit=False, **joined) as s:
        token = None
        try:
            if write:
                who = identity.require(s, Act.WORK, act_as=act_as)
                token = config.ACTING.set(who.login)
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            if token is not None:
                config.ACTING.reset(token)


def current_revision(engine: Engine) -> str | None:
    with store_errors(), engine.connect() as conn:
        try:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        except (OperationalError, DBAPIError) as exc:
            if _is_missing_table(exc):
                return None
            raise
        return row[0] if row else None


def _is_missing_table(exc: Exception) -> bool:
    message = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in message or "does not exist" in message


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["engine"] = engine
    return cfg


def known_revisions() -> set[str]:
    return {p.name[:4] for p in (migrations_dir() / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")}


def check_revision(engine: Engine, rev: str | None) -> None:
    """Refuse a store this code must not touch: a newer deskctl's, or another program's."""
    if rev is None:
        _refuse_foreign(engine)
    elif rev not in known_revisions():
        if rev.isdigit() and rev > SCHEMA_HEAD:
            raise StoreUnavailable(
                f"store is at revision {rev}, newer than this deskctl (head {SCHEMA_HEAD}): "
                "upgrade deskctl"
            )
        raise StoreUnavailable(
            f"store is at revision {rev!r}, unknown to this deskctl (head {SCHEMA_HEAD}): "
            "not a deskctl store"
        )


def _refuse_foreign(engine: Engine) -> None:
    """A schema is created only in an empty database or file, never beside another
    application's tables."""
    from sqlalchemy import inspect

    with store_errors(), engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise StoreUnavailable(
            f"store {redacted(engine.url)} is not empty and not a deskctl store "
            f"(found tables {shown}): refusing to create deskctl's schema in it"
        )


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Create or upgrade the schema; returns (before, after). Idempotent."""
    from alembic import command

    before = current_revision(engine)
    check_revision(engine, before)
    with store_errors():
        command.upgrade(alembic_config(engine), revision)
        if engine.dialect.name == "postgresql":
            from deskctl.store import teams

            with engine.begin() as conn:  # tables added by this upgrade get their GRANTs
                teams.apply_if_possible(conn)
    return before, current_revision(engine)


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(
        alembic_config(default_engine_placeholder())
    ).get_current_head()


def default_engine_placeholder() -> Engine:
    return create_engine("sqlite://")


def ready_engine() -> Engine:
    """The engine of the configured store, with its schema known to be current.

    An empty SQLite store is created on first use (like sqlite-utils); any other
    store behind this code's schema must be upgraded on purpose.
    """
    engine = default_engine()
    rev = current_revision(engine)
    if rev == SCHEMA_HEAD:
        return engine
    check_revision(engine, rev)
    if rev is None and engine.dialect.name == "sqlite":
        upgrade(engine)
        return engine
    if rev is None:
        raise StoreUnavailable("store not initialised: run `deskctl init`")
    raise StoreUnavailable(
        f"store schema is at {rev}, this deskctl needs {SCHEMA_HEAD}: run `deskctl db upgrade`"
    )
