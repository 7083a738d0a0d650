"""Writing the demo into the store fast: master data through SQLAlchemy Core, then
tickets, events, work log and SLA facts in chunks of about 20,000 events, all in one
transaction (``loading``) -- SQLite through the driver's ``executemany`` with values
already in the store's text form, PostgreSQL through ``COPY``. A large load (either
backend) builds the ticket and event indexes once at the end instead of updating them
row by row; on PostgreSQL it also checks the foreign keys once at the end, and skips
the triggers that do nothing for its (trusted) session.

The column lists come from the tables (``table_columns``): the maker fills them in the
tables' own order, and a column it does not fill is left to its default.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from deskctl.errors import Refused
from deskctl.services.demo.maker import Batch
from deskctl.services.demo.master import _ID_TABLES, MASTER_TABLES, MasterData

BULK_INDEX_TICKETS = 20_000  # from this size, SQLite indexes are built after the load
# Page cache while loading (SQLite's default is 2 MiB): every table and the one index kept
# (ticket_event's unique key) grow in key order, so a few hot pages serve; 16 and 128 MiB
# load at the same speed, and the memory is the index builds' (below).
SQLITE_CACHE_KIB = 16_384
# ... while building the indexes. Each sorter thread takes up to the cache's size again,
# so it sets the demo's peak: the event index at 1M, 2 threads, peaked the process at
# 389 MB with 64 MiB and 259-278 MB with 32 MiB, and the whole demo is no slower (run
# back to back: 180 s wall, 247 s CPU against 192 s, 264 s with 64 MiB).
SQLITE_INDEX_CACHE_KIB = 32_768
# SQLite's sorter runs on two threads for every index build: by then the tickets are
# made and the second core is free. At 1M: the event index (8.7M entries) 35 s -> 24 s
# (idle machine); the wide ticket indexes too (ix_ticket_volume 5.5 s -> 3.7 s); all 34
# builds 74 s -> 66 s.
SQLITE_SORT_THREADS = 2

# PostgreSQL's memory for each index build of a large load (its default, 64 MB, sorts
# the event index on disk).
PG_INDEX_MEMORY = "256MB"

# The tables a large load drops the indexes (and on PostgreSQL the foreign keys) of, as
# an SQL list
_LOADED_SQL = "('ticket', 'ticket_event', 'sla_fact', 'worklog')"

# Columns the maker leaves to their defaults: generated ids, the entitlement decision
# (the demo's tickets are all entitled) and the invoice link of work entries (nothing
# is billed yet). The SLA columns and facts it computes, for every ticket.
LEFT_TO_DEFAULTS: dict[str, tuple[str, ...]] = {
    # the comeback links of 0016 are cross-ticket: written inside the load once every
    # ticket is made (services.demo.links)
    "ticket": ("entitlement", "comeback_id", "comeback_gap", "comeback_next"),
    "ticket_event": ("id",),
    "worklog": ("id", "invoice_line_id"),
    "sla_fact": (),
}


def table_columns(table: str) -> tuple[str, ...]:
    """The columns the demo writes into ``table``, in the table's order: the maker's rows
    follow it, so a column added to the store needs a value only if it has no default."""
    from deskctl.store.models import SQLModel

    leave = LEFT_TO_DEFAULTS[table]
    return tuple(c.name for c in SQLModel.metadata.tables[table].columns if c.name not in leave)


def check_empty(session: Any) -> None:
    """Refuse a store that holds tickets or master data (the demo invents customers)."""
    from sqlalchemy import func, select

    from deskctl.store.models import Customer, KbArticle, Product, Ticket

    counts = {
        what: int(session.execute(select(func.count()).select_from(model)).scalar_one())
        for what, model in (
            ("tickets", Ticket),
            ("customers", Customer),
            ("products", Product),
            ("KB articles", KbArticle),
        )
    }
    held = [f"{n} {what}" for what, n in counts.items() if n]
    if held:
        raise Refused(
            f"the store already holds data ({', '.join(held)}); demo fills only an empty "
            "store: point DESKCTL_DB at a new file"
        )


def _first_ids(session: Any) -> dict[str, int]:
    from sqlalchemy import text

    return {
        t: int(session.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {t}")).scalar_one()) + 1
        for t in _ID_TABLES
    }


def _insert_master(session: Any, master: MasterData) -> None:
    from sqlalchemy import insert, select

    from deskctl.store.models import SQLModel

    tables = SQLModel.metadata.tables
    known = set(session.execute(select(tables["agent"].c.login)).scalars())
    master.rows["agent"] = [r for r in master.rows["agent"] if r["login"] not in known]
    for name in MASTER_TABLES:
        if master.rows[name]:
            session.execute(insert(tables[name]), master.rows[name])


@dataclass
class Load:
    """The one open transaction every batch of tickets is written in."""

    dialect: str  # "sqlite" or "postgresql"
    dbapi: Any  # the driver's connection (sqlite3 or psycopg)
    # a large load: the indexes dropped for it and not built again yet
    dropped: list[tuple[str, str, str]] = field(default_factory=list)
    # a large load on PostgreSQL: the DDL that puts back the row-by-row checks taken
    # off for it (``_suspend_pg_checks``), run once the indexes are built
    restore: list[str] = field(default_factory=list)

    def build_indexes(self, *, but: tuple[str, ...] = ()) -> None:
        """Build the dropped indexes again, except those named in ``but``."""
        todo = [ix for ix in self.dropped if ix[1] not in but]
        if not todo:
            return
        sqlite = self.dialect == "sqlite"
        cur = self.dbapi.cursor()
        if sqlite:  # each index build sorts in up to the cache's size again, per thread
            cur.execute(f"PRAGMA cache_size = -{SQLITE_INDEX_CACHE_KIB}")
            cur.execute(f"PRAGMA threads = {SQLITE_SORT_THREADS}")
        for index in todo:
            cur.execute(index[2])
            self.dropped.remove(index)
        if sqlite:
            cur.execute("PRAGMA threads = 0")
        cur.close()

    def restore_checks(self) -> None:
        """The foreign keys added back (each checked in one join over the whole table)
        and the triggers enabled again."""
        with self.dbapi.cursor() as cur:
            while self.restore:
                cur.execute(self.restore.pop(0))


@contextmanager
def loading(engine: Any, tickets: int) -> Iterator[Load]:
    """One transaction for all the tickets: a demo that fails or is killed half-way
    leaves no ticket (the master data and policies are already committed)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            # a commit the server acknowledges before its WAL is flushed (a cluster
            # run with synchronous_commit off) leaves the rows unmarkable by the VACUUM
            # that follows (``_after_load``) until the WAL writer catches up
            conn.exec_driver_sql("SET LOCAL synchronous_commit = on")
            load = Load("postgresql", conn.connection.dbapi_connection)
            if tickets >= BULK_INDEX_TICKETS:
                conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{PG_INDEX_MEMORY}'")
                load.dropped = _drop_pg_indexes(load.dbapi)
                load.restore = _suspend_pg_checks(load.dbapi)
            yield load
            load.build_indexes()
            load.restore_checks()
        return
    with _sqlite_load(engine, tickets) as load:
        yield load


