"""The overview report's scans (``services.reports``), as SQL on the DBAPI connection.

Each query reads one index alone (migration 0012): on SQLite ``INDEXED BY`` names
the index that leads with what the query groups by, so SQLite reads it in order
and needs no temporary B-tree (it has no hash aggregation; its planner, without
statistics, would take the ``opened_at`` range and sort a million keys). With a
customer filter the planner chooses (that customer's tickets are few). PostgreSQL
gets the same SQL without the hints.

Queries are built per call (the filters and the hints vary), so none is a module
constant: ``tests/cli/test_overview_figures.py`` compares every figure with a
plain computation over every ticket, on both backends.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from deskctl.store.sql import Query, Reader

# unixepoch() (SQLite 3.38) is strftime('%s') without the text round trip
_UNIXEPOCH = sqlite3.sqlite_version_info >= (3, 38)


class Cohort:
    """Tickets opened in [start, end), optionally of one customer and one product."""

    def __init__(self, reader: Reader, params: dict[str, Any]) -> None:
        self.reader = reader
        self.params = {k: v for k, v in params.items() if v is not None}

    def where(self, alias: str = "") -> str:
        t = f"{alias}." if alias else ""
        out = f"{t}opened_at >= :start AND {t}opened_at < :end"
        if "customer_id" in self.params:
            out += f" AND {t}customer_id = :customer_id"
        if "product" in self.params:
            out += f" AND {t}product = :product"
        return out

    def hint(self, index: str) -> str:
        if self.reader.dialect != "sqlite" or "customer_id" in self.params:
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


def shared_volumes(c: Cohort) -> list[tuple[Any, ...]]:
    """(channel, category, severity, product, version, tickets, closed)."""
    keys = "channel, category, severity, product, version"
    return c.rows(
        f"SELECT {keys}, count(*), count(closed_at) FROM ticket{c.hint('ix_ticket_volume')}"
        f" WHERE {c.where()} GROUP BY {keys}"
    )


_SINGLE = {
    "topic": "ix_ticket_topic_opened",
    "assignee": "ix_ticket_assignee_opened",
    "customer_id": "ix_ticket_customer_opened",
}


def single_volume(c: Cohort, column: str) -> list[tuple[Any, ...]]:
    """(value, tickets) of one of topic, assignee, customer_id."""
    return c.rows(
        f"SELECT {column}, count(*) FROM ticket{c.hint(_SINGLE[column])}"
        f" WHERE {c.where()} GROUP BY {column}"
    )


def _event_from(c: Cohort) -> str:
    return (
        f"FROM ticket_event e{c.hint('ix_event_kind_at_ticket')}"
        f" JOIN ticket t{c.hint('ix_ticket_id_cohort')} ON t.id = e.ticket_id"
        f" WHERE e.at >= :start AND {c.where('t')}"
    )


def reopens(c: Cohort, kind: str) -> tuple[int, int, int]:
    """(tickets reopened, reopen events, reopened tickets not closed now)."""
    row = c.rows(
        "SELECT count(DISTINCT e.ticket_id), count(*),"
        " count(DISTINCT CASE WHEN t.closed_at IS NULL THEN e.ticket_id END) "
        + _event_from(c)
        + " AND e.kind = :kind",
        kind=kind,
    )[0]
    return int(row[0]), int(row[1]), int(row[2])


def event_counts(c: Cohort, kinds: tuple[str, ...]) -> dict[str, int]:
    rows = c.rows(
        "SELECT e.kind, count(*) " + _event_from(c) + " AND e.kind IN :kinds GROUP BY e.kind",
        kinds=kinds,
    )
    return {kind: int(n) for kind, n in rows}


def time_groups(c: Cohort) -> list[tuple[Any, ...]]:
    """(policy version, calendar, severity) of the cohort, in the times index's order."""
    return c.rows(
        "SELECT DISTINCT policy_version_id, calendar, severity"
        f" FROM ticket{c.hint('ix_ticket_times')} WHERE {c.where()}"
        " ORDER BY policy_version_id, calendar, severity"
    )


def _is(column: str, name: str, value: Any) -> str:
    return f"{column} IS NULL" if value is None else f"{column} = :{name}"


def time_batches(
    c: Cohort, version_id: int, calendar: str | None, severity: str | None, *, from_info: bool
) -> Iterator[list[tuple[Any, ...]]]:
    """(clock start, responded, solved) epoch seconds of the group's answered tickets.

    Solved: the solution proposed (``resolved_at``), else the close of a ticket closed
    ``resolved`` without a verification step."""
    start = (
        "CASE WHEN info_complete_at IS NOT NULL THEN info_complete_at ELSE opened_at END"
        if from_info
        else "opened_at"
    )
    solved = "coalesce(resolved_at, CASE WHEN outcome = 'resolved' THEN closed_at END)"
    sql = (
        f"SELECT {c.epoch(start)}, {c.epoch('responded_at')}, {c.epoch(solved)}"
        " FROM ticket WHERE policy_version_id = :version_id"
        f" AND {_is('calendar', 'calendar', calendar)}"
        f" AND {_is('severity', 'severity', severity)} AND {c.where()}"
        f" AND (responded_at IS NOT NULL OR {solved} IS NOT NULL)"
    )
    return c.batches(sql, version_id=version_id, calendar=calendar, severity=severity)
