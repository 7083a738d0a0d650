"""SLA clocks of stored tickets: ``sla status``, ``ticket show``'s clocks, refresh, reports.

The rules -- which plan and calendar a ticket is judged under, the row columns and
the facts (``sla_fact``) -- are in ``deskctl.domain.sla_facts``; this module loads
what they need from the store and writes them; the cohort figures both reports
print are ``services.cohort``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, select, update
from sqlmodel import Session

from deskctl import clock
from deskctl.domain import tallies, waits
from deskctl.domain.sla_facts import derive, ticket_clocks
from deskctl.errors import BadInput
from deskctl.services import cohort, masterdata, policies
from deskctl.services import tickets as tickets_svc
from deskctl.services.cohort import PolicyCache, chunks, events_by_ticket
from deskctl.store import comebacks, facts
from deskctl.store import tallies as tallies_store
from deskctl.store import waits as waits_store
from deskctl.store.facts import F
from deskctl.store.models import Ticket, pk, table_of

# States a report counts as judged: the goal or the limit is already known missed or kept.
JUDGED = ("met", "late", "breached")
OPEN_STATES = ("running", "at_risk", "paused", "pending")
REPORT_STATES = (*JUDGED, *OPEN_STATES)
BATCH = 1000
# The ticket columns ``domain.sla_facts.derive`` computes.
SLA_COLUMNS = (
    "sla_state",
    "sla_due_at",
    "sla_computed_at",
    "sla_stale_at",
    "sla_settled",
    "sla_risk_at",
    "sla_goal_at",
    "sla_limit_at",
)
# What a refresh writes on the row: those, the business seconds (``domain.waits``) and
# the event tallies (``domain.tallies``).
WRITTEN = (*SLA_COLUMNS, *waits.COLUMNS, *tallies.COLUMNS)
LIST_LIMIT = 100  # tickets ``sla report`` lists by default: the breached ones come first

_T = table_of(Ticket).c


def ticket_sla_json(session: Session, ticket: Ticket) -> dict[str, Any]:
    """``ticket show --json``'s ``sla``: metric -> clock (rules §10) at the program clock."""
    policy = tickets_svc.policy_or_none(session, ticket)
    if policy is None:
        return {}
    events = tickets_svc.load_events(session, pk(ticket))
    sla = ticket_clocks(policy, events, clock.now())
    return {name: c.to_json() for name, c in sla.clocks.items()}


def status(session: Session, ticket_id: int, now: datetime) -> dict[str, Any]:
    """``sla status`` (``services.views.sla_status``) inside a transaction."""
    from deskctl.services import views
    from deskctl.store.dbapi import Reader

    return views.sla_status(Reader.over(session), ticket_id, now)


# -- many tickets ------------------------------------------------------------------------


def _told_at(now: datetime) -> Any:
    return and_(
        _T.sla_computed_at.is_not(None),
        _T.sla_computed_at <= now,
        or_(_T.sla_stale_at.is_(None), _T.sla_stale_at > now),
    )


