"""The event tallies (``domain.tallies``) of tickets that lack them: ``sla refresh
--all`` on a store upgraded from 0014, on the session's DBAPI connection.

Replaying every history through Python would read every event of the store; the
tallies need only the events of three kinds, so SQL counts those per ticket (from
``ix_event_kind_at_ticket``, which holds only those kinds) and
``domain.tallies.of_counts`` turns the counts into the columns. The rows go back with
the driver's own ``executemany``; past ``BULK_ROWS`` the volume index (which holds
the tallies) is dropped and built again after the writes, in the same transaction.

Each row is written only if its ``rev`` is the one read before the counts: a move
in between wrote its own tallies (every writer does) and is left alone.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import Any

from deskctl.domain import tallies
from deskctl.store import rewrite
from deskctl.store.models import Ticket, table_of
from deskctl.store.reads.report import COUNTED_EVENTS, UNCOUNTED
from deskctl.store.sql import Query, Reader

BULK_ROWS = 20_000
_INDEX = "ix_ticket_volume"


def fill(session: Any) -> int:
    """Write the tallies of every ticket without them; returns how many were written."""
    if not missing(session):  # the usual case: ``ix_ticket_volume`` answers alone
        return 0
    reader = _reader(session)
    ids, revs = array("q"), array("q")
    for batch in reader.batches(Query(f"SELECT id, rev FROM ticket WHERE {UNCOUNTED} ORDER BY id")):
        for tid, rev in batch:
            ids.append(tid)
            revs.append(rev)
    counts = Query(
        f"SELECT ticket_id, kind, count(*) FROM ticket_event WHERE {COUNTED_EVENTS}"
        f" AND ticket_id IN (SELECT id FROM ticket WHERE {UNCOUNTED})"
        " GROUP BY ticket_id, kind ORDER BY ticket_id"
    )
    # compact columns (a million tickets' counts), merged with the ids in id order
    event_ids, kinds, numbers = array("q"), array("b"), array("q")
    kind_no = {kind: i for i, kind in enumerate(tallies.KINDS)}
    for batch in reader.batches(counts):
        for tid, kind, n in batch:
            event_ids.append(tid)
            kinds.append(kind_no[kind])
            numbers.append(int(n))
    rows = _rows(ids, revs, (event_ids, kinds, numbers))
    write(session, rows, bulk=len(ids) >= BULK_ROWS)
    return len(ids)


def _rows(
    ids: array[int], revs: array[int], counted: tuple[array[int], array[int], array[int]]
) -> Iterator[tuple[int, ...]]:
    """(the ``tallies.COLUMNS`` values..., id, rev) of each ticket, ids ascending."""
    event_ids, kinds, numbers = counted
    j = 0
    for tid, rev in zip(ids, revs, strict=True):
        per_kind: dict[str, int] = {}
        while j < len(event_ids) and event_ids[j] == tid:
            per_kind[tallies.KINDS[kinds[j]]] = numbers[j]
            j += 1
        got = tallies.of_counts(per_kind)
        yield (*(got[c] for c in tallies.COLUMNS), tid, rev)


def write(session: Any, rows: Iterable[tuple[int, ...]], *, bulk: bool) -> None:
    """(the ``tallies.COLUMNS`` values..., id, rev) each; ``bulk``: many rows."""
    indexes = [ix for ix in table_of(Ticket).indexes if ix.name == _INDEX] if bulk else []
    rewrite.update_tickets(session, tallies.COLUMNS, rows, indexes)


def missing(session: Any) -> int:
    """How many tickets lack the tallies."""
    rows = _reader(session).batches(Query(f"SELECT count(*) FROM ticket WHERE {UNCOUNTED}"))
    return int(next(rows)[0][0])


def _reader(session: Any) -> Reader:
    conn = session.connection()
    return Reader(conn.connection.driver_connection, conn.dialect.name)
