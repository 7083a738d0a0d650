"""The stored comeback links (``comeback_id``, ``_gap``, ``_next``: ``domain.comebacks``),
read and written on the session's DBAPI connection.

A link is cross-ticket state: it changes when any ticket of the same (customer,
topic) closes solved, reopens, or moves into or out of the group. Every writer of
those columns goes through ``services.tickets.record``, which calls ``relink`` for
the groups it touched, in the same transaction. ``fill`` computes every link of
a store (``sla refresh --all`` after the upgrade to 0016); ``store_on`` writes those
``demo`` computed as it made its tickets.
A ticket with a topic whose gap is NULL has not been linked yet: the findings
report then runs its window instead (``services.findings``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby, islice
from typing import Any

from deskctl.domain.comebacks import Member, links
from deskctl.store.models import Ticket, table_of
from deskctl.store.sql import Query, Reader

_BATCH = 20_000
INDEXES = ("ix_ticket_findings_opened", "ix_ticket_findings_closed")  # hold them (0016)
UNLINKED = "topic != '' AND comeback_gap IS NULL"


@dataclass(frozen=True)
class Dbapi:
    """A driver connection and its dialect: what every function here runs on (a
    session's, or a bulk loader's own inside its transaction: ``demo``)."""

    dialect: str  # "sqlite" or "postgresql"
    con: Any

    @classmethod
    def of(cls, session: Any) -> Dbapi:
        conn = session.connection()
        return cls(conn.dialect.name, conn.connection.driver_connection)

    @property
    def mark(self) -> str:
        return "%s" if self.dialect == "postgresql" else "?"

    def run(self, sql: str) -> None:
        self.con.cursor().execute(sql)


def _reader(db: Dbapi) -> Reader:
    return Reader(db.con, db.dialect)


def _epoch(dialect: str, column: str) -> str:
    """Whole UTC epoch seconds, as the findings report's SQL computes them."""
    if dialect == "postgresql":
        return f"CAST(floor(extract(epoch FROM {column})) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def _select(dialect: str) -> str:
    return (
        f"SELECT customer_id, topic, id, {_epoch(dialect, 'opened_at')},"
        f" {_epoch(dialect, 'closed_at')}, outcome, comeback_id, comeback_gap, comeback_next"
        " FROM ticket"
    )


def relink(session: Any, groups: Iterable[tuple[int, str | None]]) -> int:
    """Recompute the links of every ticket of these (customer, topic) groups; the
    number of rows that changed."""
    db = Dbapi.of(session)
    r = _reader(db)
    changed = 0
    for customer_id, topic in set(groups):
        if not topic:
            continue  # tickets without a topic come back to nothing, and are not linked
        sql = _select(r.dialect) + " WHERE customer_id = :customer_id AND topic = :topic"
        rows = [row for batch in r.batches(Query(sql), customer_id=customer_id, topic=topic)
                for row in batch]  # fmt: skip
        changed += _write(db, list(_changes(rows)))
    return changed


def missing(session: Any) -> int:
    """How many tickets with a topic have no link computed yet."""
    return _missing(Dbapi.of(session))


def _missing(db: Dbapi) -> int:
    row = _reader(db).all(Query(f"SELECT count(*) AS n FROM ticket WHERE {UNLINKED}"))[0]
    return int(row["n"])


def fill(session: Any) -> int:
    """Link every ticket with a topic (those linked already are checked, and written
    only if wrong); the number of rows written. Past ``_BATCH`` tickets to link, the
    links go to a temporary table first and into the tickets in one UPDATE, in id
    order, with the indexes holding them dropped and built again after it (one sort
    instead of a B-tree update per row), in the same transaction."""
    return fill_on(Dbapi.of(session))


def fill_on(db: Dbapi) -> int:
    """``fill`` on a driver connection."""
    r = _reader(db)
    sql = _select(r.dialect) + " WHERE topic != '' ORDER BY customer_id, topic"
    rows = (row for batch in r.batches(Query(sql)) for row in batch)
    groups = groupby(rows, key=lambda row: (row[0], row[1]))
    changes = (change for _, group in groups for change in _changes(list(group)))
    return store_on(db, changes, _missing(db))


def store_on(db: Dbapi, rows: Iterable[tuple[int | None, int, int, int]], count: int) -> int:
    """Write (comeback_id, gap, next, id) rows, ``count`` tickets not linked yet among
    them, ``_BATCH`` at a time; the number written. ``fill_on`` computes them from the
    store, the demo from its tickets as it makes them (``services.demo.links``). Past
    ``_BATCH`` tickets to link they are staged and applied in one UPDATE (``fill``)."""
    bulk = count >= _BATCH
    write = _stage if bulk else _write
    if bulk:
        db.run(_STAGE_TABLE[db.dialect])
    written, rows = 0, iter(rows)
    while chunk := list(islice(rows, _BATCH)):
        written += write(db, chunk)
    if bulk:
        _apply_staged(db)
    return written


_STAGE_TABLE = {
    "sqlite": "CREATE TEMP TABLE comeback_fill"
    " (id INTEGER PRIMARY KEY, link INTEGER, gap INTEGER, next INTEGER)",
    "postgresql": "CREATE TEMP TABLE comeback_fill"
    " (id INTEGER PRIMARY KEY, link INTEGER, gap INTEGER, next INTEGER) ON COMMIT DROP",
}


def _stage(db: Dbapi, rows: list[tuple[int | None, int, int, int]]) -> int:
    if db.dialect == "postgresql":  # one COPY, not a round trip per row
        with (
            db.con.cursor() as cur,
            cur.copy("COPY comeback_fill (link, gap, next, id) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return len(rows)
    m = db.mark
    sql = f"INSERT INTO comeback_fill (link, gap, next, id) VALUES ({m}, {m}, {m}, {m})"
    db.con.cursor().executemany(sql, rows)
    return len(rows)


_PRESENT = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ticket'",
    "postgresql": "SELECT indexname FROM pg_indexes WHERE tablename = 'ticket'",
}


def _apply_staged(db: Dbapi) -> None:
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex, DropIndex

    dialect = postgresql.dialect() if db.dialect == "postgresql" else sqlite.dialect()
    cur = db.con.cursor()
    cur.execute(_PRESENT[db.dialect])
    present = {row[0] for row in cur.fetchall()}
    # only those there: a loader that dropped every index (``demo``) builds them itself
    indexes = [ix for ix in table_of(Ticket).indexes if ix.name in INDEXES and ix.name in present]
    for ix in indexes:
        db.run(str(DropIndex(ix).compile(dialect=dialect)))
    db.run(
        "UPDATE ticket SET comeback_id = f.link, comeback_gap = f.gap, comeback_next = f.next"
        " FROM comeback_fill AS f WHERE ticket.id = f.id"
    )
    for ix in indexes:
        db.run(str(CreateIndex(ix).compile(dialect=dialect)))
    db.run("DROP TABLE comeback_fill")


def _changes(rows: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int | None, int, int, int]]:
    """(comeback_id, gap, next, id) of the rows of one group whose stored link is not
    the rule's."""
    found = links(Member(row[2], row[3], row[4], row[5]) for row in rows)
    for row in rows:
        now = found[row[2]]
        if tuple(row[6:9]) != now:
            yield (*now, row[2])


def _write(db: Dbapi, rows: list[tuple[int | None, int, int, int]]) -> int:
    if not rows:
        return 0
    m = db.mark
    sql = (
        f"UPDATE ticket SET comeback_id = {m}, comeback_gap = {m}, comeback_next = {m}"
        f" WHERE id = {m}"
    )
    db.con.cursor().executemany(sql, rows)
    return len(rows)
