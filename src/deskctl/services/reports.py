"""Helpdesk call analysis over the store: the overview report (findings: ``services.findings``).

Every count is a GROUP BY in SQL over the ticket projection (Core selects of
the needed columns only, never ORM objects per row). Business-time figures
are computed once per ticket from its ``responded_at`` / ``resolved_at``
columns on the calendar of its plan, one calendar engine per (policy version,
calendar) group.

Decisions on points the spec leaves open:

- ``--from``/``--to`` are UTC days, both included; the report covers tickets
  *opened* in that range (the cohort). Event-based rates (reopen, rejected
  solution) count every event of the cohort known when the report runs.
- First response: business time from the policy's clock start (``opened``, or
  ``info_complete`` when the policy says so and the ticket got there) to
  ``responded_at``. Resolution: from the same start to ``resolved_at`` (the
  solution proposed), or to ``closed_at`` for a ticket closed ``resolved``
  without a verification step. Pauses are not deducted: this is the business
  time the customer waited; SLA compliance (which does deduct them) comes
  from each ticket's metric states at the report's instant, computed as
  ``sla report`` computes them (``services.cohort``).
- A ticket opened without a plan (no contract) has no plan calendar; it is
  measured on its policy's first calendar, the vendor's main desk hours.
- Backlog at ``--to``: tickets opened before the end of that day and not
  closed by then (by their last close), aged in wall-clock days.
- Reopen rate: tickets reopened at least once / tickets closed at least once.
  Rejected-solution rate: ``solution_rejected`` events / ``resolved`` events.
- Billable minutes: work-log entries dated in the range (work done then, on
  any ticket of the filtered customer/product). Revenue: the line amounts
  (VAT excluded) of invoices finalised in the range; drafts and void
  invoices do not count.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, case, cast, distinct, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from deskctl.domain import analysis
from deskctl.domain import events as ev
from deskctl.errors import BadInput
from deskctl.services import masterdata, policies
from deskctl.store.models import (
    Customer,
    Invoice,
    InvoiceLine,
    Ticket,
    TicketEvent,
    WorkLog,
)

VOLUME_DIMENSIONS = ("channel", "category", "topic", "product", "severity", "customer", "agent")
_SHARED_GROUP = ("channel", "category", "severity", "product", "version")
_NOT_YET_OPEN = "not yet open"


@dataclass(frozen=True)
class Scope:
    """What a report covers: tickets opened in [start, end), optionally one customer/product."""

    first: date
    last: date
    customer: str | None = None
    customer_id: int | None = None
    product: str | None = None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    def cohort(self) -> list[ColumnElement[bool]]:
        opened = col(Ticket.opened_at)
        return [opened >= self.start, opened < self.end, *self.filters()]

    def filters(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.customer_id is not None:
            out.append(col(Ticket.customer_id) == self.customer_id)
        if self.product is not None:
            out.append(col(Ticket.product) == self.product)
        return out


def make_scope(
    session: Session,
    first: date,
    last: date,
    *,
    customer: str | None = None,
    product: str | None = None,
) -> Scope:
    """Validate the range and resolve the filters (NotFound for an unknown customer/product)."""
    check_range(first, last)
    customer_id = None
    if customer:
        customer_id = masterdata.customer_by_key(session, customer).id
    if product:
        masterdata.product_by_name(session, product)
    return Scope(first, last, customer, customer_id, product)


def check_range(first: date, last: date) -> None:
    if last < first:
        raise BadInput(f"--to {last} is before --from {first}")


# -- overview --------------------------------------------------------------------------


def overview(session: Session, scope: Scope, *, by: str, now: datetime) -> dict[str, Any]:
    """The overview report as one JSON-ready document."""
    if by not in analysis.PERIODS:
        raise BadInput(f"--by: {by!r} is not one of {', '.join(analysis.PERIODS)}")
    by_dimension = volumes(session, scope)
    tickets = sum(r["tickets"] for r in by_dimension["channel"])
    trend = analysis.sla_trend(sla_day_counts(session, scope, now), scope.first, scope.last, by)
    overall = analysis.overall_sla(trend)
    times = business_times(session, scope)
    quality = quality_rates(session, scope)
    backlog_rows = backlog(session, scope)
    work = worklog_minutes(session, scope)
    money = revenue(session, scope)
    summary = {
        "tickets": tickets,
        "closed": quality["closed"],
        "backlog": sum(r["tickets"] for r in backlog_rows),
        "response_median_seconds": _stat(times, "response", "median_seconds"),
        "response_p90_seconds": _stat(times, "response", "p90_seconds"),
        "resolution_median_seconds": _stat(times, "resolution", "median_seconds"),
        "resolution_p90_seconds": _stat(times, "resolution", "p90_seconds"),
        "sla_decided": overall.decided,
        "sla_compliance": overall.compliance,
        "sla_met_rate": overall.met_rate,
        **{k: v for k, v in quality.items() if k != "closed"},
        "billable_minutes": sum(r["minutes"] for r in work),
        **_revenue_summary(money),
    }
    return {
        "report": "overview",
        "from": scope.first,
        "to": scope.last,
        "by": by,
        "customer": scope.customer,
        "product": scope.product,
        "generated_at": now,
        "summary": summary,
        "volumes": by_dimension,
        "times": times,
        "sla_trend": [p.to_json() for p in trend],
        "backlog": backlog_rows,
        "worklog": work,
    }


def _stat(times: Sequence[dict[str, Any]], metric: str, key: str) -> int | None:
    for row in times:
        if row["metric"] == metric and row["severity"] is None:
            value: int | None = row[key]
            return value
    return None


def volumes(session: Session, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    """Tickets of the cohort per value of each dimension, most first.

    The low-cardinality columns share one GROUP BY (one pass over the cohort);
    topic, customer and agent, which may have thousands of values, get one each.
    """
    columns = [getattr(Ticket, name) for name in _SHARED_GROUP]
    stmt = select(*columns, func.count()).where(*scope.cohort()).group_by(*columns)
    tallies: dict[str, Counter[Any]] = defaultdict(Counter)
    for channel, category, severity, product, version, n in session.execute(stmt):
        tallies["channel"][channel] += n
        tallies["category"][category] += n
        tallies["severity"][severity] += n
        tallies["product"][(product, version)] += n
    out = {
        dim: _ranked([{dim: value, "tickets": int(n)} for value, n in tallies[dim].items()], (dim,))
        for dim in ("channel", "category", "severity")
    }
    out["product"] = _ranked(
        [
            {"product": product, "version": version, "tickets": int(n)}
            for (product, version), n in tallies["product"].items()
        ],
        ("product", "version"),
    )
    out["topic"] = _single_volume(session, scope, Ticket.topic, "topic")
    out["agent"] = _single_volume(session, scope, Ticket.assignee, "agent")
    keys: dict[int, str] = dict(session.execute(select(col(Customer.id), col(Customer.key))).all())
    by_customer = _single_volume(session, scope, Ticket.customer_id, "customer")
    out["customer"] = [{**row, "customer": keys[row["customer"]]} for row in by_customer]
    return {dim: out[dim] for dim in VOLUME_DIMENSIONS}


def _single_volume(session: Session, scope: Scope, column: Any, key: str) -> list[dict[str, Any]]:
    stmt = select(column, func.count()).where(*scope.cohort()).group_by(column)
    return _ranked([{key: value, "tickets": int(n)} for value, n in session.execute(stmt)], (key,))


def _ranked(rows: list[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    total = sum(r["tickets"] for r in rows)
    for r in rows:
        r["share"] = analysis.rate(r["tickets"], total)
    # most first; among equals, named values before the "(none)" row
    return sorted(
        rows, key=lambda r: (-r["tickets"], *((r[k] is None, str(r[k] or "")) for k in keys))
    )


def _epoch(session: Session, column: Any) -> Any:
    """Whole UTC epoch seconds of an instant column, in SQL: no per-row datetime decoding."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", column)), BigInteger)
    return cast(func.strftime("%s", column), Integer)


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _instant(epoch: int | None) -> datetime | None:
    return None if epoch is None else _at(epoch)