def refresh(
    session: Session,
    now: datetime,
    ids: Iterable[int] | None = None,
    *,
    every: bool = False,
    batch: int = BATCH,
) -> int:
    """Recompute the SLA columns and facts of open tickets (or of ``ids``), or with
    ``every`` of every ticket whose facts can have changed: none yet, computed after
    ``now`` or stale by then (an event dated after them now counts), or a clock still
    running (its state turns with time). Closed tickets and paused or stopped clocks
    with facts that still tell are left as they are: nothing of theirs moves.

    Histories are read a batch at a time; rows are updated with one executemany per
    batch and their facts replaced, all in the caller's transaction (a refresh that
    is killed writes nothing; a re-run does it all). A row changed by someone else
    meanwhile (its ``rev`` moved) is left alone: that change already wrote fresh
    columns and facts. Returns the number of tickets refreshed.
    """
    cols = (_T.id, _T.rev, _T.policy_version_id, _T.customer_id, *(_T[c] for c in waits.INPUTS))
    stmt = select(*cols).order_by(_T.id)
    parts: Iterator[Sequence[Any]]
    if ids is not None:
        parts = (
            session.execute(stmt.where(_T.id.in_(list(part)))).all()
            for part in chunks(sorted(set(ids)), batch)
        )
    elif every:
        running = exists().where(F.ticket_id == _T.id, F.running)
        parts = _pages(session, stmt, or_(~_told_at(now), running), batch)
    else:
        parts = _pages(session, stmt, _T.status != "closed", batch)
    cache = PolicyCache(session)
    writer = (
        update(table_of(Ticket))
        .where(_T.id == bindparam("b_id"), _T.rev == bindparam("b_rev"))
        .values({name: bindparam(f"b_{name}", type_=_T[name].type) for name in WRITTEN})
    )
    done = 0
    for part in parts:
        if part:
            done += _refresh_batch(session, cache, writer, part, now)
    if every:
        fill_waits(session, cache)
        tallies_store.fill(session)
        if comebacks.missing(session):  # a store upgraded to 0016: the findings' links
            comebacks.fill(session)
    return done


def _pages(session: Session, stmt: Any, where: Any, size: int) -> Iterator[Sequence[Any]]:
    """The rows of ``stmt`` matching ``where``, ``size`` at a time in id order, each page
    read after the previous one is written: memory stays that of one page whatever the
    store's size (all the candidate rows at once took 1.1 GB at 1M). A page's writes
    cannot change which later rows match: those have higher ids."""
    last = 0
    while True:
        part = session.execute(stmt.where(where, _T.id > last).limit(size)).all()
        if not part:
            return
        yield part
        last = part[-1].id


def fill_waits(session: Session, cache: PolicyCache) -> int:
    """Write the business seconds (``domain.waits``) of every ticket that lacks them
    although its instants are set (``sla refresh --all`` on a store upgraded from
    0013); returns the number of tickets written."""
    out: list[tuple[int | None, int | None, int, int]] = []
    for batch in waits_store.unfilled(session):
        for tid, rev, version_id, calendar, *instants, outcome, closed in batch:
            row = dict(zip(_EPOCH_INPUTS, map(_instant, instants), strict=True))
            row.update(calendar=calendar, outcome=outcome, closed_at=_instant(closed))
            got = waits.waits(cache.get(version_id), row)
            if got != _NO_WAITS:
                out.append((*got.values(), tid, rev))
    if out:
        waits_store.write(session, out)
    return len(out)


_EPOCH_INPUTS = ("opened_at", "info_complete_at", "responded_at", "resolved_at")
_NO_WAITS = dict.fromkeys(waits.COLUMNS)


def _instant(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _refresh_batch(
    session: Session, cache: PolicyCache, writer: Any, part: Sequence[Any], now: datetime
) -> int:
    histories = events_by_ticket(session, [r.id for r in part])
    params = []
    derived = {}
    for r in part:
        events = histories.get(r.id)
        if not events:
            continue
        policy = cache.get(r.policy_version_id)
        d = derived[r.id] = derive(policy, events, now)
        values = {**d.columns, **waits.waits(policy, r._mapping), **tallies.of_events(events)}
        params.append({"b_id": r.id, "b_rev": r.rev, **{f"b_{k}": v for k, v in values.items()}})
    if not params:
        return 0
    session.execute(writer, params)
    # the rows whose rev did not move were written: their facts go with them (the
    # severity of the row as it stands, written by the same replay)
    expected = {r.id: r for r in part}
    written = select(_T.id, _T.rev, _T.severity).where(_T.id.in_(list(derived)))
    rows, kept = [], []
    for tid, rev, severity in session.execute(written):
        r = expected[tid]
        if rev != r.rev:
            continue
        kept.append(tid)
        d = derived[tid]
        keys = {
            "opened_at": r.opened_at,
            "customer_id": r.customer_id,
            "severity": severity,
            "policy_version_id": r.policy_version_id,
        }
        rows.extend(facts.fact_rows(tid, keys, d.facts, now, d.columns["sla_stale_at"]))
    facts.replace(session, kept, rows)
    return len(kept)


# -- report ------------------------------------------------------------------------------


@dataclass
class ReportQuery:
    start: date  # first day (UTC) a ticket was opened on
    end: date  # last day, inclusive
    customer: str | None = None
    severity: str | None = None
    breached_only: bool = False
    policy: str | None = None  # only tickets opened under this policy (any version)
    limit: int = LIST_LIMIT  # tickets listed at most; 0: all


def _tally() -> dict[str, int]:
    return dict.fromkeys(REPORT_STATES, 0)


@dataclass
class _Group:
    tickets: int = 0
    metrics: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "tickets": self.tickets,
            "metrics": {m: _with_rates(t) for m, t in self.metrics.items()},
        }


def _with_rates(tally: Mapping[str, int]) -> dict[str, Any]:
    """Counts and rates. Judged = met + late + breached (a clock running past its goal
    counts as late so far, past its limit as breached); compliance = the contractual
    limit kept (met + late), goal = the goal kept (met); None when nothing is judged."""
    judged = sum(tally[s] for s in JUDGED)
    doc: dict[str, Any] = dict(tally)
    doc["judged"] = judged
    doc["compliance_pct"] = _pct(tally["met"] + tally["late"], judged)
    doc["goal_pct"] = _pct(tally["met"], judged)
    return doc


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 2)


def _period(q: ReportQuery) -> tuple[datetime, datetime]:
    if q.end < q.start:
        raise BadInput(f"--to {q.end} is before --from {q.start}")
    start = datetime.combine(q.start, time(0), UTC)
    return start, datetime.combine(q.end, time(0), UTC) + timedelta(days=1)


def report(session: Session, q: ReportQuery, now: datetime) -> dict[str, Any]:
    """Tickets opened in the period (UTC days, inclusive): per ticket and in total,
    met / late / breached and still-open counts per metric, by severity and customer.

    Totals are GROUP BYs over the stored facts (``services.cohort``); the ticket list
    holds at most ``q.limit`` tickets (0: all), the breached ones first, worst first.
    ``breached_only`` narrows the ticket list, not the totals.
    """
    flt = cohort_filter(session, q)
    got = cohort.compute(session, flt, now)
    keys = cohort.customer_keys(session)
    listed = cohort.listed(session, flt, got, limit=q.limit, breached_only=q.breached_only)
    doc = _assemble(session, q, got, listed, keys, now)
    tally = ticket_tally(got).to_json()
    doc["ticket_states"] = {k: v for k, v in tally.items() if k not in ("period", "start")}
    return doc


def cohort_filter(session: Session, q: ReportQuery) -> cohort.Filter:
    """The report's filters resolved (NotFound / BadInput for unknown ones)."""
    start, end = _period(q)
    customer_id = None
    if q.customer:
        customer_id = masterdata.customer_by_key(session, q.customer).id
    if q.severity:
        policies.check_severities(session, [q.severity])
    name = policies.resolve_name(session, q.policy) if q.policy else None
    return cohort.Filter(start, end, customer_id, q.severity, name)


def ticket_tally(got: cohort.Cohort) -> Any:
    """Tickets by their worst metric state (``domain.analysis.sla_bucket``): the
    ticket-level figures ``sla report`` and ``report overview`` both print."""
    from deskctl.domain import analysis

    counts: Counter[str] = Counter()
    for key, n in got.tickets.items():
        counts[analysis.sla_bucket(key[4])] += n
    return analysis.SlaPeriod(
        period="all",
        start=date.min,
        **{k: counts[k] for k in ("met", "late", "breached", "open", "unknown")},
    )


