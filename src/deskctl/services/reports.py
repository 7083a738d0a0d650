"""Helpdesk call analysis over the store: the overview report (findings: ``services.findings``).

Every count is a GROUP BY in SQL over the ticket projection, never ORM objects
per row; the overview's scans (``store.reads.report``, on the session's DBAPI
connection) each read one index of migrations 0012/0015 alone, in the order they
group by. The quality rates' events are tallied per ticket (``domain.tallies``,
migration 0015: every writer of the SLA columns writes them too), so the volume
pass also gives them; the events of cohort tickets without tallies (a store
upgraded from 0014, before ``sla refresh --all``) are counted from the event rows
and added. Business-time figures are stored per ticket
(``domain.waits``, migration 0014: every writer of the SLA columns writes them
too); each median and p90, per severity and overall, is one ``OFFSET`` into an
index range of the stored seconds read in order. Tickets of the cohort without
them although their instants are set (a store upgraded from 0013, before ``sla
refresh --all``) are measured here on their calendars, and that metric's
percentiles are then taken over both.

Decisions on points the spec leaves open:

- ``--from``/``--to`` are UTC days, both included; the report covers tickets
  *opened* in that range (the cohort). Event-based rates (reopen, rejected
  solution) count every event of the cohort's tickets known when the report runs.
- First response (``domain.waits``): business time from the policy's clock start (``opened``, or
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

from array import array
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from itertools import chain
from typing import Any

from sqlalchemy import BigInteger, Integer, case, cast, func, select
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
    WorkLog,
)
from deskctl.store.reads import report as rr
from deskctl.store.snapshot import Beside, twin
from deskctl.store.sql import Reader

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


def overview(
    session: Session, scope: Scope, *, by: str, now: datetime, beside: bool = False
) -> dict[str, Any]:
    """The overview report as one JSON-ready document. ``beside``: the SLA states may be
    read on a second connection at the same snapshot meanwhile (``store.snapshot``;
    at 1M, 0.85 s of the 2.4 s), only for a session that has written nothing."""
    if by not in analysis.PERIODS:
        raise BadInput(f"--by: {by!r} is not one of {', '.join(analysis.PERIODS)}")
    with twin(session) if beside else nullcontext() as other:
        states = partial(sla_day_counts, scope=scope, now=now)
        with nullcontext() if other is None else Beside(other, states) as side:
            by_dimension, totals = _volumes(session, scope)
            times = business_times(session, scope, totals=totals)
            quality = quality_rates(session, scope, totals=totals)
            backlog_rows = backlog(session, scope)
            work = worklog_minutes(session, scope)
            money = revenue(session, scope)
            days = sla_day_counts(session, scope, now) if side is None else side.result()
    tickets = sum(r["tickets"] for r in by_dimension["channel"])
    trend = analysis.sla_trend(days, scope.first, scope.last, by)
    overall = analysis.overall_sla(trend)
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
    """Tickets of the cohort per value of each dimension, most first."""
    return _volumes(session, scope)[0]


@dataclass
class _Totals:
    """What the volume scan gives besides the volumes (``store.reads.report.shared_volumes``):
    the cohort's closed tickets, its tickets with business seconds per metric and
    severity, and the quality rates' tallies of the tickets that have them stored."""

    closed: int = 0
    timed: dict[str, Counter[str | None]] = field(
        default_factory=lambda: {metric: Counter() for metric in rr.METRICS}
    )
    uncounted: int = 0  # tickets without stored tallies (an upgraded store)
    proposed: int = 0
    rejected: int = 0
    reopen_events: int = 0
    reopened: int = 0
    reopened_open: int = 0

    def add(self, severity: str | None, tallied: Sequence[Any], counts: Sequence[Any]) -> None:
        """One group: its tallies (one value each, None: not stored) and its counts."""
        n, closed, response, resolution = (int(v) for v in counts)
        self.closed += closed
        self.timed["response"][severity] += response
        self.timed["resolution"][severity] += resolution
        proposed, rejected, reopens = tallied
        if reopens is None:
            self.uncounted += n
            return
        self.proposed += int(proposed) * n
        self.rejected += int(rejected) * n
        self.reopen_events += int(reopens) * n
        if reopens > 0:
            self.reopened += n
            self.reopened_open += n - closed


