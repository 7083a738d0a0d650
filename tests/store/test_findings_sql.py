"""The findings from SQL tallies (``services.findings``) equal the rules as first
written, in Python over every ticket (``tests/findings_reference.py``): on a demo
store and on generated cohorts, SQLite and PostgreSQL, with and without --limit."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, update
from sqlmodel import Session, col

from deskctl.domain import events as ev
from deskctl.domain.analysis import SOLVED_OUTCOMES, Thresholds
from deskctl.services import findings as svc
from deskctl.services import findings_scan
from deskctl.services.reports import Scope, _at, _epoch, _instant, make_scope
from deskctl.store import comebacks, db
from deskctl.store.models import Contact, Customer, Ticket, TicketEvent, table_of
from tests import findings_reference as ref
from tests.conftest import EXAMPLES, Cli

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
LOOSE = Thresholds(
    misuse_repeats=1, min_defects=1, share_ratio=1.1, recur_days=45, min_comebacks=1
)


def ticket_facts(session: Session, scope: Scope, recur_days: int) -> list[ref.TicketFacts]:
    """Cohort tickets, plus earlier ones closed solved recently enough to be come back to
    (the report's query before its rules moved into SQL)."""
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
        col(Ticket.closed_at) >= since,
        col(Ticket.opened_at) < scope.start,
        col(Ticket.outcome).in_(SOLVED_OUTCOMES),
        col(Ticket.topic).is_not(None),
        *scope.filters(),
    )
    rows = [*session.execute(base.where(*scope.cohort())), *session.execute(predecessors)]
    return [
        ref.TicketFacts(*r[:9], _at(r[9]), _instant(r[10]), r[11], int(r[12]))  # type: ignore[arg-type]
        for r in rows
    ]


def cut(finding: dict[str, Any], limit: int) -> dict[str, Any]:
    """A reference finding as the report lists it with ``--limit``."""
    if not limit:
        return finding
    evidence = dict(finding["evidence"])
    for key in ("reopened_tickets", "recurrences"):
        if key in evidence:
            evidence[key] = evidence[key][:limit]
    return {**finding, "evidence": evidence, "tickets": finding["tickets"][:limit]}


def assert_same(session: Session, scope: Scope, t: Thresholds, limit: int) -> list[Any]:
    expected = [
        cut(f.to_json(), limit)
        for f in ref.findings(ticket_facts(session, scope, t.recur_days), scope.start, scope.end, t)
    ]
    got = svc.findings(session, scope, t, now=NOW, limit=limit)["findings"]
    assert got == expected
    return got


# -- a demo store ------------------------------------------------------------------------