def _ranks(cache: PolicyCache, version_ids: Iterable[int]) -> tuple[dict[str, int], dict[str, int]]:
    """Severities (most severe first) and metrics in policy order, across the policies
    involved, oldest version first."""
    severities: dict[str, int] = {}
    metrics: dict[str, int] = {}
    for vid in version_ids:
        policy = cache.get(vid)
        if policy is None:
            continue
        for name in policy.severities.order:
            severities.setdefault(name, len(severities))
        for name in policy.metrics:
            metrics.setdefault(name, len(metrics))
    return severities, metrics


def _severity_key(severity: str | None, rank: Mapping[str, int]) -> tuple[int, int, str]:
    if severity is None:
        return (1, 0, "")
    return (0, rank.get(severity, len(rank)), severity)


def _groups(
    got: cohort.Cohort, keys: Mapping[int, str], metric_rank: Mapping[str, int]
) -> tuple[_Group, dict[str | None, _Group], dict[str, _Group]]:
    total = _Group()
    by_severity: dict[str | None, _Group] = {}
    by_customer: dict[str, _Group] = {}

    def groups(sev: str | None, cid: int) -> tuple[_Group, ...]:
        return (
            total,
            by_severity.setdefault(sev, _Group()),
            by_customer.setdefault(keys[cid], _Group()),
        )

    for (_, sev, cid, _, _), n in got.tickets.items():
        assert cid is not None  # counted by customer
        for g in groups(sev, cid):
            g.tickets += n

    def order(item: tuple[tuple[Any, ...], int]) -> tuple[int, str]:
        metric = item[0][2]
        return (metric_rank.get(metric, len(metric_rank)), metric)

    for (sev, cid, metric, state), n in sorted(got.metrics.items(), key=order):
        for g in groups(sev, cid):
            tally = g.metrics.get(metric)
            if tally is None:
                tally = g.metrics[metric] = _tally()
            tally[state] = tally.get(state, 0) + n
    return total, by_severity, by_customer


def _assemble(
    session: Session,
    q: ReportQuery,
    got: cohort.Cohort,
    listed: Sequence[tuple[int, str | None, dict[str, tuple[str, datetime | None]]]],
    keys: Mapping[int, str],
    now: datetime,
) -> dict[str, Any]:
    rows = cohort.ticket_rows(session, [tid for tid, _, _ in listed])
    cache = PolicyCache(session)
    rank, metric_rank = _ranks(cache, got.versions)
    tickets = []
    for tid, worst, states in listed:
        key, sev, st, opened, pvid = rows[tid]
        policy = cache.get(pvid)
        order = {m: i for i, m in enumerate(policy.metrics)} if policy else {}
        named = sorted(states.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        tickets.append(
            {
                "id": tid,
                "customer": key,
                "severity": sev,
                "status": st,
                "opened_at": clock.iso_z(opened),
                "state": worst,
                "metrics": {m: {"state": s, "due_at": clock.iso_z(d)} for m, (s, d) in named},
            }
        )
    total, by_severity, by_customer = _groups(got, keys, metric_rank)
    breached = sum(n for k, n in got.tickets.items() if k[4] == "breached")
    eligible = breached if q.breached_only else total.tickets
    return {
        "from": q.start.isoformat(),
        "to": q.end.isoformat(),
        "at": clock.iso_z(now),
        "filters": {
            "customer": q.customer,
            "severity": q.severity,
            "breached_only": q.breached_only,
            "policy": q.policy,
        },
        "breached_tickets": breached,
        "totals": total.to_json(),
        "by_severity": [
            {"severity": sev, **g.to_json()}
            for sev, g in sorted(by_severity.items(), key=lambda kv: _severity_key(kv[0], rank))
        ],
        "by_customer": [{"customer": k, **g.to_json()} for k, g in sorted(by_customer.items())],
        "limit": q.limit,
        "tickets_total": eligible,  # how many the list would hold without --limit
        "tickets_listed": len(tickets),
        "tickets": tickets,
    }
