"""Writing and reading ``sla_fact`` (the rows ``domain.sla_facts`` derives) with
SQLAlchemy; ``store.facts_dbapi`` writes the same rows through the DBAPI.

A ticket's facts are replaced as a whole with its row, in the caller's transaction:
a metric the ticket no longer owes (its plan changed) must not linger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, insert, literal, or_
from sqlalchemy.sql.elements import ColumnElement

from deskctl.store.facts_dbapi import TICKET_KEYS, fact_rows  # noqa: F401 -- re-exported
from deskctl.store.models import SlaFact, table_of

TABLE = table_of(SlaFact)
F = TABLE.c


def replace(session: Any, ticket_ids: Sequence[int], rows: Sequence[Mapping[str, Any]]) -> None:
    """The facts of ``ticket_ids`` become ``rows`` (delete, then one executemany)."""
    for i in range(0, len(ticket_ids), 500):
        part = list(ticket_ids[i : i + 500])
        session.execute(delete(TABLE).where(F.ticket_id.in_(part)))
    if rows:
        session.execute(insert(TABLE), list(rows))


def state_now(at: datetime) -> ColumnElement[str]:
    """A fact's state at ``at`` in SQL (``domain.sla_facts.state_at``): running clocks
    turn at their stored instants, the others keep their stored state."""
    now = literal(at, F.computed_at.type)
    return case(
        (and_(F.running, now > F.due_at), literal("breached")),
        (and_(F.running, now > F.goal_at), literal("late")),
        (and_(F.running, now >= F.risk_at), literal("at_risk")),
        (F.running, literal("running")),
        else_=F.state,
    )


def told(at: datetime) -> ColumnElement[bool]:
    """Facts that give the state at ``at``: computed at or before it, not stale by then."""
    now = literal(at, F.computed_at.type)
    return and_(F.computed_at <= now, or_(F.stale_at.is_(None), F.stale_at > now))
