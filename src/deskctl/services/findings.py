"""The findings report over the store (seed 004): where users need training, which
software versions need an update, which equipment to replace, which topics keep coming back.

The scope (``--from``/``--to``, filters) is ``services.reports.Scope``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from deskctl.domain import analysis
from deskctl.domain import events as ev
from deskctl.domain.analysis import Thresholds, TicketFacts
from deskctl.services.reports import Scope, _at, _epoch, _instant
from deskctl.store.models import Contact, Customer, Ticket, TicketEvent


def findings(
    session: Session, scope: Scope, thresholds: Thresholds, *, now: datetime
) -> dict[str, Any]:
    """The findings report: named findings with their evidence and tickets."""
    thresholds.check()
    rows = ticket_facts(session, scope, thresholds.recur_days)
    found = analysis.findings(rows, scope.start, scope.end, thresholds)
    cohort = sum(1 for r in rows if scope.start <= r.opened_at < scope.end)
    return {
        "report": "findings",
        "from": scope.first,
        "to": scope.last,
        "customer": scope.customer,
        "product": scope.product,
        "generated_at": now,
        "tickets": cohort,
        "thresholds": {
            "misuse_repeats": thresholds.misuse_repeats,
            "min_defects": thresholds.min_defects,
            "share_ratio": thresholds.share_ratio,
            "recur_days": thresholds.recur_days,
            "min_comebacks": thresholds.min_comebacks,
        },
        "findings": [f.to_json() for f in found],
    }


def ticket_facts(session: Session, scope: Scope, recur_days: int) -> list[TicketFacts]:
    """Cohort tickets, plus earlier ones closed solved recently enough to be come back to."""
    since = scope.start - timedelta(days=recur_days)
    reopens = (
        select(col(TicketEvent.ticket_id), func.count().label("n"))
        .where(col(TicketEvent.kind) == ev.REOPENED, col(TicketEvent.at) >= since)
        .group_by(col(TicketEvent.ticket_id))
        .subquery()
    )
    columns: tuple[Any, ...] = (
        Ticket.id,
        Customer.key,
        Contact.email,
        Ticket.product,
        Ticket.version,
        Ticket.os,
        Ticket.hardware,
        Ticket.category,
        Ticket.topic,
        _epoch(session, Ticket.opened_at),
        _epoch(session, Ticket.closed_at),
        Ticket.outcome,
        func.coalesce(reopens.c.n, 0),
    )
    base = (
        select(*columns)
        .join(Customer, col(Customer.id) == col(Ticket.customer_id))
        .outerjoin(Contact, col(Contact.id) == col(Ticket.contact_id))
        .outerjoin(reopens, reopens.c.ticket_id == Ticket.id)
    )
    predecessors = base.where(
        col(Ticket.closed_at) >= since,  # the closed_at index finds them
        col(Ticket.opened_at) < scope.start,
        col(Ticket.outcome).in_(analysis.SOLVED_OUTCOMES),
        col(Ticket.topic).is_not(None),
        *scope.filters(),
    )
    rows = [*session.execute(base.where(*scope.cohort())), *session.execute(predecessors)]
    out = []
    for row in rows:
        ticket_id, customer, contact, product, version, os, hardware, category, topic = row[:9]
        out.append(
            TicketFacts(
                ticket_id,
                customer,
                contact,
                product,
                version,
                os,
                hardware,
                category,
                topic,
                _at(row[9]),
                _instant(row[10]),
                row[11],
                int(row[12]),
            )
        )
    return out
