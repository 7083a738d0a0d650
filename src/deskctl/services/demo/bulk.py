"""Writing the demo into the store fast: master data through SQLAlchemy Core, then
tickets, events and work log in chunks of about 20,000 events, one transaction per
chunk -- SQLite through the driver's ``executemany`` with values already in the
store's text form, PostgreSQL through ``COPY``. A large SQLite load builds the
ticket and event indexes once at the end instead of updating them row by row.

The column lists come from the tables (``table_columns``): the maker fills them in the
tables' own order, and a column it does not fill is left to its default.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from deskctl.errors import Refused
from deskctl.services.demo.maker import Batch
from deskctl.services.demo.master import _ID_TABLES, MASTER_TABLES, MasterData

BULK_INDEX_TICKETS = 20_000  # from this size, SQLite indexes are built after the load
SQLITE_CACHE_KIB = 131_072  # page cache while loading (SQLite's default is 2 MiB)

# Columns the maker leaves to their defaults: generated ids, the entitlement decision
# (the demo's tickets are all entitled) and the invoice link of work entries (nothing
# is billed yet). The SLA columns and facts it computes, for every ticket.
LEFT_TO_DEFAULTS: dict[str, tuple[str, ...]] = {
    "ticket": ("entitlement",),
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


def _write_batch(engine: Any, batch: Batch) -> None:
    """One transaction: the batch's tickets, then their events, work log and SLA facts."""
    tables = (
        ("ticket", table_columns("ticket"), batch.tickets),
        ("ticket_event", table_columns("ticket_event"), batch.events),
        ("worklog", table_columns("worklog"), batch.worklog),
        ("sla_fact", table_columns("sla_fact"), batch.facts),
    )
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            raw = conn.connection.dbapi_connection
            with raw.cursor() as cur:
                for table, columns, rows in tables:
                    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
        return
    with engine.execution_options(begin="IMMEDIATE").begin() as conn:
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        for table, columns, rows in tables:
            if rows:
                marks = ", ".join("?" * len(columns))
                conn.exec_driver_sql(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )


@contextmanager
def _indexes_built_after(engine: Any, tickets: int) -> Iterator[None]:
    """SQLite, large demos: drop the ticket and event indexes, build them again at the end.

    One sorted build per index is much cheaper than a million scattered
    inserts into it. The rebuild runs even if the load fails half-way, so the
    store never stays without its indexes (short of the process being killed).
    PostgreSQL showed no measurable gain, so it keeps its indexes.
    """
    if engine.dialect.name != "sqlite" or tickets < BULK_INDEX_TICKETS:
        yield
        return
    with engine.begin() as conn:
        indexes = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('ticket', 'ticket_event', 'sla_fact') ORDER BY name"
        ).all()
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            for _, ddl in indexes:
                conn.exec_driver_sql(ddl)


def _after_load(engine: Any) -> None:
    """PostgreSQL: fresh planner statistics; serial sequences past the demo's explicit ids."""
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with engine.begin() as conn:
        # plans for the new size
        conn.execute(text("ANALYZE ticket, ticket_event, worklog, sla_fact"))
        for table in _ID_TABLES:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )
