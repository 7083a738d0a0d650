"""The overview report's scans (``services.reports``), as SQL on the DBAPI connection.

Each query reads one index alone (migrations 0012, 0014, 0015): on SQLite ``INDEXED BY`` names
the index that leads with what the query groups by, so SQLite reads it in order
and needs no temporary B-tree (it has no hash aggregation; its planner, without
statistics, would take the ``opened_at`` range and sort a million keys). With a
customer filter the planner chooses (that customer's tickets are few). PostgreSQL
gets the same SQL without the hints. The business times (0014) read the stored
seconds: a median or p90 is an ``OFFSET`` into an index range in seconds order,
counted from the nearer end. The volume pass (0015) also gives the closed tickets,
the tickets with business seconds and the stored event tallies (``domain.tallies``).

Queries are built per call (the filters and the hints vary), so none is a module
constant: ``tests/cli/test_overview_figures.py`` compares every figure with a
plain computation over every ticket, on both backends.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from typing import Any

from deskctl.domain.tallies import KINDS as COUNTED_KINDS
from deskctl.store.sql import Query, Reader

# unixepoch() (SQLite 3.38) is strftime('%s') without the text round trip
_UNIXEPOCH = sqlite3.sqlite_version_info >= (3, 38)


# Below this share of the store's tickets a cohort is read through ``opened_at``: the
# hinted indexes are read whole, which for a day or a month of a big store costs more
# than reading the range's rows and sorting them. Measured at 1M: a day 3.0 s hinted,
# 1.9 s not; a month (8 %) 3.5 s hinted, 5 s not (the rows' pages cost more there).
WIDE_SHARE = 0.02


class Cohort:
    """Tickets opened in [start, end), optionally of one customer and one product."""

    def __init__(self, reader: Reader, params: dict[str, Any], *, wide: bool = True) -> None:
        self.reader = reader
        self.params = {k: v for k, v in params.items() if v is not None}
        self.wide = wide

    def where(self, alias: str = "") -> str:
        t = f"{alias}." if alias else ""
        out = f"{t}opened_at >= :start AND {t}opened_at < :end"
        if "customer_id" in self.params:
            out += f" AND {t}customer_id = :customer_id"
        if "product" in self.params:
            out += f" AND {t}product = :product"
        return out

    def hint(self, index: str) -> str:
        if self.reader.dialect != "sqlite" or "customer_id" in self.params or not self.wide:
            return ""
        return f" INDEXED BY {index}"

    def epoch(self, column: str) -> str:
        """Whole UTC epoch seconds of an instant column, in SQL (floored, as strftime)."""
        if self.reader.dialect == "postgresql":
            return f"CAST(floor(extract(epoch FROM {column})) AS BIGINT)"
        if _UNIXEPOCH:
            return f"unixepoch({column})"
        return f"CAST(strftime('%s', {column}) AS INTEGER)"

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        return [row for batch in self.batches(sql, **params) for row in batch]

    def batches(self, sql: str, **params: Any) -> Iterator[list[tuple[Any, ...]]]:
        return self.reader.batches(Query(sql), **self.params, **params)


def is_wide(reader: Reader, start: Any, end: Any) -> bool:
    """Whether tickets opened in [start, end) are at least ``WIDE_SHARE`` of the store:
    the id span (separate MIN and MAX, one seek each), then the range counted on
    ``ix_ticket_opened_at`` only as far as that share (a year of 1M is not counted)."""
    span = reader.one(
        Query("SELECT (SELECT max(id) FROM ticket) - (SELECT min(id) FROM ticket) + 1 AS n")
    )
    if span is None or not span["n"]:
        return True
    enough = max(1, math.ceil(WIDE_SHARE * int(span["n"])))
    row = reader.one(
        Query(
            "SELECT count(*) AS n FROM (SELECT 1 FROM ticket WHERE opened_at >= :start"
            " AND opened_at < :end LIMIT :enough) AS counted"
        ),
        start=start,
        end=end,
        enough=enough,
    )
    return row is not None and int(row["n"]) >= enough


# A ticket whose event tallies (``domain.tallies``, 0015) are not stored yet: the three
# columns are written together, so one stands for all.
TALLIED = "reopens"
UNCOUNTED = f"{TALLIED} IS NULL"


def counted_events(table: str = "") -> str:
    """The events the tallies count, and all that ``ix_event_kind_at_ticket`` holds
    (0017): a tenth of the events, so the other nine never touch it. A planner uses a
    partial index only for a WHERE it can prove implies the index's term, which a plan
    made without the values cannot from ``kind = ?``; so the index and each query that
    reads it share this text (``table``: the query's name for the events). ORs,
    not IN: SQLite builds an IN list of three into a table each time it checks a row,
    which made every event written through ``executemany`` twice as dear."""
    kind = f"{table}.kind" if table else "kind"
    return "({})".format(" OR ".join(f"{kind} = '{k}'" for k in COUNTED_KINDS))


COUNTED_EVENTS = counted_events()

VOLUME_KEYS = ("channel", "category", "severity", "product", "version")
TALLIES = ("solutions_proposed", "solutions_rejected", "reopens")


def shared_volumes(c: Cohort) -> list[tuple[Any, ...]]:
    """(channel, category, severity, product, version, solutions proposed, rejected,
    reopens, tickets, closed, with response seconds, with resolution seconds): one pass
    over ``ix_ticket_volume`` in its order. The tallies (0015) are grouped by, not
    added up (each has a handful of values: a few more groups, no sum per row); NULL
    tallies: tickets whose events ``uncounted_events`` counts."""
    keys = ", ".join((*VOLUME_KEYS, *TALLIES))
    return c.rows(
        f"SELECT {keys}, count(*), count(closed_at), count(response_business_seconds),"
        f" count(resolution_business_seconds) FROM ticket{c.hint('ix_ticket_volume')}"
        f" WHERE {c.where()} GROUP BY {keys}"
    )


def dimension_volumes(c: Cohort) -> list[tuple[Any, ...]]:
    """(topic, assignee, customer id, tickets): one pass over ``ix_ticket_dims``, a few
    thousand groups a year, which the caller adds up per dimension. The ORDER BY is
    the index's (no sort on SQLite); it makes PostgreSQL read the index alone in
    order rather than hash a scan of the table (half the time at 100k)."""
    keys = "topic, assignee, customer_id"
    return c.rows(
        f"SELECT {keys}, count(*) FROM ticket{c.hint('ix_ticket_dims')}"
        f" WHERE {c.where()} GROUP BY {keys} ORDER BY {keys}"
    )


def uncounted_events(c: Cohort) -> dict[str, tuple[int, int, int]]:
    """kind -> (events, tickets, tickets not closed now) of the counted kinds among the
    cohort's tickets whose tallies are not stored (a store upgraded from 0014), each
    event's ticket looked up by id (a row read per event: not a path for every ticket)."""
    rows = c.rows(
        "SELECT e.kind, count(*), count(DISTINCT e.ticket_id),"
        " count(DISTINCT CASE WHEN t.closed_at IS NULL THEN e.ticket_id END)"
        f" FROM ticket_event e{c.hint('ix_event_kind_at_ticket')}"
        f" JOIN ticket t ON t.id = e.ticket_id"
        f" WHERE {counted_events('e')} AND t.{UNCOUNTED} AND {c.where('t')} GROUP BY e.kind"
    )
    return {kind: (int(n), int(tickets), int(open_)) for kind, n, tickets, open_ in rows}


# -- business times (0014): the stored seconds, read in order ----------------------------

METRICS = ("response", "resolution")
# Tickets still to be measured: the seconds missing although the instant they end at
# is set. The partial indexes ``ix_ticket_*_unmeasured`` (0014) hold exactly these
# rows (none once ``sla refresh --all`` ran); SQLite uses a partial index only for a
# WHERE with the same terms, so the query and the index share this text.
_SOLVED = "(resolved_at IS NOT NULL OR (outcome = 'resolved' AND closed_at IS NOT NULL))"
UNMEASURED = {
    "response": "response_business_seconds IS NULL AND policy_version_id IS NOT NULL"
    " AND responded_at IS NOT NULL",
    "resolution": "resolution_business_seconds IS NULL AND policy_version_id IS NOT NULL"
    f" AND {_SOLVED}",
}


def _metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"no business time {metric!r}")
    return metric


