"""The SLA of a cohort of tickets at one instant: the one computation behind ``sla report``
and ``report overview``.

Each owed metric's state at the report's instant is computed in SQL from its stored
fact (``store.facts.state_now``: a CASE over the instant against the fact's at-risk,
goal and limit instants for a running clock, the stored state otherwise) and
counted with GROUP BY; only the tickets whose facts cannot tell (computed after
the instant, stale by then, or never computed) are replayed in Python, in batches.
A ticket's state is the worst of its metrics (``domain.sla_facts.worst_state``),
counted from its own row: the settled state of its clocks not running and a CASE
over the earliest limit, goal and at-risk instants of the running ones
(``domain.sla_facts.ticket_state_at``), so no GROUP BY per ticket is needed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlmodel import Session

from deskctl.domain import sla
from deskctl.domain.events import Event
from deskctl.domain.policy import Policy
from deskctl.domain.sla_facts import owed, ticket_clocks, worst_state
from deskctl.services import policies
from deskctl.store import facts
from deskctl.store.facts import F
from deskctl.store.models import Customer, PolicyVersion, Ticket, TicketEvent, table_of
from deskctl.store.planner import no_index

BATCH = 1000

_T = table_of(Ticket).c
_E = table_of(TicketEvent).c
_C = table_of(Customer).c


@dataclass(frozen=True)
class Filter:
    """Which tickets: opened in [start, end), optionally one customer, severity, policy."""

    start: datetime
    end: datetime
    customer_id: int | None = None
    severity: str | None = None
    policy_name: str | None = None  # any version of it
    product: str | None = None  # overview only (not on the facts: checked on the ticket)

    def on(self, c: Any, *, seek: bool = True) -> list[Any]:
        """The filter on a table with opened_at, customer_id, severity, policy_version_id.
        Without ``seek`` the period is not an index range (``store.planner``): a tally
        reads its group-ordered index instead."""
        opened = c.opened_at if seek else no_index(c.opened_at)
        out = [opened >= self.start, opened < self.end]
        if self.customer_id is not None:
            out.append(c.customer_id == self.customer_id)
        if self.severity is not None:
            out.append(c.severity == self.severity)
        if self.policy_name is not None:
            pv = table_of(PolicyVersion).c
            versions = select(pv.id).where(pv.name == self.policy_name)
            out.append(c.policy_version_id.in_(versions))
        return out

    def on_facts(self, *, seek: bool = True) -> list[Any]:
        out = self.on(F, seek=seek)
        if self.product is not None:
            out.append(F.ticket_id.in_(select(_T.id).where(_T.product == self.product)))
        return out

    def on_tickets(self, *, seek: bool = True) -> list[Any]:
        out = self.on(_T, seek=seek)
        if self.product is not None:
            out.append(_T.product == self.product)
        return out


@dataclass
class Replayed:
    """A ticket whose facts could not tell: its states from a replay."""

    id: int
    customer_id: int
    severity: str | None
    status: str
    opened_at: datetime
    policy_version_id: int | None
    states: dict[str, tuple[str, datetime | None, datetime | None]] = field(default_factory=dict)
    # metric -> (state, due_at, stopped_at)

    @property
    def worst(self) -> str | None:
        return worst_state(s for s, _, _ in self.states.values())

    def lateness(self, now: datetime) -> float:
        """Seconds its worst breach is past the limit (stopped, or still running)."""
        late = [
            ((stopped or now) - due).total_seconds()
            for s, due, stopped in self.states.values()
            if s == "breached" and due is not None
        ]
        return max(late, default=0.0)


class PolicyCache:
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


# -- SQL pieces -------------------------------------------------------------------------


def _ticket_told(now: datetime) -> Any:
    at = literal(now, _T.sla_computed_at.type)
    return and_(
        _T.sla_computed_at.is_not(None),
        _T.sla_computed_at <= at,
        or_(_T.sla_stale_at.is_(None), _T.sla_stale_at > at),
    )


def day_of(session: Session, column: Any) -> Any:
    """The UTC calendar day of an instant column, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import Date, cast

        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _seconds(session: Session, column: Any) -> Any:
    """An instant as (fractional) epoch seconds in SQL, to subtract two of them."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", column)
    return func.julianday(column) * 86400.0


def _as_date(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


# -- the cohort -------------------------------------------------------------------------


# (day opened, severity, customer id, policy version, worst state or None)
TicketKey = tuple[date | None, str | None, int | None, int | None, str | None]


@dataclass
class Cohort:
    """What both reports print about a cohort's SLA at ``now``."""

    now: datetime
    # (severity, customer id, metric, state) -> metrics
    metrics: Counter[tuple[str | None, int, str, str]] = field(default_factory=Counter)
    # (day opened, severity, customer id, policy version, worst state or None) -> tickets;
    # by day only, or by the others only (``compute``)
    tickets: Counter[TicketKey] = field(default_factory=Counter)
    replayed: list[Replayed] = field(default_factory=list)

    @property
    def versions(self) -> list[int]:
        """The policy versions of the cohort's tickets, oldest first."""
        return sorted({k[3] for k in self.tickets if k[3] is not None})


