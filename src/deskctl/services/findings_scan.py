"""The lowest ids of each group of a findings report's rows (``services.findings``),
by one scan in id order that stops once every group has its list.

SQLite has no top-N per group: a ranked window sorts every matching row (at 1M a
year's 637k involved tickets, ~2.6 s). Read in id order, with the period's range
kept from choosing an index (``store.planner.no_index``), the rows come without a
sort, and the scan ends once each group has its lowest ``limit`` ids: for groups
of n rows spread over the cohort's ids, about limit/n of that span. The groups'
totals are known beforehand (their tallies), so the scan knows when to stop; where
it would read more than ``SCAN_SHARE`` of the cohort's rows (small groups, a short
range) and for one customer (few rows, the planner seeks them), the callers keep their
ranked window. PostgreSQL too: its window over a year's involved tickets at 1M cost
1.2 s of server time; the scan, read through a cursor, 2 s less on the whole report.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from deskctl.services.reports import Scope
from deskctl.store.models import Ticket, table_of
from deskctl.store.planner import no_index

T = table_of(Ticket).c

# A scan in id order, stopped once every group has its lowest ``limit`` ids, reads
# about limit/n of the cohort's id span for a group of n (ids spread over it); the
# ranked window instead sorts every matching row (SQLite has no top-N per group: at
# 1M a year's 637k involved tickets, ~2.6 s). Past this share of the cohort's rows
# read, the window costs less (a short range, a small group).
SCAN_SHARE = 0.25


@dataclass(frozen=True)
class Span:
    """The cohort's size and id range, and how many of its tickets with a topic have
    no comeback link stored yet (a store upgraded to 0016 before ``sla refresh
    --all``, or rows written around the writers): one pass over
    ``ix_ticket_findings_opened``, which holds all four (two passes cost more)."""

    count: int
    first: int
    last: int
    unlinked: int = 0


def span_of(session: Session, scope: Scope) -> Span:
    unlinked = func.count(case((and_(T.topic != "", T.comeback_gap.is_(None)), 1)))
    stmt = select(func.count(), func.min(T.id), func.max(T.id), unlinked).where(*scope.cohort())
    n, first, last, missing = session.execute(stmt).one()
    return Span(int(n), int(first or 0), int(last or 0), int(missing or 0))


class _Scan:
    """Counts what each group still needs while its rows come in id order."""

    def __init__(self, session: Session, scope: Scope, left: dict[Any, int]) -> None:
        self.session = session
        self.left = left
        self.open = len(left)
        # the period's range kept from choosing an index: the rows come in rowid order
        opened = no_index(T.opened_at)
        self.cohort = [opened >= scope.start, opened < scope.end, *scope.filters()]

    def take(self, key: Any) -> bool:
        """Whether this row of ``key``'s group is one of its lowest ids."""
        n = self.left.get(key, 0)
        if not n:
            return False
        self.left[key] = n - 1
        self.open -= n == 1
        return True

    @property
    def done(self) -> bool:
        return self.open == 0

    def rows(self, columns: Sequence[Any], where: Sequence[ColumnElement[bool]]) -> Iterator[Any]:
        """``columns`` of the rows matching ``where`` in id order; stop when ``done``."""
        stmt = select(*columns).where(*self.cohort, *where).order_by(T.id)
        # PostgreSQL: through a cursor the planner costs the first rows (an index scan
        # in id order), not the whole result (a sort of every row), and the rows not
        # read are never sent
        stream = {"stream_results": True, "yield_per": 2000}
        result = self.session.execute(stmt, execution_options=stream)
        try:
            for row in result:
                yield row
                if self.done:
                    return
        finally:
            result.close()


def lowest_ids(
    session: Session, scope: Scope, span: Span, wanted: dict[Any, int], limit: int
) -> _Scan | None:
    """A scan for the lowest ``limit`` ids of the groups of ``wanted`` rows (key -> n),
    or None where the ranked window is the cheaper way (a customer's tickets are few;
    small groups, a short range)."""
    wanted = {k: n for k, n in wanted.items() if n}
    if not limit or not wanted or scope.customer_id is not None:
        return None
    share = max(min(limit, n) / n for n in wanted.values())
    if share * (span.last - span.first + 1) > SCAN_SHARE * span.count:
        return None
    return _Scan(session, scope, {k: min(limit, n) for k, n in wanted.items()})