def _volumes(session: Session, scope: Scope) -> tuple[dict[str, list[dict[str, Any]]], _Totals]:
    """The volumes and what the same pass gives besides (``_Totals``).

    The low-cardinality columns share one GROUP BY (one pass over the cohort), and so
    do topic, agent and customer (a few thousand groups a year). Each reads an index
    led by what it groups by (store.reads.report).
    """
    c = _cohort(session, scope)
    tallies: dict[str, Counter[Any]] = defaultdict(Counter)
    totals = _Totals()
    for row in rr.shared_volumes(c):
        channel, category, severity, product, version = row[:5]
        tallied, counts = row[5:8], row[8:]
        n = counts[0]
        tallies["channel"][channel] += n
        tallies["category"][category] += n
        tallies["severity"][severity] += n
        tallies["product"][(product, version)] += n
        totals.add(severity, tallied, counts)
    for topic, agent, customer_id, n in rr.dimension_volumes(c):
        tallies["topic"][topic] += n
        tallies["agent"][agent] += n
        tallies["customer"][customer_id] += n
    out = {
        dim: _ranked([{dim: value, "tickets": int(n)} for value, n in tallies[dim].items()], (dim,))
        for dim in ("channel", "category", "severity", "topic", "customer", "agent")
    }
    # ranked by id (equal counts in the ids' text order, as ever), then named
    keys: dict[int, str] = dict(session.execute(select(col(Customer.id), col(Customer.key))).all())
    out["customer"] = [{**row, "customer": keys[row["customer"]]} for row in out["customer"]]
    out["product"] = _ranked(
        [
            {"product": product, "version": version, "tickets": int(n)}
            for (product, version), n in tallies["product"].items()
        ],
        ("product", "version"),
    )
    return {dim: out[dim] for dim in VOLUME_DIMENSIONS}, totals


def _cohort(session: Session, scope: Scope) -> rr.Cohort:
    """The scope on the session's own DBAPI connection (same transaction, no ORM rows)."""
    conn = session.connection()
    reader = Reader(conn.connection.driver_connection, conn.dialect.name)
    params = {
        "start": scope.start,
        "end": scope.end,
        "customer_id": scope.customer_id,
        "product": scope.product,
    }
    wide = reader.dialect == "sqlite" and rr.is_wide(reader, scope.start, scope.end)
    return rr.Cohort(reader, params, wide=wide)


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


def quality_rates(
    session: Session, scope: Scope, *, totals: _Totals | None = None
) -> dict[str, Any]:
    """Reopen and rejected-solution rates, from the tickets' stored tallies
    (``domain.tallies``) as the volume scan adds them up (``totals``: when the caller
    ran it already); the events of tickets without them are counted here."""
    if totals is None:
        totals = _volumes(session, scope)[1]
    proposed, rejected = totals.proposed, totals.rejected
    reopened, reopen_events, reopened_open = (
        totals.reopened,
        totals.reopen_events,
        totals.reopened_open,
    )
    if totals.uncounted:
        kinds = rr.uncounted_events(_cohort(session, scope))
        proposed += kinds.get(ev.RESOLVED, (0, 0, 0))[0]
        rejected += kinds.get(ev.SOLUTION_REJECTED, (0, 0, 0))[0]
        events, tickets, still_open = kinds.get(ev.REOPENED, (0, 0, 0))
        reopen_events += events
        reopened += tickets
        reopened_open += still_open
    closed_once = totals.closed + reopened_open
    return {
        "closed": totals.closed,
        "closed_once": closed_once,
        "reopened": reopened,
        "reopen_events": reopen_events,
        "reopen_rate": analysis.rate(reopened, closed_once),
        "solutions_proposed": proposed,
        "solutions_rejected": rejected,
        "rejected_solution_rate": analysis.rate(rejected, proposed),
    }