RUN_STATES = ("breached", "late", "at_risk", "running")


def _running_state(now: datetime) -> Any:
    """The worst state of a ticket's running clocks at ``now``, from its row: an index
    into RUN_STATES (None: none runs). ``domain.sla_facts.ticket_state_at`` in SQL."""
    at = literal(now, _T.sla_limit_at.type)
    return case(
        (_T.sla_limit_at.is_(None), None),
        (at > _T.sla_limit_at, 0),
        (at > _T.sla_goal_at, 1),
        (at >= _T.sla_risk_at, 2),
        else_=3,
    )


def compute(session: Session, flt: Filter, now: datetime, *, by_day: bool = False) -> Cohort:
    """Every figure of the cohort: GROUP BYs over the facts and the ticket rows,
    replays where they cannot tell. Tickets are counted by (day opened) with
    ``by_day`` (the overview's trend), else by (severity, customer, policy version)
    with the metric tallies too (``sla report``)."""
    out = Cohort(now)
    if by_day:
        told = _day_tallies(session, flt, now, out)
    else:
        _metric_tallies(session, flt, now, out)
        told = _ticket_tallies(session, flt, now, out)
    out.replayed = _replay(session, flt, now) if told < _cohort_size(session, flt) else []
    key: TicketKey
    for r in out.replayed:
        if not by_day:
            for metric, (st, _, _) in r.states.items():
                out.metrics[(r.severity, r.customer_id, metric, st)] += 1
            key = (None, r.severity, r.customer_id, r.policy_version_id, r.worst)
        else:
            key = (r.opened_at.date(), None, None, None, r.worst)
        out.tickets[key] += 1
    return out


def _metric_tallies(session: Session, flt: Filter, now: datetime, out: Cohort) -> None:
    """(severity, customer, metric, state) -> facts: the clocks not running keep their
    stored state (most facts: no CASE for them), the running ones turn at their instants."""
    groups = (F.severity, F.customer_id, F.metric)
    # the settled facts stream from ix_sla_fact_settled; the running ones seek the
    # period in their small ix_sla_fact_running
    for running, state, seek in ((false(), F.state, False), (true(), facts.state_now(now), True)):
        stmt = (
            select(*groups, state, func.count())
            .where(*flt.on_facts(seek=seek), facts.told(now), F.running == running)
            .group_by(*groups, state)
        )
        for sev, cid, metric, st, n in session.execute(stmt):
            out.metrics[(sev, cid, metric, st)] += int(n)


def _ticket_tallies(session: Session, flt: Filter, now: datetime, out: Cohort) -> int:
    """(severity, customer, policy version, worst state) -> tickets, from the rows:
    the settled state, and for a ticket with a running clock the worst of that and its
    running clocks' state at ``now``. Returns how many tickets the facts told."""
    groups = (_T.severity, _T.customer_id, _T.policy_version_id, _T.sla_settled)
    told = 0
    # settled tickets stream from ix_ticket_sla_settled; the running ones seek the
    # period in their small ix_ticket_sla_running
    settled = (
        select(*groups, literal(None), func.count())
        .where(*flt.on_tickets(seek=False), _ticket_told(now), _T.sla_limit_at.is_(None))
        .group_by(*groups)
    )
    run = _running_state(now)
    running = (
        select(*groups, run, func.count())
        .where(*flt.on_tickets(), _ticket_told(now), _T.sla_limit_at.is_not(None))
        .group_by(*groups, run)
    )
    for stmt in (settled, running):
        for sev, cid, version, state, run_state, n in session.execute(stmt):
            key = (None, sev, int(cid), version, _worst_of(state, run_state))
            out.tickets[key] += int(n)
            told += int(n)
    return told


def _day_tallies(session: Session, flt: Filter, now: datetime, out: Cohort) -> int:
    """(day opened, worst state) -> tickets. One query per UTC day: each reads its
    day's range of the period index, and no million-row sort into days is needed."""
    told = 0
    where = (
        _T.opened_at >= bindparam("day_start", type_=_T.opened_at.type),
        _T.opened_at < bindparam("day_end", type_=_T.opened_at.type),
        *flt.on_tickets(),
        _ticket_told(now),
        _T.sla_limit_at.is_(None),
    )
    # a count per known state in one pass: no sort of the day's entries into groups,
    # which was most of the cost (SQLite has no hash aggregation); a day holding a state
    # not known here is grouped as before
    known = sla.STATES
    counted = select(
        func.count(),
        func.count(_T.sla_settled),
        *(func.sum(case((_T.sla_settled == s, 1), else_=0)) for s in known),
    ).where(*where)
    grouped = select(_T.sla_settled, func.count()).where(*where).group_by(_T.sla_settled)
    for day, day_start, day_end in _days(flt):
        bounds = {"day_start": day_start, "day_end": day_end}
        n, stated, *per_state = session.execute(counted, bounds).one()
        if not n:
            continue
        per = [int(k or 0) for k in per_state]
        rows: Iterable[tuple[str | None, int]] = [
            (None, int(n) - int(stated)),
            *zip(known, per, strict=True),
        ]
        if sum(per) != int(stated):
            rows = session.execute(grouped, bounds).tuples()
        for state, k in rows:
            if k:
                out.tickets[(day, None, None, None, state)] += int(k)
                told += int(k)
    day = day_of(session, _T.opened_at)
    run = _running_state(now)
    running = (
        select(day, _T.sla_settled, run, func.count())
        .where(*flt.on_tickets(), _ticket_told(now), _T.sla_limit_at.is_not(None))
        .group_by(day, _T.sla_settled, run)
    )
    for opened, state, run_state, n in session.execute(running):
        out.tickets[(_as_date(opened), None, None, None, _worst_of(state, run_state))] += int(n)
        told += int(n)
    return told


def _days(flt: Filter) -> Iterator[tuple[date, datetime, datetime]]:
    """The UTC days of the filter's period, each clipped to the period."""
    day = flt.start.astimezone(UTC).date()
    while True:
        start = datetime.combine(day, time(), UTC)
        if start >= flt.end:
            return
        end = start + timedelta(days=1)
        yield day, max(start, flt.start), min(end, flt.end)
        day += timedelta(days=1)


def _worst_of(settled: str | None, running: int | None) -> str | None:
    """A ticket's state: its settled clocks' and its running clocks' (RUN_STATES index)."""
    run = None if running is None else RUN_STATES[running]
    return worst_state([s for s in (settled, run) if s])


def _cohort_size(session: Session, flt: Filter) -> int:
    """Tickets in the cohort, told or not (the period index alone answers)."""
    return int(session.execute(select(func.count()).where(*flt.on_tickets())).scalar_one())


def _replay(session: Session, flt: Filter, now: datetime) -> list[Replayed]:
    # the ids first: a query the covering index answers alone (usually none match)
    stmt = select(_T.id).where(*flt.on_tickets(), ~_ticket_told(now))
    ids = sorted(int(i) for i in session.execute(stmt).scalars())
    rows: list[Replayed] = []
    cols = (_T.id, _T.customer_id, _T.severity, _T.status, _T.opened_at, _T.policy_version_id)
    for part in chunks(ids, BATCH):
        stmt = select(*cols).where(_T.id.in_(list(part))).order_by(_T.id)
        rows.extend(Replayed(*r) for r in session.execute(stmt))
    cache = PolicyCache(session)
    for part in chunks(rows, BATCH):
        histories = events_by_ticket(session, [r.id for r in part])
        for r in part:
            policy = cache.get(r.policy_version_id)
            events = histories.get(r.id)
            if policy is None or not events:
                continue
            clocks = owed(ticket_clocks(policy, events, now).clocks, policy)
            r.states = {m: (c.state, c.due_at, c.stopped_at) for m, c in clocks.items()}
    return rows


# -- the listed tickets -----------------------------------------------------------------


def listed(
    session: Session, flt: Filter, cohort: Cohort, *, limit: int, breached_only: bool
) -> list[tuple[int, str | None, dict[str, tuple[str, datetime | None]]]]:
    """(id, worst state, {metric: (state, due)}) of the tickets a report lists: the
    breached ones first, worst first (furthest past the limit), then the others by
    id (unless ``breached_only``); at most ``limit`` (0: all). Reads only those rows."""
    now = cohort.now
    state = facts.state_now(now)
    told = facts.told(now)
    cap = None if limit <= 0 else limit
    breached = _breached(session, flt, now, cap)
    breached += [(r.lateness(now), r.id) for r in cohort.replayed if r.worst == "breached"]
    breached.sort(key=lambda p: (-p[0], p[1]))
    ids = [t for _, t in breached[:cap]]
    if not breached_only and (cap is None or len(ids) < cap):
        room = None if cap is None else cap - len(ids)
        is_breached = exists().where(F.ticket_id == _T.id, told, state == "breached")
        stmt = (
            select(_T.id)
            .where(*flt.on_tickets(), _ticket_told(now), ~is_breached)
            .order_by(_T.id)
            .limit(room)
        )
        others = [int(t) for t in session.execute(stmt).scalars()]
        others += [r.id for r in cohort.replayed if r.worst != "breached"]
        ids += sorted(others)[:room]
    return _states_of(session, ids, cohort)