@contextmanager
def _sqlite_load(engine: Any, tickets: int) -> Iterator[Load]:
    """SQLite: a rollback journal instead of the WAL while loading, no foreign-key
    lookups (the maker's ids point at rows it made), and for large demos the ticket,
    event, fact and work-log indexes dropped and built again at the end -- all inside the one
    transaction, so a failed or killed load rolls back to the indexed, ticket-less
    store. In WAL mode every page is written twice (log, then checkpoint); with a
    rollback journal a page new to the file is written once and never journalled.
    The store's own modes (WAL, foreign keys on) are back before the connection is."""
    release(engine)  # the load's connection is then the only one: the mode can change
    wrapper = engine.raw_connection()
    con = wrapper.driver_connection
    try:
        mode = con.execute("PRAGMA journal_mode").fetchone()[0]
        con.execute("PRAGMA journal_mode = DELETE")
        con.execute("PRAGMA foreign_keys = OFF")
        con.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        con.execute("BEGIN IMMEDIATE")
        try:
            load = Load("sqlite", con)
            if tickets >= BULK_INDEX_TICKETS:
                load.dropped = _drop_indexes(con)
            yield load
            load.build_indexes()  # those the loader did not build itself
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.execute("PRAGMA foreign_keys = ON")
            con.execute(f"PRAGMA journal_mode = {mode}")
    finally:
        wrapper.close()


def release(engine: Any) -> None:
    """Close the engine's pooled connections (an in-memory SQLite store keeps its one)."""
    if engine.dialect.name != "sqlite" or engine.url.database not in (None, "", ":memory:"):
        engine.dispose()