def worklog_minutes(session: Session, scope: Scope) -> list[dict[str, Any]]:
    stmt = (
        select(col(WorkLog.kind), func.sum(col(WorkLog.minutes)))
        .where(col(WorkLog.at) >= scope.start, col(WorkLog.at) < scope.end)
        .group_by(WorkLog.kind)
        .order_by(WorkLog.kind)
    )
    if scope.filters():  # the join reads a wide ticket row per entry: only to filter
        stmt = stmt.join(Ticket, col(Ticket.id) == col(WorkLog.ticket_id)).where(
            *scope.filters()
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


def business_times(
    session: Session, scope: Scope, *, totals: _Totals | None = None
) -> list[dict[str, Any]]:
    """Median and p90 business seconds to first response and to resolution, by severity too.

    The seconds are stored per ticket (``domain.waits``); each figure is one OFFSET
    into an index range read in order (``store.reads.report.wait_at``). Tickets of
    the cohort without them (a store upgraded from 0013, before ``sla refresh --all``)
    are measured here as before, and then that metric's percentiles are taken in
    Python over the stored and the measured seconds together.
    """
    c = _cohort(session, scope)
    if totals is None:
        totals = _volumes(session, scope)[1]
    out: list[dict[str, Any]] = []
    tables: dict[tuple[int, str | None], _Table] = {}
    for metric in rr.METRICS:
        measured = _measure(session, rr.unmeasured(c, metric), tables)
        if measured:
            out.extend(_python_rows(metric, rr.stored_waits(c, metric), measured))
        else:
            out.extend(_stored_rows(c, metric, totals.timed[metric]))
    return out


def _stored_rows(c: rr.Cohort, metric: str, counts: Counter[str | None]) -> list[dict[str, Any]]:
    """``counts``: the tickets with stored seconds per severity (the volume scan's)."""
    groups: list[tuple[str | None, int]] = [(None, sum(counts.values()))]
    groups += sorted((sev, n) for sev, n in counts.items() if sev is not None and n)
    rows = []
    for sev, n in groups:
        # nearest rank, as analysis.percentile: the ceil(pct * n / 100)-th smallest
        at = {pct: rr.wait_at(c, metric, -(-pct * n // 100) - 1, n, sev) for pct in (50, 90) if n}
        rows.append(_time_row(metric, sev, analysis.TimeStats(n, at.get(50), at.get(90))))
    return rows


def _python_rows(
    metric: str,
    stored: Iterator[list[tuple[Any, ...]]],
    measured: dict[str | None, array[int]],
) -> list[dict[str, Any]]:
    samples: dict[str | None, array[int]] = defaultdict(lambda: array("q"))
    for sev, values in measured.items():
        samples[sev].extend(values)
    for batch in stored:
        for sev, seconds in batch:
            samples[sev].append(seconds)
    severities = sorted(sev for sev in samples if sev is not None)
    groups: list[tuple[str | None, Any]] = [(None, chain.from_iterable(samples.values()))]
    groups += [(sev, samples[sev]) for sev in severities]
    return [_time_row(metric, sev, analysis.time_stats(values)) for sev, values in groups]


def _time_row(metric: str, severity: str | None, stats: analysis.TimeStats) -> dict[str, Any]:
    return {
        "metric": metric,
        "severity": severity,
        "tickets": stats.tickets,
        "median_seconds": stats.median,
        "p90_seconds": stats.p90,
    }


def _measure(
    session: Session, rows: Sequence[tuple[Any, ...]], tables: dict[tuple[int, str | None], _Table]
) -> dict[str | None, array[int]]:
    """Business seconds per severity of tickets without stored ones, on their calendars."""
    groups: dict[tuple[int, str | None, str | None], list[tuple[int, int | None, int]]]
    groups = defaultdict(list)
    for version_id, calendar_name, severity, opened, info, end in rows:
        groups[(version_id, calendar_name, severity)].append((opened, info, end))
    out: dict[str | None, array[int]] = defaultdict(lambda: array("q"))
    for (version_id, calendar_name, severity), instants in groups.items():
        key = (version_id, calendar_name)
        if key not in tables:
            tables[key] = _Table(session, version_id, calendar_name)
        table = tables[key]
        starts = [info if table.from_info and info is not None else o for o, info, _ in instants]
        out[severity].extend(table.elapsed(starts, [e for _, _, e in instants]))
    return out


class _Table:
    """One (policy version, calendar) group's business time between epoch seconds.

    The calendar is asked for its open intervals once per span; a batch with an
    instant outside the span widens it (a month more each side) and rebuilds.
    Each instant is then a binary search on integers (analysis.IntervalTable).
    """

    _MARGIN = 31 * 86_400

    def __init__(self, session: Session, version_id: int, calendar_name: str | None) -> None:
        from deskctl.domain.calendar import calendar_from_policy

        _, policy = policies.by_version_id(session, version_id)
        self.calendar = calendar_from_policy(policy, calendar_name or next(iter(policy.calendars)))
        self.from_info = policy.clock.start == "info_complete"
        self.low = self.high = 0
        self.table: analysis.IntervalTable | None = None

    def elapsed(self, starts: Sequence[int], ends: Sequence[int | None]) -> list[int]:
        """Business seconds from each start to its end; pairs without an end are left out."""
        kept = [(s, e) for s, e in zip(starts, ends, strict=True) if e is not None]
        if not kept:
            return []
        first, last = zip(*kept, strict=True)
        low = min(min(first), min(last))
        high = max(max(first), max(last)) + 1
        if self.table is None or low < self.low or high > self.high:
            if self.table is not None:
                low, high = min(low, self.low), max(high, self.high)
            self.low, self.high = low - self._MARGIN, high + self._MARGIN
            self.table = analysis.IntervalTable(
                (int(a.timestamp()), int(b.timestamp()))
                for a, b in self.calendar.open_intervals(_at(self.low), _at(self.high))
            )
        return self.table.elapsed_many(first, last)