def test_the_sql_findings_are_the_python_findings_on_a_demo_store(
    cli: Cli, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKCTL_NOW", "2026-11-30T12:00:00Z")
    cli("demo", "--tickets", "700", "--seed", "4")
    year = (date(2025, 12, 1), date(2026, 11, 30))
    with db.session() as s:
        product = s.execute(select(Ticket.product).where(col(Ticket.product).is_not(None))).first()
        customer = s.execute(select(Customer.key)).scalars().first()
        scopes = [
            make_scope(s, *year),
            make_scope(s, *year, product=product[0] if product else None),
            make_scope(s, *year, customer=customer),
            make_scope(s, date(2026, 3, 1), date(2026, 5, 31)),
            make_scope(s, date(2026, 1, 17), date(2026, 3, 9)),  # months cut mid-month
        ]
        assert comebacks.missing(s) == 0 and comebacks.fill(s) == 0  # demo links them right
        kinds = set()
        for linked in (False, True):  # the window (links cleared), then the stored links
            if linked:
                assert comebacks.fill(s) > 0
            else:
                s.execute(update(Ticket).values(comeback_gap=None))
            # the lowest ids per group by the ranked window, then by the scan in id order
            for share in (0.0, math.inf):
                monkeypatch.setattr(findings_scan, "SCAN_SHARE", share)
                for scope in scopes:
                    for t in (Thresholds(), LOOSE):
                        for limit in (0, 2):
                            kinds |= {f["kind"] for f in assert_same(s, scope, t, limit)}
    assert kinds == {"training_need", "update_needed", "equipment_replace", "root_cause"}


# -- generated cohorts -------------------------------------------------------------------

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
STEP = timedelta(hours=12)  # coarse: closings tie, and fall on the --recur-days boundary

tickets = st.lists(
    st.fixed_dictionaries(
        {
            "customer": st.integers(0, 1),
            "contact": st.none() | st.integers(0, 1),
            "opened": st.integers(-2 * 60, 2 * 95),  # steps after START
            "closed": st.none() | st.integers(0, 2 * 40),  # steps after opening
            "outcome": st.sampled_from(["resolved", "accepted", "rejected", None]),
            "category": st.sampled_from(["misuse", "defect", "defect", "question", None]),
            "topic": st.sampled_from(["export", "export", "scan", "", None]),
            "product": st.sampled_from(["ecc", "pay", "", None]),
            "version": st.sampled_from(["5.1", "5.2", None]),
            "hardware": st.sampled_from(["old box", "new box", "", None]),
            "os": st.sampled_from(["win", "linux", None]),
            "reopens": st.integers(0, 2),
        }
    ),
    min_size=8,
    max_size=40,
)
thresholds = st.builds(
    Thresholds,
    misuse_repeats=st.integers(1, 3),
    min_defects=st.integers(1, 3),
    share_ratio=st.sampled_from([1.1, 1.5]),
    recur_days=st.integers(1, 40),
    min_comebacks=st.integers(1, 3),
)


def _desk(cli: Cli) -> None:
    cli("init", "--policy", str(EXAMPLES / "progresssoft.toml"))
    for key in ("bank", "cbj"):
        cli("customer", "add", key, "--name", key.upper(), "--country", "JO")
        for who in ("rana", "omar"):
            cli("contact", "add", key, f"{who}@{key}.example", "--name", who)


def _insert(s: Session, rows: list[dict[str, Any]]) -> None:
    customers = s.execute(select(Customer.id).order_by(Customer.id)).scalars().all()
    contacts: dict[int, list[int]] = {}
    for contact_id, customer_id in s.execute(
        select(Contact.id, Contact.customer_id).order_by(Contact.id)
    ):
        contacts.setdefault(customer_id, []).append(contact_id)
    for r in rows:
        customer = customers[r["customer"]]
        opened = START + r["opened"] * STEP
        closed = None if r["closed"] is None else opened + r["closed"] * STEP
        values = {
            "customer_id": customer,
            "contact_id": None if r["contact"] is None else contacts[customer][r["contact"]],
            "title": "t",
            "channel": "portal",
            "status": "closed" if closed else "open",
            "rev": 1,
            "opened_at": opened,
            "updated_at": opened,
            "closed_at": closed,
            **{k: r[k] for k in ("outcome", "category", "topic", "product", "version")},
            **{k: r[k] for k in ("hardware", "os")},
        }
        ticket_id = s.execute(insert(table_of(Ticket)).values(values)).inserted_primary_key[0]
        for seq in range(r["reopens"]):
            s.execute(
                insert(table_of(TicketEvent)).values(
                    ticket_id=ticket_id,
                    seq=seq + 1,
                    at=opened + (seq + 1) * STEP,
                    kind=ev.REOPENED,
                    actor="tester",
                )
            )


def test_the_sql_findings_are_the_python_findings_on_any_cohort(cli: Cli, store: str) -> None:
    _desk(cli)
    engine = db.ready_engine()
    scan_share = findings_scan.SCAN_SHARE

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        tickets,
        thresholds,
        st.sampled_from([0, 1, 3]),
        st.booleans(),
        st.booleans(),
        st.sampled_from([0.0, math.inf]),
    )
    def check(
        rows: list[dict[str, Any]],
        t: Thresholds,
        limit: int,
        filtered: bool,
        linked: bool,
        share: float,
    ) -> None:
        findings_scan.SCAN_SHARE = share  # the ranked window (0) or the scan in id order (inf)
        with engine.connect() as conn, conn.begin() as tx:
            s = Session(conn)
            _insert(s, rows)
            if linked:
                comebacks.fill(s)
            scope = Scope(START.date(), (END - timedelta(days=1)).date())
            if filtered:
                first = s.execute(select(Customer.id).order_by(Customer.id)).scalars().first()
                scope = Scope(scope.first, scope.last, "bank", first, "ecc")
            assert_same(s, scope, t, limit)
            tx.rollback()

    try:
        check()
    finally:
        findings_scan.SCAN_SHARE = scan_share


def test_a_negative_limit_is_refused(cli: Cli) -> None:
    _desk(cli)
    result = cli("report", "findings", "--from", "2026-01-01", "--to", "2026-03-31",
                 "--limit", "-1", code=2)  # fmt: skip
    assert "--limit" in result.stderr


@pytest.mark.parametrize(("steps", "counts"), [(2, True), (3, False)])
def test_a_ticket_opened_exactly_recur_days_after_a_solved_one_comes_back(
    cli: Cli, store: str, steps: int, counts: bool
) -> None:
    """Solved at step 2, asked again ``steps`` later: one day (2 steps) is inside."""
    _desk(cli)
    ticket = {k: None for k in ("contact", "closed", "outcome", "product", "version")}
    ticket |= {"customer": 0, "category": "question", "topic": "scan", "reopens": 0}
    ticket |= {"hardware": None, "os": None}
    rows = [
        {**ticket, "opened": 0, "closed": 2, "outcome": "resolved"},
        {**ticket, "opened": 2 + steps},
    ]
    with db.ready_engine().connect() as conn, conn.begin():
        s = Session(conn)
        _insert(s, rows)
        scope = Scope(START.date(), (END - timedelta(days=1)).date())
        found = assert_same(s, scope, Thresholds(recur_days=1, min_comebacks=1), 0)
        comebacks.fill(s)
        assert assert_same(s, scope, Thresholds(recur_days=1, min_comebacks=1), 0) == found
    assert bool(found) is counts


def test_the_period_is_cut_at_each_month_start() -> None:
    """The per-month GROUP BYs (SQLite) cover the period exactly, each range one month."""
    at = lambda *d: datetime(*d, tzinfo=UTC)  # noqa: E731
    assert svc._months(Scope(date(2026, 1, 17), date(2026, 3, 9))) == [
        (at(2026, 1, 17), at(2026, 2, 1)),
        (at(2026, 2, 1), at(2026, 3, 1)),
        (at(2026, 3, 1), at(2026, 3, 10)),
    ]
    assert svc._months(Scope(date(2025, 12, 31), date(2025, 12, 31))) == [
        (at(2025, 12, 31), at(2026, 1, 1)),
    ]
    year = svc._months(Scope(date(2025, 12, 1), date(2026, 11, 30)))
    assert len(year) == 12 and year[0][0] == at(2025, 12, 1) and year[-1][1] == at(2026, 12, 1)
    assert all(a[1] == b[0] for a, b in pairwise(year))
