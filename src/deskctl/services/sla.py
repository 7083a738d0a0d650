"""SLA clocks of stored tickets: ``sla status``, ``ticket show``'s clocks, refresh, reports.

The rules -- which plan and calendar a ticket is judged under, the row columns and
the ``sla_clocks`` snapshot -- are in ``deskctl.domain.sla_facts``; this module loads
what they need from the store and writes or aggregates what they return.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from deskctl import clock
from deskctl.domain.events import Event
from deskctl.domain.policy import Policy
from deskctl.domain.sla_facts import (
    columns,
    owed,
    public,
    stamp,
    states_from_snapshot,
    ticket_clocks,
    worst_state,
)
from deskctl.errors import BadInput
from deskctl.services import masterdata, policies
from deskctl.services import tickets as tickets_svc
from deskctl.store.models import Customer, PolicyVersion, Ticket, TicketEvent, pk, table_of

# States a report counts as judged: the goal or the limit is already known missed or kept.
JUDGED = ("met", "late", "breached")
OPEN_STATES = ("running", "at_risk", "paused", "pending")
REPORT_STATES = (*JUDGED, *OPEN_STATES)
BATCH = 1000

_T = table_of(Ticket).c
_E = table_of(TicketEvent).c


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


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def events_by_ticket(session: Session, ids: Sequence[int]) -> dict[int, list[Event]]:
    """The histories of ``ids`` in one query (columns only, no ORM objects)."""
    stmt = (
        select(
            _E.ticket_id,
            _E.seq,
            _E.at,
            _E.kind,
            _E.actor,
            _E.from_status,
            _E.to_status,
            _E.note,
            _E.data,
        )
        .where(_E.ticket_id.in_(list(ids)))
        .order_by(_E.ticket_id, _E.seq)
    )
    out: dict[int, list[Event]] = {}
    for tid, seq, at, kind, actor, from_s, to_s, note, data in session.execute(stmt):
        payload = dict(data or {})
        if note is not None:
            payload.setdefault("note", note)
        out.setdefault(tid, []).append(Event(seq, at, kind, actor, from_s, to_s, payload))
    return out


class _PolicyCache:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[int, Policy] = {}

    def get(self, version_id: int | None) -> Policy | None:
        if version_id is None:
            return None
        policy = self.known.get(version_id)
        if policy is None:
            policy = self.known[version_id] = policies.by_version_id(self.session, version_id)[1]
        return policy


def refresh(
    session: Session,
    now: datetime,
    ids: Iterable[int] | None = None,
    *,
    every: bool = False,
    batch: int = BATCH,
) -> int:
    """Recompute the SLA columns of open tickets (or of ``ids``, or ``every`` ticket).

    Histories are read a batch at a time and rows updated with one executemany per
    batch. A row changed by someone else meanwhile (its ``rev`` moved) is left alone:
    that change already wrote fresh columns. Returns the number of rows updated.
    """
    stmt = select(_T.id, _T.rev, _T.policy_version_id).order_by(_T.id)
    if ids is not None:
        wanted = sorted(set(ids))
        rows: list[Any] = []
        for part in _chunks(wanted, batch):
            rows.extend(session.execute(stmt.where(_T.id.in_(list(part)))).all())
    elif every:
        rows = list(session.execute(stmt).all())
    else:
        rows = list(session.execute(stmt.where(_T.status != "closed")).all())
    cache = _PolicyCache(session)
    writer = (
        update(table_of(Ticket))
        .where(_T.id == bindparam("b_id"), _T.rev == bindparam("b_rev"))
        .values(
            sla_state=bindparam("b_state", type_=_T.sla_state.type),
            sla_due_at=bindparam("b_due", type_=_T.sla_due_at.type),
            sla_clocks=bindparam("b_clocks", type_=_T.sla_clocks.type),
        )
    )
    done = 0
    for part in _chunks(rows, batch):
        histories = events_by_ticket(session, [r.id for r in part])
        params = []
        for r in part:
            events = histories.get(r.id)
            if not events:
                continue
            cols = columns(cache.get(r.policy_version_id), events, now)
            params.append(
                {
                    "b_id": r.id,
                    "b_rev": r.rev,
                    "b_state": cols["sla_state"],
                    "b_due": cols["sla_due_at"],
                    "b_clocks": cols["sla_clocks"],
                }
            )
        if params:
            result = session.execute(writer, params)
            done += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    return done


# -- report ------------------------------------------------------------------------------


@dataclass
class ReportQuery:
    start: date  # first day (UTC) a ticket was opened on
    end: date  # last day, inclusive
    customer: str | None = None
    severity: str | None = None
    breached_only: bool = False
    policy: str | None = None  # only tickets opened under this policy (any version)


def _tally() -> dict[str, int]:
    return dict.fromkeys(REPORT_STATES, 0)


@dataclass
class _Group:
    tickets: int = 0
    metrics: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, combo: Iterable[tuple[str, str]], count: int) -> None:
        """``count`` tickets whose metrics are in the states of ``combo``."""
        self.tickets += count
        for metric, state in combo:
            tally = self.metrics.get(metric)
            if tally is None:
                tally = self.metrics[metric] = _tally()
            tally[state] = tally.get(state, 0) + count

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

    ``breached_only`` narrows the ticket list, not the totals.
    """
    start, end = _period(q)
    where = [_T.opened_at >= start, _T.opened_at < end]
    if q.customer:
        where.append(_T.customer_id == masterdata.customer_by_key(session, q.customer).id)
    if q.severity:
        policies.check_severities(session, [q.severity])
        where.append(_T.severity == q.severity)
    if q.policy:
        name = policies.resolve_name(session, q.policy)
        versions = select(col(PolicyVersion.id)).where(col(PolicyVersion.name) == name)
        where.append(_T.policy_version_id.in_(versions))
    rows, cache = cohort_states(session, where, now)
    doc = _assemble(q, rows, now, _severity_rank(cache, {r[5] for r in rows}))
    tally = ticket_tally(rows).to_json()
    doc["ticket_states"] = {k: v for k, v in tally.items() if k not in ("period", "start")}
    return doc


def cohort_states(
    session: Session, where: Sequence[Any], now: datetime
) -> tuple[list[list[Any]], _PolicyCache]:
    """Every ticket matching ``where`` with each owed metric's state at ``now``: rows of
    [id, customer key, severity, status, opened_at, policy version id, {metric: (state,
    due stamp)}], by id. The one SLA computation of ``sla report`` and ``report overview``.

    Stored snapshots are read (columns only); tickets without a usable one are
    replayed in batches.
    """
    now_stamp = stamp(now)
    stmt = (
        select(
            _T.id,
            col(Customer.key),
            _T.severity,
            _T.status,
            _T.opened_at,
            _T.policy_version_id,
            _T.sla_clocks,
        )
        .join(table_of(Customer), col(Customer.id) == _T.customer_id)
        .where(*where)
        .order_by(_T.id)
        .execution_options(yield_per=5000)  # streamed: a server-side cursor on PostgreSQL
    )
    rows: list[list[Any]] = []
    replay: list[list[Any]] = []
    for tid, key, sev, st, opened, pvid, snap in session.execute(stmt):
        row = [tid, key, sev, st, opened, pvid, states_from_snapshot(snap, now_stamp)]
        rows.append(row)
        if row[6] is None:
            replay.append(row)
    cache = _PolicyCache(session)
    _replay_states(cache, replay, now)
    return rows, cache


def ticket_worst(row: Sequence[Any]) -> str | None:
    """A cohort row's ticket-level state: the worst of its metrics (``worst_state``)."""
    return worst_state(s for s, _ in row[6].values())


def ticket_tally(rows: Iterable[Sequence[Any]]) -> Any:
    """Tickets by their worst metric state (``domain.analysis.sla_bucket``): the
    ticket-level figures ``sla report`` and ``report overview`` both print."""
    from deskctl.domain import analysis

    counts: Counter[str] = Counter(analysis.sla_bucket(ticket_worst(row)) for row in rows)
    return analysis.SlaPeriod(
        period="all",
        start=date.min,
        **{k: counts[k] for k in ("met", "late", "breached", "open", "unknown")},
    )


def _severity_rank(cache: _PolicyCache, version_ids: Iterable[int | None]) -> dict[str, int]:
    """Severities in policy order (most severe first), across the policies involved."""
    rank: dict[str, int] = {}
    for vid in sorted(v for v in version_ids if v is not None):
        policy = cache.get(vid)
        for name in policy.severities.order if policy else ():
            rank.setdefault(name, len(rank))
    return rank


def _replay_states(cache: _PolicyCache, rows: Sequence[list[Any]], now: datetime) -> None:
    session = cache.session
    for part in _chunks(rows, BATCH):
        histories = events_by_ticket(session, [r[0] for r in part])
        for r in part:
            policy = cache.get(r[5])
            events = histories.get(r[0])
            if policy is None or not events:
                r[6] = {}
                continue
            clocks = owed(ticket_clocks(policy, events, now).clocks, policy)
            r[6] = {m: (c.state, stamp(c.due_at) if c.due_at else None) for m, c in clocks.items()}


def _worst(combo: Iterable[tuple[str, str]]) -> str | None:
    return worst_state(s for _, s in combo)


def _severity_key(severity: str | None, rank: Mapping[str, int]) -> tuple[int, int, str]:
    if severity is None:
        return (1, 0, "")
    return (0, rank.get(severity, len(rank)), severity)


def _assemble(
    q: ReportQuery, rows: Sequence[list[Any]], now: datetime, rank: Mapping[str, int]
) -> dict[str, Any]:
    # Tickets share few (severity, customer, states) combinations: count those, then
    # fold them into the groups, instead of touching three groups per ticket.
    combos: Counter[tuple[str | None, str, tuple[tuple[str, str], ...]]] = Counter()
    worst_of: dict[tuple[tuple[str, str], ...], str | None] = {}
    listed = []
    breached = 0
    for tid, key, sev, st, opened, _, states in rows:
        combo = tuple((m, s) for m, (s, _) in states.items())
        combos[(sev, key, combo)] += 1
        worst = worst_of.get(combo, "")
        if worst == "":
            worst = worst_of[combo] = _worst(combo)
        if worst == "breached":
            breached += 1
        elif q.breached_only:
            continue
        listed.append(
            {
                "id": tid,
                "customer": key,
                "severity": sev,
                "status": st,
                "opened_at": clock.iso_z(opened),
                "state": worst,
                "metrics": {m: {"state": s, "due_at": public(d)} for m, (s, d) in states.items()},
            }
        )
    total = _Group()
    by_severity: dict[str | None, _Group] = {}
    by_customer: dict[str, _Group] = {}
    for (sev, key, combo), count in combos.items():
        for group in (
            total,
            by_severity.setdefault(sev, _Group()),
            by_customer.setdefault(key, _Group()),
        ):
            group.add(combo, count)
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
        "tickets": listed,
    }
