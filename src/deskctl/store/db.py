"""Engine and transactions for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout, and every
write transaction starts with ``BEGIN IMMEDIATE`` so two commands queue for
the write lock instead of failing half-way or losing an update.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from deskctl.errors import Refused, StoreUnavailable

KEYRING_SERVICE = "deskctl-db"
BUSY_TIMEOUT_MS = 30_000
# A GRANT or one of migration 0008's triggers said no: refused (exit 1), not a crash.
INSUFFICIENT_PRIVILEGE = "42501"


def keyring_key(url: URL) -> str:
    return f"{url.username or ''}@{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def _password_from_keyring(url: URL) -> str | None:
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, keyring_key(url))
    except Exception as exc:  # no backend on a headless machine: fall back, never crash
        print(
            f"deskctl: keyring unavailable ({type(exc).__name__}); using PGPASSWORD or ~/.pgpass",
            file=sys.stderr,
        )
        return None


def resolve_url(raw: str) -> URL:
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername.startswith("postgresql") and url.password is None:
        password = _password_from_keyring(url)
        if password:
            url = url.set(password=password)
    return url


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


def _make_engine(raw_url: str) -> Engine:
    url = resolve_url(raw_url)
    if url.drivername.startswith("sqlite"):
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _sqlite_setup(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def default_engine() -> Engine:
    from deskctl.config import database_url

    return get_engine(database_url())


@contextmanager
def store_errors() -> Iterator[None]:
    """Map driver failures to the one-line 'store unavailable' error (exit 5)."""
    try:
        yield
    except OperationalError as exc:
        raise StoreUnavailable(f"store unavailable: {_first_line(exc)}") from None
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(f"store unavailable: {_first_line(exc)}") from None
        if getattr(exc.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            raise Refused(f"refused by the database: {_first_line(exc)}") from None
        raise


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


@contextmanager
def session(
    engine: Engine | None = None, *, write: bool = False, act_as: bool = False
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
    with store_errors(), Session(bind, expire_on_commit=False) as s:
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


def migrations_dir() -> Path:
    """The Alembic scripts shipped inside the package (an installed wheel included)."""
    from importlib.resources import files

    return Path(str(files("deskctl") / "migrations"))


def _head_from_files() -> str:
    # Revisions are numbered in the order they apply (a test checks the chain), so the
    # highest number is the head; reading file names costs nothing next to importing alembic.
    names = [p.name for p in (migrations_dir() / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
    return max(name[:4] for name in names)


# The revision this code expects: the head of the shipped migrations.
SCHEMA_HEAD = _head_from_files()


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Create or upgrade the schema; returns (before, after). Idempotent."""
    from alembic import command

    before = current_revision(engine)
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
    if rev is None and engine.dialect.name == "sqlite":
        upgrade(engine)
        return engine
    if rev is None:
        raise StoreUnavailable("store not initialised: run `deskctl init`")
    raise StoreUnavailable(
        f"store schema is at {rev}, this deskctl needs {SCHEMA_HEAD}: run `deskctl db upgrade`"
    )