def _breached(
    session: Session, flt: Filter, now: datetime, cap: int | None
) -> list[tuple[float, int]]:
    """(seconds past the limit, ticket) of the ``cap`` tickets furthest past a limit.

    Settled breaches (their own small index) and running clocks past their limit are
    ranked apart; a ticket's lateness is its worst breach in either, so the top
    ``cap`` of each, merged per ticket, hold the top ``cap`` of all."""
    stop = func.coalesce(F.stopped_at, literal(now, F.due_at.type))
    late = func.max(_seconds(session, stop) - _seconds(session, F.due_at))
    picks = (
        # the literal, not a parameter: SQLite matches the partial index by its terms
        (F.running == false(), F.state == literal_column("'breached'")),
        (F.running == true(), facts.state_now(now) == "breached"),
    )
    worst: dict[int, float] = {}
    for running, is_breached in picks:
        stmt = (
            select(F.ticket_id, late)
            .where(*flt.on_facts(), facts.told(now), running, is_breached)
            .group_by(F.ticket_id)
            .order_by(late.desc(), F.ticket_id)
            .limit(cap)
        )
        for tid, seconds in session.execute(stmt):
            worst[int(tid)] = max(worst.get(int(tid), 0.0), float(seconds or 0))
    return [(seconds, tid) for tid, seconds in worst.items()]


def _states_of(
    session: Session, ids: Sequence[int], cohort: Cohort
) -> list[tuple[int, str | None, dict[str, tuple[str, datetime | None]]]]:
    replayed = {r.id: r for r in cohort.replayed}
    states: dict[int, dict[str, tuple[str, datetime | None]]] = {}
    wanted = [i for i in ids if i not in replayed]
    state = facts.state_now(cohort.now)
    for part in chunks(wanted, BATCH):
        stmt = select(F.ticket_id, F.metric, state, F.due_at).where(F.ticket_id.in_(list(part)))
        for tid, metric, st, due in session.execute(stmt):
            states.setdefault(int(tid), {})[metric] = (st, due)
    out = []
    for tid in ids:
        if tid in replayed:
            got = {m: (s, due) for m, (s, due, _) in replayed[tid].states.items()}
        else:
            got = states.get(tid, {})
        out.append((tid, worst_state(s for s, _ in got.values()), got))
    return out


def ticket_rows(session: Session, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """id -> (customer key, severity, status, opened_at, policy version id) of ``ids``."""
    out: dict[int, tuple[Any, ...]] = {}
    for part in chunks(ids, BATCH):
        stmt = (
            select(_T.id, _C.key, _T.severity, _T.status, _T.opened_at, _T.policy_version_id)
            .join(table_of(Customer), _C.id == _T.customer_id)
            .where(_T.id.in_(list(part)))
        )
        for row in session.execute(stmt):
            out[int(row[0])] = tuple(row[1:])
    return out


# -- histories --------------------------------------------------------------------------


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def events_by_ticket(session: Session, ids: Iterable[int]) -> dict[int, list[Event]]:
    """The histories of ``ids`` in one query (columns only, no ORM objects)."""
    stmt = (
        select(
            _E.ticket_id, _E.seq, _E.at, _E.kind, _E.actor, _E.from_status, _E.to_status,
            _E.note, _E.data,
        )
        .where(_E.ticket_id.in_(list(ids)))
        .order_by(_E.ticket_id, _E.seq)
    )  # fmt: skip
    out: dict[int, list[Event]] = {}
    for tid, seq, at, kind, actor, from_s, to_s, note, data in session.execute(stmt):
        payload = dict(data or {})
        if note is not None:
            payload.setdefault("note", note)
        out.setdefault(tid, []).append(Event(seq, at, kind, actor, from_s, to_s, payload))
    return out


def customer_keys(session: Session) -> Mapping[int, str]:
    return {int(i): str(k) for i, k in session.execute(select(_C.id, _C.key))}