def _drop_indexes(con: Any) -> list[tuple[str, str, str]]:
    """One sorted build per index is much cheaper than a million scattered inserts.
    The indexes dropped: (table, name, DDL)."""
    indexes = con.execute(
        "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' "
        f"AND sql IS NOT NULL AND tbl_name IN {_LOADED_SQL} "
        "ORDER BY name"
    ).fetchall()
    for _, name, _ in indexes:
        con.execute(f'DROP INDEX "{name}"')
    return list(indexes)


def _drop_pg_indexes(con: Any) -> list[tuple[str, str, str]]:
    """PostgreSQL: as ``_drop_indexes`` (DDL is transactional there too), the indexes
    behind no constraint (the keys stay: the foreign keys need them)."""
    with con.cursor() as cur:
        cur.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = current_schema()"
            f" AND tablename IN {_LOADED_SQL}"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"
        )
        indexes = [(str(t), str(n), str(d)) for t, n, d in cur.fetchall()]
        for _, name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
    return indexes


# Triggers that only ever act for a session deskctl_trusted() denies (migration 0009:
# the event's actor set to the login's agent; an entitlement override refused).
_TRUST_TRIGGERS = (("ticket_event", "deskctl_event_actor"), ("ticket", "deskctl_ticket_override"))


def _suspend_pg_checks(con: Any) -> list[str]:
    """PostgreSQL: the foreign keys of the loaded tables dropped, and for a trusted
    session the trust triggers disabled, until the end of the load; the DDL that puts
    them back. Both run for every row COPY writes: at 100k tickets the event actor's
    trigger took 10 s of the server's time and the event's foreign key 5.4 s, against
    3.2 s for the COPY itself; a foreign key added back is checked in one join. DDL is
    transactional: no other session sees the store without them, and a load that
    fails or is killed rolls back to the store with them."""
    with con.cursor() as cur:
        cur.execute(
            "SELECT format('ALTER TABLE %I DROP CONSTRAINT %I', r.relname, c.conname),"
            " format('ALTER TABLE %I ADD CONSTRAINT %I %s', r.relname, c.conname,"
            "        pg_get_constraintdef(c.oid))"
            " FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid"
            " WHERE c.contype = 'f' AND r.relnamespace = current_schema()::regnamespace"
            f" AND r.relname IN {_LOADED_SQL}"
            " ORDER BY r.relname, c.conname"
        )
        keys = [(str(drop), str(add)) for drop, add in cur.fetchall()]
        for drop, _ in keys:
            cur.execute(drop)
        restore = [add for _, add in keys]
        cur.execute("SELECT deskctl_trusted()")
        if not cur.fetchone()[0]:  # the triggers act for this session: they stay
            return restore
        for table, name in _TRUST_TRIGGERS:
            cur.execute(
                "SELECT 1 FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s"
                " AND tgenabled = 'O'",
                (table, name),
            )
            if cur.fetchone() is not None:  # one a team disabled stays disabled
                cur.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER "{name}"')
                restore.append(f'ALTER TABLE "{table}" ENABLE TRIGGER "{name}"')
    return restore


def _write_batch(load: Load, batch: Batch) -> None:
    """A batch's tickets, then their events, work log and SLA facts."""
    tables = (
        ("ticket", table_columns("ticket"), batch.tickets),
        ("ticket_event", table_columns("ticket_event"), batch.events),
        ("worklog", table_columns("worklog"), batch.worklog),
        ("sla_fact", table_columns("sla_fact"), batch.facts),
    )
    if load.dialect == "postgresql":
        with load.dbapi.cursor() as cur:
            for table, columns, rows in tables:
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        return
    for table, columns, rows in tables:
        if rows:
            marks = ", ".join("?" * len(columns))
            load.dbapi.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
            )


def _after_load(engine: Any) -> None:
    """PostgreSQL: the loaded tables vacuumed and analysed; serial sequences past the
    demo's explicit ids."""
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    # VACUUM sets the visibility map, without which every index-only scan of the
    # reports also reads the heap page of each entry (the comeback links' UPDATE leaves
    # the whole ticket table unmarked until autovacuum comes round): at 1M the year's
    # overview took 18 s before it and 3.3 s after; VACUUM itself took 5 s. ANALYZE
    # gives the plans for the new size. INDEX_CLEANUP ON: when few pages hold dead
    # tuples (a small demo's links are updated row by row) PostgreSQL would skip the
    # index pass, and those pages stay unmarked. VACUUM cannot run in a transaction.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(
            text("VACUUM (INDEX_CLEANUP ON, ANALYZE) ticket, ticket_event, worklog, sla_fact")
        )
    with engine.begin() as conn:
        for table in _ID_TABLES:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )
