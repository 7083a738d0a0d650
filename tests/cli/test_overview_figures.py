"""`report overview`'s SQL scans (store.reads.report, the 0012 indexes) give the
figures a plain computation over every ticket gives: volumes and closed tickets
counted from the ORM rows, business times from each ticket's calendar
(``BusinessCalendar.elapsed``, not the interval tables), event rates from the
event rows (not the tallies stored per ticket, 0015). On a demo store (tickets
without an SLA, info-incomplete clocks, reopens and rejected solutions occur), on
SQLite and PostgreSQL, with and without the customer filter (which changes the SQL:
no index hints).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from typing import Any

import pytest

from deskctl.domain import analysis

NOW = "2026-06-30T12:00:00Z"


@pytest.fixture
def demo(cli, store: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    if store == "sqlite":
        monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "demo.db"))
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    monkeypatch.setenv("DESKCTL_DATA_DIR", str(tmp_path / "data"))
    cli.json("demo", "--tickets", "300", "--seed", "11", "--json")
    return store


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=value.tzinfo or UTC)


def _reference(session: Any, scope: Any) -> dict[str, Any]:
    """Every figure of the scanned parts, from ORM rows and the calendars alone."""
    from sqlmodel import select

    from deskctl.domain import events as ev
    from deskctl.domain.calendar import calendar_from_policy
    from deskctl.services import policies
    from deskctl.store.models import Customer, Ticket, TicketEvent

    keys = {c.id: c.key for c in session.exec(select(Customer))}
    tickets = [
        t
        for t in session.exec(select(Ticket))
        if scope.start <= _aware(t.opened_at) < scope.end
        and (scope.customer_id is None or t.customer_id == scope.customer_id)
    ]
    dims: dict[str, Counter[Any]] = defaultdict(Counter)
    samples: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for t in tickets:
        for dim, value in (
            ("channel", t.channel), ("category", t.category), ("severity", t.severity),
            ("product", (t.product, t.version)), ("topic", t.topic),
            ("agent", t.assignee), ("customer", keys[t.customer_id]),
        ):  # fmt: skip
            dims[dim][value] += 1
        if t.policy_version_id is None:
            continue
        _, policy = policies.by_version_id(session, t.policy_version_id)
        calendar = calendar_from_policy(policy, t.calendar or next(iter(policy.calendars)))
        start = _aware(t.opened_at)
        if policy.clock.start == "info_complete" and t.info_complete_at is not None:
            start = _aware(t.info_complete_at)
        solved = t.resolved_at or (t.closed_at if t.outcome == "resolved" else None)
        for metric, end in (("response", t.responded_at), ("resolution", solved)):
            if end is not None:
                seconds = calendar.elapsed(start, _aware(end))
                samples[(metric, None)].append(seconds)
                samples[(metric, t.severity)].append(seconds)
    ids = {t.id for t in tickets}
    events = [
        e
        for e in session.exec(select(TicketEvent))
        if e.ticket_id in ids and _aware(e.at) >= scope.start
    ]
    closed_now = {t.id for t in tickets if t.closed_at is not None}
    reopened = {e.ticket_id for e in events if e.kind == ev.REOPENED}
    kinds = Counter(e.kind for e in events)
    return {
        "dims": {d: dict(c) for d, c in dims.items()},
        "closed": len(closed_now),
        "times": {
            key: (len(v), analysis.median(v), analysis.percentile(v, 90))
            for key, v in samples.items()
        },
        "reopened": len(reopened),
        "reopen_events": kinds[ev.REOPENED],
        "reopened_open": len(reopened - closed_now),
        "proposed": kinds[ev.RESOLVED],
        "rejected": kinds[ev.SOLUTION_REJECTED],
    }


def _dims(volumes: dict[str, list[dict[str, Any]]]) -> dict[str, dict[Any, int]]:
    out: dict[str, dict[Any, int]] = {}
    for dim, rows in volumes.items():
        if dim == "product":
            out[dim] = {(r["product"], r["version"]): r["tickets"] for r in rows}
        else:
            out[dim] = {r[dim]: r["tickets"] for r in rows}
    return out


@pytest.mark.parametrize(
    ("first", "last", "by_customer"),
    [("2025-07-01", "2026-06-30", False), ("2026-03-01", "2026-04-30", False),
     ("2025-07-01", "2026-06-30", True),
     ("2026-06-01", "2026-06-05", False)],  # a short range: no index hints (WIDE_SHARE)
)  # fmt: skip
def test_overview_scans_equal_a_computation_over_every_ticket(
    demo: str, first: str, last: str, by_customer: bool
) -> None:
    _check(first, last, by_customer)


@pytest.mark.parametrize("filled", ["all", "half", "none"])
def test_stored_business_seconds_give_the_same_figures(cli, demo: str, filled: str) -> None:
    """With every ticket's seconds stored the percentiles are OFFSETs into the 0014
    indexes; with half or none stored, the rest are measured and both taken together:
    the same figures as the computation every way."""
    from sqlalchemy import update

    from deskctl.store import db, waits
    from deskctl.store.models import Ticket

    cli("sla", "refresh", "--all")
    if filled != "all":  # "none": as an upgrade from 0013 leaves the store
        every = 1 if filled == "none" else 2
        with db.session(db.ready_engine(), write=True) as s:
            s.execute(update(Ticket).where(Ticket.id % every == 0).values(
                response_business_seconds=None, resolution_business_seconds=None))  # fmt: skip
    with db.session(db.ready_engine()) as s:  # tickets the overview has to measure
        missing = waits.missing(s)
        assert (missing > 50) == (filled != "all") and (missing == 0) == (filled == "all")
    for first, last, by_customer in [("2025-07-01", "2026-06-30", False),
                                     ("2026-03-01", "2026-04-30", False),
                                     ("2025-07-01", "2026-06-30", True)]:  # fmt: skip
        _check(first, last, by_customer)


@pytest.mark.parametrize("counted", ["all", "half", "none"])
def test_stored_tallies_give_the_same_figures(cli, demo: str, counted: str) -> None:
    """With every ticket's event tallies stored (0015) the quality rates come out of the
    volume scan; with half or none stored, the events of the others are counted and
    both added up: the same figures as the computation every way."""
    from sqlalchemy import update

    from deskctl.store import db, tallies
    from deskctl.store.models import Ticket

    cli("sla", "refresh", "--all")
    if counted != "all":  # "none": as an upgrade from 0014 leaves the store
        every = 1 if counted == "none" else 2
        with db.session(db.ready_engine(), write=True) as s:
            s.execute(update(Ticket).where(Ticket.id % every == 1 % every).values(
                solutions_proposed=None, solutions_rejected=None, reopens=None))  # fmt: skip
    with db.session(db.ready_engine()) as s:
        missing = tallies.missing(s)
        assert (missing > 50) == (counted != "all") and (missing == 0) == (counted == "all")
    for first, last, by_customer in [("2025-07-01", "2026-06-30", False),
                                     ("2026-03-01", "2026-04-30", False),
                                     ("2025-07-01", "2026-06-30", True)]:  # fmt: skip
        _check(first, last, by_customer)


def _check(first: str, last: str, by_customer: bool) -> None:
    from sqlmodel import select

    from deskctl.services import reports
    from deskctl.store import db
    from deskctl.store.models import Customer

    with db.session() as session:
        customer = session.exec(select(Customer)).first() if by_customer else None
        scope = reports.make_scope(
            session,
            date.fromisoformat(first),
            date.fromisoformat(last),
            customer=customer.key if customer else None,
        )
        want = _reference(session, scope)
        volumes = reports.volumes(session, scope)
        times = reports.business_times(session, scope)
        quality = reports.quality_rates(session, scope)
    assert sum(want["dims"]["channel"].values()) > 0
    assert _dims(volumes) == want["dims"]
    got_times = {
        (r["metric"], r["severity"]): (r["tickets"], r["median_seconds"], r["p90_seconds"])
        for r in times
    }
    assert got_times == want["times"]
    assert want["times"][("response", None)][0] > 0
    assert quality["closed"] == want["closed"]
    assert quality["reopened"] == want["reopened"]
    assert quality["reopen_events"] == want["reopen_events"]
    assert quality["closed_once"] == want["closed"] + want["reopened_open"]
    assert quality["solutions_proposed"] == want["proposed"] > 0
    assert quality["solutions_rejected"] == want["rejected"]
