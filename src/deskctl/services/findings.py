"""The findings report over the store (seed 004): where users need training, which
software versions need an update, which equipment to replace, which topics keep coming back.

Each rule's evidence is a GROUP BY (or a window) in SQL over the report's cohort
(``services.reports.Scope``), so only candidate groups come back to Python; the
decisions on those tallies are ``domain.analysis``'s. A finding lists at most
``limit`` tickets (0: all), the lowest ids first, with ``tickets_total`` beside
them; the root-cause evidence lists (reopened tickets, recurrences) are cut the
same way and carry their own totals. Tickets without a topic are not grouped into
training or root-cause findings; empty text counts as not recorded.

Root causes read the comeback links stored per ticket (``domain.comebacks``,
migration 0016, kept by ``services.tickets.record``): a recurrence is one row of
the cohort with its gap within ``--recur-days``, and the tickets involved are
counted in disjoint parts (``_linked_statements``). A product filter changes which
closings count, and a store not linked yet (upgraded before ``sla refresh --all``,
or rows written around the writers) has no links: both run the window over every
(customer, topic) history instead (``_window``), with the same result. The lowest
ids of the involved tickets per topic and of the defects per version found come
from one scan in id order where that reads little (``services.findings_scan``).

The rules in plain Python over every ticket are kept as the tests' oracle
(``tests/findings_reference.py``); the two must agree on any store, with and
without the links.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from deskctl.domain import analysis
from deskctl.domain import events as ev
from deskctl.domain.analysis import Comebacks, Finding, Thresholds, VersionTally
from deskctl.errors import BadInput
from deskctl.services.findings_scan import Span, lowest_ids, span_of
from deskctl.services.reports import Scope, _epoch
from deskctl.store.models import Contact, Customer, Ticket, TicketEvent, table_of
from deskctl.store.reads.report import counted_events
from deskctl.store.snapshot import Beside, twin

DEFAULT_LIMIT = 100  # as ``sla report --limit``
T = table_of(Ticket).c
_SHIFT = 2**32  # ticket ids are below it: (seconds, id) pack into one 64-bit key


def findings(
    session: Session,
    scope: Scope,
    thresholds: Thresholds,
    *,
    now: datetime,
    limit: int = DEFAULT_LIMIT,
    beside: bool = False,
) -> dict[str, Any]:
    """The findings report: named findings with their evidence and (the first) tickets.
    ``beside``: part of it may be read on a second connection (``_found``); only for a
    session that has written nothing, since its transaction begins again."""
    thresholds.check()
    if limit < 0:
        raise BadInput("--limit must be 0 (all) or more")
    customers: dict[int, str] = {
        int(i): str(k)
        for i, k in session.execute(select(table_of(Customer).c.id, table_of(Customer).c.key))
    }
    span, found = _found(session, scope, thresholds, limit, customers, beside)
    return {
        "report": "findings",
        "from": scope.first,
        "to": scope.last,
        "customer": scope.customer,
        "product": scope.product,
        "generated_at": now,
        "tickets": span.count,
        "limit": limit,
        "thresholds": {
            "misuse_repeats": thresholds.misuse_repeats,
            "min_defects": thresholds.min_defects,
            "share_ratio": thresholds.share_ratio,
            "recur_days": thresholds.recur_days,
            "min_comebacks": thresholds.min_comebacks,
        },
        "findings": [f.to_json() for f in analysis.ordered(found)],
    }


def _found(
    session: Session,
    scope: Scope,
    t: Thresholds,
    limit: int,
    customers: dict[int, str],
    beside: bool,
) -> tuple[Span, list[Finding]]:
    """The cohort's span and the four rules' findings. Where the store can be read on
    two connections at one snapshot (``store.snapshot.twin``), training needs and root
    causes are read on the second meanwhile, so the database works on both halves at
    once: at 1M the whole command took 4.4-4.7 s -> 3.05 s on SQLite and 5.3 s -> 3.4 s
    on PostgreSQL, with the same document."""
    with twin(session) if beside else nullcontext() as other:
        if other is None:
            span = span_of(session, scope)
            versions, tallied = _cohort_tallies(session, scope)
            return span, [
                *_training_needs(session, scope, t, limit, customers),
                *_updates_needed(session, scope, t, limit, span, versions),
                *_equipment_to_replace(session, scope, t, limit, tallied),
                *_root_causes(session, scope, t, limit, customers, span),
            ]
        spanned: Future[Span] = Future()

        def on_other(other: Session) -> tuple[list[Finding], list[Finding]]:
            training = _training_needs(other, scope, t, limit, customers)
            return training, _root_causes(other, scope, t, limit, customers, spanned.result())

        with Beside(other, on_other) as side:
            try:
                span = span_of(session, scope)
            except BaseException as exc:
                spanned.set_exception(exc)
                raise
            spanned.set_result(span)
            versions, tallied = _cohort_tallies(session, scope)
            updates = _updates_needed(session, scope, t, limit, span, versions)
            equipment = _equipment_to_replace(session, scope, t, limit, tallied)
            training, roots = side.result()
        return span, [*training, *updates, *equipment, *roots]


def _defects() -> Any:
    return func.sum(case((T.category == "defect", 1), else_=0))


def _first_ids(session: Session, where: Sequence[ColumnElement[bool]], limit: int) -> list[int]:
    stmt = select(T.id).where(*where).order_by(T.id)
    if limit:
        stmt = stmt.limit(limit)
    return [int(i) for i in session.execute(stmt).scalars()]


def _with_tickets(f: Finding, ids: Sequence[int]) -> Finding:
    return Finding(f.kind, f.subject, f.message, f.evidence, tuple(ids), f.tickets_total)


# -- training needs ----------------------------------------------------------------------


def _training_needs(
    session: Session, scope: Scope, t: Thresholds, limit: int, customers: dict[int, str]
) -> list[Finding]:
    """Misuse tickets per (customer, topic, contact), for the groups repeated often enough."""
    tallies: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    ids: dict[tuple[int, str], list[int]] = defaultdict(list)
    for tag, customer_id, topic, email, n in session.execute(_misuse_statement(scope, t, limit)):
        if tag == "contact":
            tallies[(customer_id, topic)][email or "(unknown)"] += int(n)
        else:
            ids[(customer_id, topic)].append(int(n))
    out = []
    for (customer_id, topic), contacts in tallies.items():
        f = analysis.training_need(customers[customer_id], topic, contacts, t)
        if f is not None:
            out.append(_with_tickets(f, sorted(ids[(customer_id, topic)])))
    return out


def _misuse_statement(scope: Scope, t: Thresholds, limit: int) -> Any:
    """The misuse tickets read once (one pass over the cohort's index range, which costs
    more than the few rows' sorts) for both lists of the groups repeated often enough:
    ``contact`` rows (tag, customer id, topic, e-mail, tickets) and ``id`` rows (tag,
    customer id, topic, NULL, ticket id) for each group's lowest ``limit`` ids."""
    misuse = (
        select(T.customer_id, T.topic, T.contact_id, T.id)
        .where(*scope.cohort(), T.category == "misuse", T.topic != "")
        .cte("misuse")
    )
    m = misuse.c
    group = (m.customer_id, m.topic)
    per_contact = (
        select(
            m.customer_id,
            m.topic,
            m.contact_id,
            func.count().label("n"),
            func.sum(func.count()).over(partition_by=group).label("total"),
        )
        .group_by(m.customer_id, m.topic, m.contact_id)
        .subquery("per_contact")
    )
    c = per_contact.c
    people = table_of(Contact)
    contacts = (
        select(_tag("contact"), c.customer_id, c.topic, people.c.email, c.n)
        .select_from(per_contact.outerjoin(people, c.contact_id == people.c.id))
        .where(c.total >= t.misuse_repeats)
    )
    ranked = select(
        m.customer_id,
        m.topic,
        m.id,
        func.row_number().over(partition_by=group, order_by=m.id).label("rn"),
        func.count().over(partition_by=group).label("total"),
    ).subquery("ranked")
    r = ranked.c
    first = select(_tag("id"), r.customer_id, r.topic, cast(null(), String), r.id).where(
        r.total >= t.misuse_repeats
    )
    if limit:
        first = first.where(r.rn <= limit)
    return union_all(contacts, first)


def _group_ids(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    group: tuple[Any, ...],
    at_least: int,
    limit: int,
) -> dict[tuple[Any, ...], list[int]]:
    """The first ``limit`` ticket ids of each group of at least ``at_least`` tickets."""
    ranked = (
        select(
            *group,
            T.id,
            func.row_number().over(partition_by=group, order_by=T.id).label("rn"),
            func.count().over(partition_by=group).label("total"),
        )
        .where(*where)
        .subquery()
    )
    r = ranked.c
    keys = [r[c.name] for c in group]
    stmt = select(*keys, r.id).where(r.total >= at_least).order_by(*keys, r.id)
    if limit:
        stmt = stmt.where(r.rn <= limit)
    out: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for *key, ticket_id in session.execute(stmt):
        out[tuple(key)].append(int(ticket_id))
    return out


# -- updates needed, equipment to replace ------------------------------------------------


def _month_start(column: Any) -> Any:
    """PostgreSQL: the first instant (UTC wall time) of an instant column's UTC month.
    A timestamp groups faster than ``to_char``'s text (at 1M, the updates-needed tally
    0.75-0.8 s against 1.0-1.2 s); the month is spelled in Python, once per group."""
    return func.date_trunc("month", func.timezone("UTC", column))


def _months(scope: Scope) -> list[tuple[datetime, datetime]]:
    """The period cut at each UTC month's start: [start, next 1st), ..., [last 1st, end)."""
    out = []
    start = scope.start
    while start < scope.end:
        after = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        out.append((start, min(after, scope.end)))
        start = after
    return out


def _by_month(session: Session) -> bool:
    """Whether to run a cohort GROUP BY once per month and add the months up.

    SQLite has no hash aggregation: a GROUP BY sorts every row of the period, and a
    million rows sort more than twice as slowly as twelve sorts of a month each (at
    1M, updates needed: 0.9 s against 0.45 s CPU; its month is then no sort key at
    all). PostgreSQL hashes the groups in one pass, so it gets one statement."""
    return session.get_bind().dialect.name == "sqlite"


def _in(start: datetime, end: datetime, scope: Scope) -> list[ColumnElement[bool]]:
    """The cohort's terms for the tickets opened in [start, end) of the period."""
    return [T.opened_at >= start, T.opened_at < end, *scope.filters()]


VersionMonth = tuple[str, str, str, int, int]  # product, version, month, tickets, defects
Tallies = dict[str, tuple[int, int]]  # value -> (tickets, defects)


def _cohort_tallies(
    session: Session, scope: Scope
) -> tuple[list[VersionMonth], dict[str, Tallies]]:
    """The cohort's tickets and defects per (product, version, month opened), and per
    value of each equipment attribute (``analysis.EQUIPMENT``), with empty text left out.

    PostgreSQL hashes all of them in one pass over the cohort (about 1,100 groups at
    1M): at 1M that pass took 1.0-1.1 s, as long as the version months' alone, where
    the hardware and OS tallies had taken 0.23 s more each. SQLite sorts to group, so
    there a wider key costs more than it saves: a statement each, month by month."""
    if _by_month(session):
        equipment = {name: _tallies(session, scope, T[name]) for name, _ in analysis.EQUIPMENT}
        return _version_months(session, scope), equipment
    month = _month_start(T.opened_at).label("month")
    names = [name for name, _ in analysis.EQUIPMENT]
    stmt = (
        select(T.product, T.version, month, *(T[n] for n in names), func.count(), _defects())
        .where(*scope.cohort())
        .group_by(T.product, T.version, month, *(T[n] for n in names))
    )
    versions: dict[tuple[str, str, str], tuple[int, int]] = defaultdict(lambda: (0, 0))
    values: dict[str, Tallies] = {name: defaultdict(lambda: (0, 0)) for name in names}
    for product, version, started, *attributes, n, d in session.execute(stmt):
        if product and version:
            _add(versions, (product, version, started.strftime("%Y-%m")), int(n), int(d))
        for name, value in zip(names, attributes, strict=True):
            if value:
                _add(values[name], value, int(n), int(d))
    return (
        [(p, v, m, n, d) for (p, v, m), (n, d) in sorted(versions.items())],
        {name: dict(sorted(tallies.items())) for name, tallies in values.items()},
    )


def _add(tallies: dict[Any, tuple[int, int]], key: Any, n: int, defects: int) -> None:
    """Adds a group's tickets and defects to ``key``'s (``tallies`` defaults to (0, 0))."""
    before = tallies[key]
    tallies[key] = (before[0] + n, before[1] + defects)


def _version_months(session: Session, scope: Scope) -> list[VersionMonth]:
    """SQLite: (product, version, month opened, tickets, defects) of the cohort, one
    GROUP BY per month (``_by_month``)."""
    named = [T.product != "", T.version != ""]
    out = []
    for start, end in _months(scope):
        stmt = (
            select(T.product, T.version, func.count(), _defects())
            .where(*_in(start, end, scope), *named)
            .group_by(T.product, T.version)
        )
        key = start.strftime("%Y-%m")
        out += [(p, v, key, int(n), int(d)) for p, v, n, d in session.execute(stmt)]
    return out


def _updates_needed(
    session: Session,
    scope: Scope,
    t: Thresholds,
    limit: int,
    span: Span,
    versions: list[VersionMonth],
) -> list[Finding]:
    """Tickets and defects per product version and month opened (``_cohort_tallies``)."""
    tickets: dict[tuple[str, str], int] = defaultdict(int)
    monthly: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for product, version, key, n, defects in versions:
        tickets[(product, version)] += n
        monthly[(product, version)][key] = defects
    # in (product, version) order, as one GROUP BY gives them
    tallies = [VersionTally(p, v, n, monthly[(p, v)]) for (p, v), n in sorted(tickets.items())]
    months = analysis.report_months(scope.start, scope.end)
    found = analysis.updates_needed(tallies, months, t)
    if not found:
        return []
    named = [
        and_(T.product == f.evidence["product"], T.version == f.evidence["version"]) for f in found
    ]
    ids = _defect_ids(session, scope, span, found, or_(*named), limit)
    return [_with_tickets(f, ids[(f.evidence["product"], f.evidence["version"])]) for f in found]


def _defect_ids(
    session: Session, scope: Scope, span: Span, found: list[Finding], named: Any, limit: int
) -> dict[tuple[Any, ...], list[int]]:
    """The first defect ids of each version found, by one scan for all of them."""
    defects = [T.category == "defect", named]
    wanted = {(f.evidence["product"], f.evidence["version"]): f.total for f in found}
    scan = lowest_ids(session, scope, span, wanted, limit)
    if scan is None:
        return _group_ids(session, [*scope.cohort(), *defects], (T.product, T.version), 1, limit)
    out: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for product, version, ticket_id in scan.rows((T.product, T.version, T.id), defects):
        if scan.take((product, version)):
            out[(product, version)].append(int(ticket_id))
    return out


def _equipment_to_replace(
    session: Session, scope: Scope, t: Thresholds, limit: int, tallied: dict[str, Tallies]
) -> list[Finding]:
    """Tickets and defects per hardware model, and per OS version (``_cohort_tallies``)."""
    out = []
    for attribute, label in analysis.EQUIPMENT:
        column = T[attribute]
        for f in analysis.equipment_to_replace(attribute, label, tallied[attribute], t):
            where = [*scope.cohort(), column == f.evidence["value"], T.category == "defect"]
            out.append(_with_tickets(f, _first_ids(session, where, limit)))
    return out


def _tallies(session: Session, scope: Scope, column: Any) -> Tallies:
    """SQLite: value -> (tickets, defects) of the cohort's tickets with ``column``
    recorded, added up over the months (``_by_month``)."""
    out: Tallies = defaultdict(lambda: (0, 0))
    for start, end in _months(scope):
        stmt = (
            select(column, func.count(), _defects())
            .where(*_in(start, end, scope), column != "")
            .group_by(column)
        )
        for value, n, d in session.execute(stmt):
            _add(out, value, int(n), int(d))
    return dict(sorted(out.items()))  # in value order, as one GROUP BY gives them


# -- root causes -------------------------------------------------------------------------


def _root_causes(
    session: Session,
    scope: Scope,
    t: Thresholds,
    limit: int,
    customers: dict[int, str],
    span: Span,
) -> list[Finding]:
    tallies = _comeback_rows(session, scope, t, limit, span)
    out = []
    for topic, rows in sorted(tallies.items()):
        by_customer: dict[str, int] = defaultdict(int)
        for customer_id, n in rows["customers"]:
            by_customer[customers[customer_id]] += n
        reopens, reopened_total = rows["reopen"][0] if rows["reopen"] else (0, 0)
        comebacks = Comebacks(
            topic=topic,
            reopens=reopens,
            reopened=tuple(sorted(i for i, _ in rows["reopened"])),
            reopened_total=reopened_total,
            recurrences=tuple((resolved, again) for again, resolved in sorted(rows["pair"])),
            recurrences_total=sum(n for _, n in rows["pairs"]),
            customers=by_customer,
            tickets_total=sum(rows[tag][0][1] for tag in _INVOLVED if rows[tag])
            + sum(n for n, _ in rows["involved"]),
        )
        f = analysis.root_cause(comebacks, t)
        if f is not None:
            ids = sorted(i for tag in _INVOLVED for i, _ in rows[tag])
            out.append(_with_tickets(f, ids[:limit] if limit else ids))
    return out


# The tickets a root cause involves, in disjoint parts: each part's rows are (id, the
# part's total) for its lowest ``limit`` ids. The window gives them in one part; the
# stored links in four (``_linked_statements``), the cohort's total in ``involved``
# rows (n, 0) beside them.
_INVOLVED = ("ticket", "before", "back_to", "reopened_only")


def _comeback_rows(
    session: Session, scope: Scope, t: Thresholds, limit: int, span: Span
) -> dict[str, dict[str, list[tuple[int, int]]]]:
    """Per topic and tag, the (a, b) rows of the stored links' statements, or of the
    window's one (``_comeback_statement``)."""
    out: dict[str, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    linked = scope.product is None and not span.unlinked
    if linked:
        lists, rest, involved = _linked_statements(session, scope, t, limit)
        rows = list(session.execute(rest))
        rows += _cohort_lists(session, scope, span, lists, involved, rows, limit)
    else:
        rows = list(session.execute(_comeback_statement(session, scope, t, limit)))
    for tag, topic, a, b in rows:
        if tag in ("customers", "pairs", "pair"):
            out[topic][tag].append((int(a), int(b)))
            if tag == "pairs":
                out[topic]["customers"].append((int(a), int(b) * 2))  # a recurrence names two
        else:
            out[topic][tag].append((int(a), 0 if b is None else int(b)))
    return out


def _comeback_statement(session: Session, scope: Scope, t: Thresholds, limit: int) -> Any:
    """One statement, so the window over the (customer, topic) histories runs once.

    Rows (tag, topic, a, b): ``reopen`` (reopen events, reopened tickets),
    ``reopened`` (id), ``customers`` (customer id, reopened tickets), ``pairs``
    (customer id, recurrences), ``pair`` (again, resolved), ``ticket`` (id, the
    topic's distinct tickets); the id lists cut at ``limit`` per topic.
    """
    since = scope.start - timedelta(days=t.recur_days)
    reopened = _reopened(scope, since).cte("reopened")
    pairs = _window(session, scope, t, since).cte("pairs")
    involved = union(
        select(reopened.c.topic, reopened.c.id),
        select(pairs.c.topic, pairs.c.again),
        select(pairs.c.topic, pairs.c.resolved),
    ).subquery("involved")
    return union_all(
        *_reopen_rows(reopened, limit),
        select(_tag("pairs"), pairs.c.topic, pairs.c.customer_id, func.count()).group_by(
            pairs.c.topic, pairs.c.customer_id
        ),
        _ranked("pair", pairs.c.topic, pairs.c.again, pairs.c.resolved, limit),
        _ranked("ticket", involved.c.topic, involved.c.id, _whole(involved), limit),
    )


def _linked_statements(
    session: Session, scope: Scope, t: Thresholds, limit: int
) -> tuple[Any, Any, tuple[Any, Any]]:
    """``_comeback_statement``'s rows from the stored links (``domain.comebacks``):
    each part a range of one index, no window over the histories.

    A ticket is involved when it is a recurrence (``again``), when a recurrence comes
    back to it, or when it was reopened. Come back to, it closed either in the period
    (then its first comer, ``comeback_next``, tells: the first opening after a
    closing comes back to it, and the later ones are further away) or before it
    (then only the recurrences say so). The parts are disjoint, so totals add up:
    ``ticket`` the cohort's, ``before`` those opened before the period,
    ``back_to`` those closed before it, ``reopened_only`` the reopened rest.
    """
    window = t.recur_days * 86400
    again = and_(T.comeback_gap > 0, T.comeback_gap <= window)
    end = literal(int(scope.end.timestamp()), BigInteger)
    come_back_to = and_(
        T.closed_at >= scope.start,
        T.comeback_next > 0,
        T.comeback_next <= window,
        _epoch(session, T.closed_at) + T.comeback_next < end,
    )
    cohort = [*scope.cohort(), T.topic != ""]
    reopened = _reopened(
        scope, scope.start - timedelta(days=t.recur_days), or_(again, come_back_to)
    )
    flag = case((again, 1), else_=0)
    involved = (
        select(T.topic, T.customer_id, T.id, T.comeback_id, flag.label("again"))
        .where(*cohort, or_(again, come_back_to))
        .subquery("involved")
    )
    c = involved.c
    per_customer = (
        select(c.topic, c.customer_id, func.sum(c.again).label("n"), func.count().label("all"))
        .group_by(c.topic, c.customer_id)
        .cte("per_customer")
    )
    p = per_customer.c
    return (
        _cohort_involved(involved, limit),
        union_all(
            *_reopen_rows(reopened.cte("reopened"), limit),
            select(_tag("pairs"), p.topic, p.customer_id, p.n).where(p.n > 0),
            select(_tag("involved"), p.topic, func.sum(p.all), literal(0)).group_by(p.topic),
            _part(
                "before",
                select(T.topic, T.id).where(
                    T.closed_at >= scope.start,
                    T.closed_at < scope.end,
                    T.opened_at < scope.start,
                    T.topic != "",
                    come_back_to,
                    *scope.filters(),
                ),
                limit,
            ),
            _part("back_to", _back_to(session, scope, again, window), limit),
        ),
        (flag, or_(again, come_back_to)),
    )


def _cohort_lists(
    session: Session,
    scope: Scope,
    span: Span,
    lists: Any,
    involved: Any,
    rows: list[Any],
    limit: int,
) -> list[Any]:
    """``_cohort_involved``'s rows (``lists``), or the same from one scan in id order
    (``_lowest_ids``) that stops once every topic has its lists: ``rows`` give the
    totals (``involved``: the topic's tickets, ``pairs``: its recurrences)."""
    wanted: dict[tuple[str, int], int] = defaultdict(int)
    for tag, topic, a, b in rows:
        if tag == "involved":
            wanted[(topic, 0)] += int(a)
        elif tag == "pairs":
            wanted[(topic, 1)] += int(b)
    scan = lowest_ids(session, scope, span, wanted, limit)
    if scan is None:
        return list(session.execute(lists))
    flag, condition = involved
    columns = (T.topic, T.id, T.comeback_id, flag)
    out: list[Any] = []
    for topic, ticket_id, link, again in scan.rows(columns, [T.topic != "", condition]):
        if scan.take((topic, 0)):
            out.append(("ticket", topic, ticket_id, 0))
        if again and scan.take((topic, 1)):
            out.append(("pair", topic, ticket_id, link))
    return out


def _cohort_involved(involved: Any, limit: int) -> Any:
    """The cohort's involved tickets (``ticket``: id, 0; their number is the sum of
    the ``involved`` rows) and its recurrences (``pair``: again, resolved), the
    lowest ``limit`` ids of each topic, one sort."""
    c = involved.c
    order = {"partition_by": c.topic, "order_by": c.id}
    ranked = select(
        c.topic,
        c.id,
        c.comeback_id,
        c.again,
        func.row_number().over(**order).label("rn"),
        func.sum(c.again).over(**order, rows=(None, 0)).label("rn_again"),
    ).subquery("ranked")
    r = ranked.c
    cut = or_(r.rn <= limit, and_(r.again == 1, r.rn_again <= limit)) if limit else literal(True)
    kept = select(ranked).where(cut).cte("kept")
    k = kept.c
    tickets = select(_tag("ticket"), k.topic, k.id, literal(0))
    pairs = select(_tag("pair"), k.topic, k.id, k.comeback_id).where(k.again == 1)
    if limit:
        tickets, pairs = tickets.where(k.rn <= limit), pairs.where(k.rn_again <= limit)
    return union_all(tickets, pairs)


def _back_to(session: Session, scope: Scope, again: Any, window: int) -> Any:
    """(topic, id) of the tickets closed before the period that a recurrence came back to.

    Only a ticket opened within ``window`` of the period's start can come back that
    far, so the range ends there: SQLite ranges an index by one upper bound only, and
    given the period's end as well it read the whole period (0.13 s at 1M, now 0.02 s).
    """
    start = int(scope.start.timestamp())
    return (
        select(T.topic, T.comeback_id.label("id"))
        .where(
            T.opened_at >= scope.start,
            T.opened_at < min(scope.end, scope.start + timedelta(seconds=window)),
            *scope.filters(),
            T.topic != "",
            again,
            _epoch(session, T.opened_at) - T.comeback_gap < literal(start, BigInteger),
        )
        .group_by(T.topic, T.comeback_id)
    )


def _part(tag: str, rows: Any, limit: int) -> Any:
    """(tag, topic, id, the topic's total) for the lowest ``limit`` ids of each topic."""
    sub = rows.subquery()
    total = func.count().over(partition_by=sub.c.topic, order_by=sub.c.id, rows=(None, None))
    return _ranked(tag, sub.c.topic, sub.c.id, total, limit)


def _whole(involved: Any) -> Any:
    """The distinct tickets of the row's topic, over the window ``_ranked`` numbers them in
    (one sort for both)."""
    return func.count().over(
        partition_by=involved.c.topic, order_by=involved.c.id, rows=(None, None)
    )


def _tag(name: str) -> Any:
    return literal(name, String).label("tag")


def _ranked(tag: str, topic: Any, first: Any, second: Any, limit: int) -> Any:
    """(tag, topic, first, second) for the ``limit`` lowest ``first`` of each topic."""
    rn = func.row_number().over(partition_by=topic, order_by=first)
    inner = select(topic.label("topic"), first.label("a"), second.label("b"), rn.label("rn"))
    sub = inner.subquery()
    stmt = select(_tag(tag), sub.c.topic, sub.c.a, sub.c.b)
    return stmt.where(sub.c.rn <= limit) if limit else stmt


def _reopen_rows(reopened: Any, limit: int) -> list[Any]:
    """``reopen``, ``reopened`` and ``customers`` rows; with the stored links also the
    reopened tickets involved in no other way (``reopened_only``: id, total)."""
    r = reopened.c
    out = [
        select(_tag("reopen"), r.topic, func.sum(r.n), func.count()).group_by(r.topic),
        _ranked("reopened", r.topic, r.id, cast(null(), BigInteger), limit),
        select(_tag("customers"), r.topic, r.customer_id, func.count()).group_by(
            r.topic, r.customer_id
        ),
    ]
    if "involved" in r:
        out.append(_part("reopened_only", select(r.topic, r.id).where(r.involved == 0), limit))
    return out


def _reopened(scope: Scope, since: datetime, involved: Any = None) -> Any:
    """Cohort tickets with a topic that were reopened, with their reopen events (and
    whether ``involved`` holds for them). The reopen events are a range of the counted
    events' index; the index's own term makes a plan use it also when made without
    the values (a PostgreSQL generic plan)."""
    e = table_of(TicketEvent).c
    counted = text(counted_events("ticket_event"))
    flags = [] if involved is None else [func.max(case((involved, 1), else_=0)).label("involved")]
    return (
        select(T.id, T.customer_id, T.topic, func.count().label("n"), *flags)
        .select_from(table_of(TicketEvent).join(table_of(Ticket), T.id == e.ticket_id))
        .where(counted, e.kind == ev.REOPENED, e.at >= since, *scope.cohort(), T.topic != "")
        .group_by(T.id, T.customer_id, T.topic)
    )


def _window(session: Session, scope: Scope, t: Thresholds, since: datetime) -> Any:
    """The recurrences computed afresh (a store not yet linked, or a product filter,
    which changes the closings that count): (customer, topic, again, resolved), each
    cohort ticket opened within ``recur_days`` after another ticket of its customer
    and topic closed solved, with that ticket.

    Openings and solved closings of each (customer, topic) go through one window in
    time order (openings first within a second: a closing must come before); each
    opening carries the latest closing before it, packed with its id as
    (seconds since ``since``) * 2**32 + (2**32 - 1 - id), so MAX picks the latest
    second and, within it, the lowest id.
    """
    base = int(since.timestamp())
    if scope.end.timestamp() - base >= 2**31:
        raise BadInput("the findings report covers at most 68 years")  # the packed key's room
    topic = T.topic != ""
    opens = select(
        T.customer_id,
        T.topic,
        _epoch(session, T.opened_at).label("t"),
        literal(0, BigInteger).label("k"),
        T.id,
    ).where(*scope.cohort(), topic)
    closes = select(
        T.customer_id, T.topic, _epoch(session, T.closed_at), literal(1, BigInteger), T.id
    ).where(
        T.outcome.in_(analysis.SOLVED_OUTCOMES),
        T.closed_at >= since,
        T.closed_at < scope.end,
        topic,
        *scope.filters(),
    )
    h = union_all(opens, closes).subquery("history")
    shift, low = literal(_SHIFT, BigInteger), literal(_SHIFT - 1, BigInteger)
    since_s = literal(base, BigInteger)
    packed = case((h.c.k == 1, (h.c.t - since_s) * shift + (low - h.c.id)))
    latest = func.max(packed).over(
        partition_by=(h.c.customer_id, h.c.topic), order_by=(h.c.t, h.c.k), rows=(None, 0)
    )
    w = select(h.c.customer_id, h.c.topic, h.c.t, h.c.k, h.c.id, latest.label("latest")).subquery(
        "latest"
    )
    window = t.recur_days * 86400
    return select(
        w.c.customer_id,
        w.c.topic,
        w.c.id.label("again"),
        (low - w.c.latest % shift).label("resolved"),
    ).where(
        w.c.k == 0,
        w.c.latest.is_not(None),
        w.c.t - since_s - w.c.latest // shift <= literal(window, BigInteger),
    )