def _seconds(metric: str) -> str:
    return f"{_metric(metric)}_business_seconds"


def wait_at(c: Cohort, metric: str, rank: int, n: int, severity: str | None = None) -> int:
    """The stored seconds at 0-based ``rank`` in ascending order among the group's ``n``
    tickets with them (one severity; every ticket when ``severity`` is None): an index
    range read in order, from the nearer end (a p90 skips a tenth of the range, not
    nine tenths), so the database skips the entries before it and no sort happens."""
    s = _seconds(metric)
    if severity is None:
        sql = f"SELECT {s} FROM ticket{c.hint(f'ix_ticket_{metric}_seconds')} WHERE"
    else:
        sql = (
            f"SELECT {s} FROM ticket{c.hint(f'ix_ticket_{metric}_severity')}"
            " WHERE severity = :severity AND"
        )
    descending = rank > (n - 1) // 2
    order = f"{s} DESC" if descending else s
    offset = n - 1 - rank if descending else rank
    sql += f" {s} IS NOT NULL AND {c.where()} ORDER BY {order} LIMIT 1 OFFSET :offset"
    return int(c.rows(sql, severity=severity, offset=offset)[0][0])


def stored_waits(c: Cohort, metric: str) -> Iterator[list[tuple[Any, ...]]]:
    """(severity, stored seconds) of every ticket that has them, a batch at a time."""
    s = _seconds(metric)
    return c.batches(
        f"SELECT severity, {s} FROM ticket{c.hint(f'ix_ticket_{metric}_severity')}"
        f" WHERE {s} IS NOT NULL AND {c.where()}"
    )


def unmeasured(c: Cohort, metric: str) -> list[tuple[Any, ...]]:
    """(policy version, calendar, severity, opened, info complete, end) epoch seconds of
    the tickets whose seconds are not stored although the instant they end at is (a
    store upgraded from 0013): read from their partial index, then their rows.

    The end: ``responded_at``; or the solution proposed (``resolved_at``), else the
    close of a ticket closed ``resolved`` without a verification step."""
    end = (
        "responded_at"
        if metric == "response"
        else "coalesce(resolved_at, CASE WHEN outcome = 'resolved' THEN closed_at END)"
    )
    return c.rows(
        f"SELECT policy_version_id, calendar, severity, {c.epoch('opened_at')},"
        f" {c.epoch('info_complete_at')}, {c.epoch(end)}"
        f" FROM ticket{c.hint(f'ix_ticket_{metric}_unmeasured')}"
        f" WHERE {UNMEASURED[_metric(metric)]} AND {c.where()}"
    )