def _as_date(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def sla_day_counts(
    session: Session, scope: Scope, now: datetime
) -> list[tuple[date, str | None, int]]:
    """(day opened, ticket SLA state at ``now``, tickets): the states ``sla report``
    computes (``services.cohort``), so the two reports agree."""
    from deskctl.services import cohort

    flt = cohort.Filter(scope.start, scope.end, scope.customer_id, product=scope.product)
    counts: Counter[tuple[date, str | None]] = Counter()
    for (day, _, _, _, worst), n in cohort.compute(session, flt, now, by_day=True).tickets.items():
        assert day is not None  # counted by day
        counts[(day, worst)] += n
    return [(day, state, n) for (day, state), n in counts.items()]


def backlog(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Tickets open at the end of ``--to``, by wall-clock age.

    Two queries, each led by the ``closed_at`` index: tickets still open, and
    tickets closed after ``--to``. Tickets opened after ``--to`` fall in a
    bucket of their own, dropped here, so no range on ``opened_at`` competes
    for the index (it would read the whole history before ``--to``).
    """
    at = scope.end
    whens = [(col(Ticket.opened_at) >= at, _NOT_YET_OPEN)] + [
        (col(Ticket.opened_at) > at - timedelta(days=high), label)
        for label, _, high in analysis.BACKLOG_BUCKETS
        if high is not None
    ]
    bucket = case(*whens, else_=analysis.BACKLOG_BUCKETS[-1][0]).label("bucket")
    counts: Counter[str] = Counter()
    for still_open in (col(Ticket.closed_at).is_(None), col(Ticket.closed_at) >= at):
        stmt = select(bucket, func.count()).where(still_open, *scope.filters()).group_by(bucket)
        for label, n in session.execute(stmt):
            counts[label] += int(n)
    return [{"bucket": label, "tickets": counts[label]} for label, _, _ in analysis.BACKLOG_BUCKETS]


def _cohort_events(scope: Scope) -> list[ColumnElement[bool]]:
    """Events of cohort tickets; moves come after the opening, so the (kind, at) index narrows."""
    return [col(TicketEvent.at) >= scope.start, *scope.cohort()]


def quality_rates(session: Session, scope: Scope) -> dict[str, Any]:
    closed = session.execute(
        select(func.count()).where(*scope.cohort(), col(Ticket.closed_at).is_not(None))
    ).scalar_one()
    reopened, reopen_events, reopened_open = session.execute(
        select(
            func.count(distinct(col(TicketEvent.ticket_id))),
            func.count(),
            func.count(distinct(case((col(Ticket.closed_at).is_(None), TicketEvent.ticket_id)))),
        )
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(col(TicketEvent.kind) == ev.REOPENED, *_cohort_events(scope))
    ).one()
    kinds: dict[str, int] = dict(
        session.execute(
            select(col(TicketEvent.kind), func.count())
            .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
            .where(
                col(TicketEvent.kind).in_((ev.RESOLVED, ev.SOLUTION_REJECTED)),
                *_cohort_events(scope),
            )
            .group_by(TicketEvent.kind)
        ).all()
    )
    closed_once = int(closed) + int(reopened_open)
    proposed = int(kinds.get(ev.RESOLVED, 0))
    rejected = int(kinds.get(ev.SOLUTION_REJECTED, 0))
    return {
        "closed": int(closed),
        "closed_once": closed_once,
        "reopened": int(reopened),
        "reopen_events": int(reopen_events),
        "reopen_rate": analysis.rate(int(reopened), closed_once),
        "solutions_proposed": proposed,
        "solutions_rejected": rejected,
        "rejected_solution_rate": analysis.rate(rejected, proposed),
    }


def worklog_minutes(session: Session, scope: Scope) -> list[dict[str, Any]]:
    stmt = (
        select(col(WorkLog.kind), func.sum(col(WorkLog.minutes)))
        .join(Ticket, col(Ticket.id) == col(WorkLog.ticket_id))
        .where(col(WorkLog.at) >= scope.start, col(WorkLog.at) < scope.end, *scope.filters())
        .group_by(WorkLog.kind)
        .order_by(WorkLog.kind)
    )
    return [{"kind": kind, "minutes": int(m or 0)} for kind, m in session.execute(stmt)]


def revenue(session: Session, scope: Scope) -> dict[str, Decimal]:
    """Line amounts (VAT excluded) of the invoices finalised in the range, per currency:
    drafts and void invoices are not revenue, and euros never add up with dollars."""
    stmt = (
        select(col(Invoice.currency), func.sum(InvoiceLine.amount))
        .join(Invoice, col(Invoice.id) == col(InvoiceLine.invoice_id))
        .where(
            col(Invoice.status) == "final",
            col(Invoice.finalized_at) >= scope.start,
            col(Invoice.finalized_at) < scope.end,
        )
        .group_by(col(Invoice.currency))
        .order_by(col(Invoice.currency))
    )
    if scope.customer_id is not None:
        stmt = stmt.where(col(Invoice.customer_id) == scope.customer_id)
    if scope.product is not None:
        stmt = stmt.join(Ticket, col(Ticket.id) == col(InvoiceLine.ticket_id)).where(
            col(Ticket.product) == scope.product
        )
    cent = Decimal("0.01")
    return {cur: Decimal(total or 0).quantize(cent) for cur, total in session.execute(stmt)}


def _revenue_summary(by_currency: dict[str, Decimal]) -> dict[str, Any]:
    """``revenue`` is the one currency's total (0.00 when nothing was finalised, None
    when several currencies were invoiced: see ``revenue_by_currency``)."""
    total: Decimal | None = Decimal("0.00")
    if len(by_currency) == 1:
        total = next(iter(by_currency.values()))
    elif by_currency:
        total = None
    return {
        "revenue": total,
        "revenue_currency": next(iter(by_currency)) if len(by_currency) == 1 else None,
        "revenue_by_currency": by_currency,
    }


# -- business times --------------------------------------------------------------------


def business_times(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Median and p90 business seconds to first response and to resolution, by severity too."""
    solved = func.coalesce(
        col(Ticket.resolved_at), case((col(Ticket.outcome) == "resolved", col(Ticket.closed_at)))
    )
    columns: tuple[Any, ...] = (
        Ticket.policy_version_id,
        Ticket.calendar,
        Ticket.severity,
        _epoch(session, Ticket.opened_at),
        _epoch(session, Ticket.info_complete_at),
        _epoch(session, Ticket.responded_at),
        _epoch(session, solved),
    )
    stmt = select(*columns).where(
        *scope.cohort(), or_(col(Ticket.responded_at).is_not(None), solved.is_not(None))
    )
    groups: dict[tuple[int | None, str | None], list[Any]] = defaultdict(list)
    for row in session.execute(stmt):
        groups[(row[0], row[1])].append(row[2:])
    samples: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for (version_id, calendar_name), rows in groups.items():
        _measure_group(session, version_id, calendar_name, rows, samples)
    return _time_rows(samples)


def _measure_group(
    session: Session,
    version_id: int | None,
    calendar_name: str | None,
    rows: Sequence[Any],
    samples: dict[tuple[str, str | None], list[int]],
) -> None:
    """Business seconds for every ticket of one (policy version, calendar) group.

    The calendar is asked once for its open intervals over the group's span;
    each ticket is then two binary searches on integers (analysis.IntervalTable).
    """
    from deskctl.domain.calendar import calendar_from_policy

    if version_id is None or not rows:
        return
    _, policy = policies.by_version_id(session, version_id)
    calendar = calendar_from_policy(policy, calendar_name or next(iter(policy.calendars)))
    from_info = policy.clock.start == "info_complete"
    keys: list[tuple[str, str | None]] = []
    starts: list[int] = []
    ends: list[int] = []
    for severity, opened, info, responded, solved in rows:
        start = info if (from_info and info is not None) else opened
        if responded is not None:
            keys.append(("response", severity))
            starts.append(start)
            ends.append(responded)
        if solved is not None:
            keys.append(("resolution", severity))
            starts.append(start)
            ends.append(solved)
    if not keys:
        return
    low = min(min(starts), min(ends))
    high = max(max(starts), max(ends)) + 1
    table = analysis.IntervalTable(
        (int(a.timestamp()), int(b.timestamp()))
        for a, b in calendar.open_intervals(_at(low), _at(high))
    )
    for (metric, severity), seconds in zip(keys, table.elapsed_many(starts, ends), strict=True):
        samples[(metric, None)].append(seconds)
        samples[(metric, severity)].append(seconds)


def _time_rows(samples: dict[tuple[str, str | None], list[int]]) -> list[dict[str, Any]]:
    out = []
    for metric in ("response", "resolution"):
        severities = sorted({sev for (m, sev) in samples if m == metric and sev is not None})
        keys: list[str | None] = [None, *severities]
        for sev in keys:
            stats = analysis.time_stats(samples.get((metric, sev), []))
            out.append(
                {
                    "metric": metric,
                    "severity": sev,
                    "tickets": stats.tickets,
                    "median_seconds": stats.median,
                    "p90_seconds": stats.p90,
                }
            )
    return out
