"""The business seconds of tickets that lack them (``sla refresh --all`` on a store
upgraded from 0013), read and written on the session's DBAPI connection.

A million rows through the ORM's type processors and ``executemany`` parameter
building cost more than the rule itself: the instants come back as epoch seconds,
and the rows are written with the driver's own ``executemany``. Past
``BULK_ROWS`` the six indexes of 0014 are dropped and built again after
the writes, in the same transaction (as ``demo`` builds its indexes after its
load): one sort per index instead of a random B-tree update per row and index.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Index

from deskctl.store import rewrite
from deskctl.store.models import Ticket, table_of
from deskctl.store.reads.report import UNMEASURED, Cohort
from deskctl.store.sql import Query, Reader

BULK_ROWS = 20_000
_MISSING = " OR ".join(f"({where})" for where in UNMEASURED.values())


def unfilled(session: Any) -> Iterator[list[tuple[Any, ...]]]:
    """(id, rev, policy version, calendar, opened, info complete, responded, resolved,
    outcome, closed) of the tickets whose seconds are missing although their instants
    are set; instants as whole epoch seconds, a batch at a time."""
    c = Cohort(_reader(session), {})
    instants = ", ".join(
        c.epoch(name) for name in ("opened_at", "info_complete_at", "responded_at", "resolved_at")
    )
    sql = (
        f"SELECT id, rev, policy_version_id, calendar, {instants}, outcome,"
        f" {c.epoch('closed_at')} FROM ticket WHERE {_MISSING} ORDER BY id"
    )
    return c.reader.batches(Query(sql))


def write(session: Any, rows: Sequence[tuple[int | None, int | None, int, int]]) -> None:
    """(response seconds, resolution seconds, id, rev) each: a row whose rev moved
    meanwhile was written by that move and is left alone."""
    bulk = len(rows) >= BULK_ROWS
    indexes = [ix for ix in table_of(Ticket).indexes if _is_wait_index(ix)] if bulk else []
    columns = ("response_business_seconds", "resolution_business_seconds")
    rewrite.update_tickets(session, columns, rows, indexes)


def _is_wait_index(ix: Index) -> bool:
    """The indexes of 0014: the seconds in order, and the partial ones of the tickets
    still to be measured (emptied by the fill: a delete per row otherwise)."""
    return str(ix.name).startswith(("ix_ticket_response_", "ix_ticket_resolution_"))


def _reader(session: Any) -> Reader:
    conn = session.connection()
    return Reader(conn.connection.driver_connection, conn.dialect.name)


def missing(session: Any) -> int:
    """How many tickets lack the seconds although their instants are set."""
    row = _reader(session).batches(Query(f"SELECT count(*) FROM ticket WHERE {_MISSING}"))
    return int(next(row)[0][0])
