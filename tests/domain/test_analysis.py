"""Helpdesk call analysis (seed 004): report arithmetic and the findings rules."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskctl.domain import analysis as an
from deskctl.domain.analysis import Thresholds
from deskctl.domain.calendar import build_calendar
from deskctl.domain.policy import CalendarSpec
from deskctl.errors import BadInput
from tests import findings_reference as ref
from tests.findings_reference import TicketFacts

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)  # the report covers January to March
MONTHS = ["2026-01", "2026-02", "2026-03"]


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


_ids = iter(range(1, 1_000_000))


def t(
    *,
    customer: str = "bank",
    contact: str | None = "rana@bank",
    product: str | None = "ecc",
    version: str | None = "5.1",
    os: str | None = None,
    hardware: str | None = None,
    category: str | None = "defect",
    topic: str | None = None,
    opened: str = "2026-02-10",
    closed: datetime | None = None,
    outcome: str | None = None,
    reopens: int = 0,
    id: int | None = None,
) -> TicketFacts:
    return TicketFacts(
        id=id if id is not None else next(_ids),
        customer=customer,
        contact=contact,
        product=product,
        version=version,
        os=os,
        hardware=hardware,
        category=category,
        topic=topic,
        opened_at=at(opened),
        closed_at=closed,
        outcome=outcome,
        reopens=reopens,
    )


# -- figures ---------------------------------------------------------------------------


def test_percentiles_are_nearest_rank() -> None:
    values = [50, 10, 40, 20, 30]
    assert an.median(values) == 30
    assert an.percentile(values, 90) == 50  # ceil(4.5) = 5th
    assert an.percentile(values, 20) == 10
    assert an.median([1, 2, 3, 4]) == 2  # the lower middle: a time some ticket took
    assert an.percentile([7], 90) == 7
    assert an.median([]) is None
    with pytest.raises(ValueError):
        an.percentile(values, 0)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=60), st.integers(1, 100))
def test_percentile_rank_property(values: list[int], pct: int) -> None:
    result = an.percentile(values, pct)
    rank = math.ceil(pct * len(values) / 100)
    assert result in values
    assert sum(v <= result for v in values) >= rank
    assert sum(v < result for v in values) < rank


def test_rate_is_a_rounded_share_or_none() -> None:
    assert an.rate(1, 3) == 0.3333
    assert an.rate(0, 5) == 0.0
    assert an.rate(3, 0) is None


def test_period_keys_are_iso_weeks_and_months() -> None:
    assert an.period_key(date(2026, 2, 1), "week") == "2026-W05"  # a Sunday
    assert an.period_key(date(2026, 2, 2), "week") == "2026-W06"  # the Monday after
    assert an.period_key(date(2027, 1, 1), "week") == "2026-W53"  # ISO year differs
    assert an.period_key(date(2026, 12, 31), "month") == "2026-12"
    with pytest.raises(BadInput, match="--by"):
        an.period_key(date(2026, 1, 1), "day")


def test_periods_cover_the_range_with_their_first_day_in_it() -> None:
    assert an.periods(date(2026, 1, 15), date(2026, 3, 2), "month") == [
        ("2026-01", date(2026, 1, 15)),
        ("2026-02", date(2026, 2, 1)),
        ("2026-03", date(2026, 3, 1)),
    ]
    assert an.periods(date(2026, 2, 1), date(2026, 2, 10), "week") == [
        ("2026-W05", date(2026, 2, 1)),
        ("2026-W06", date(2026, 2, 2)),
        ("2026-W07", date(2026, 2, 9)),
    ]
    assert an.periods(date(2026, 12, 20), date(2027, 1, 5), "month")[-1] == (
        "2027-01",
        date(2027, 1, 1),
    )


@settings(max_examples=100, deadline=None)
@given(
    st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    st.integers(0, 400),
    st.sampled_from(an.PERIODS),
)
def test_every_day_falls_in_one_listed_period(first: date, span: int, by: str) -> None:
    last = first + timedelta(days=span)
    slots = an.periods(first, last, by)
    keys = [k for k, _ in slots]
    assert len(set(keys)) == len(keys)
    assert slots[0][1] == first
    assert all(first <= start <= last for _, start in slots)
    for offset in range(0, span + 1, 7):
        assert an.period_key(first + timedelta(days=offset), by) in keys
    assert an.period_key(last, by) == keys[-1]


def test_sla_trend_counts_late_as_compliant_and_null_as_unknown() -> None:
    counts = [
        (date(2026, 1, 5), "met", 3),
        (date(2026, 1, 20), "late", 1),
        (date(2026, 1, 21), "breached", 1),
        (date(2026, 1, 22), "running", 2),
        (date(2026, 1, 23), "at_risk", 1),
        (date(2026, 1, 24), None, 4),
        (date(2026, 1, 25), "weird", 1),
        (date(2026, 3, 3), "breached", 2),
        (date(2025, 12, 31), "met", 9),  # outside the range: ignored
    ]
    jan, feb, mar = an.sla_trend(counts, date(2026, 1, 1), date(2026, 3, 31), "month")
    assert (jan.met, jan.late, jan.breached, jan.open, jan.unknown) == (3, 1, 1, 3, 5)
    assert jan.decided == 5
    assert jan.compliance == 0.8  # met and late: within the contractual limit
    assert jan.met_rate == 0.6
    assert feb.decided == 0 and feb.compliance is None and feb.to_json()["tickets"] == 0
    assert mar.compliance == 0.0
    overall = an.overall_sla([jan, feb, mar])
    assert (overall.decided, overall.compliance) == (7, round(4 / 7, 4))


@pytest.mark.parametrize(
    ("age", "bucket"),
    [
        (timedelta(0), "< 1 day"),
        (timedelta(hours=23, minutes=59), "< 1 day"),
        (timedelta(days=1), "1-3 days"),
        (timedelta(days=2, hours=23), "1-3 days"),
        (timedelta(days=3), "3-7 days"),
        (timedelta(days=7), "7-30 days"),
        (timedelta(days=29, hours=23), "7-30 days"),
        (timedelta(days=30), "30+ days"),
        (timedelta(days=400), "30+ days"),
    ],
)
def test_backlog_buckets(age: timedelta, bucket: str) -> None:
    assert an.backlog_bucket(age) == bucket


def test_interval_table_counts_open_seconds_only() -> None:
    table = an.IntervalTable([(30, 40), (10, 20)])
    assert table.elapsed(0, 50) == 20
    assert table.elapsed(15, 35) == 10
    assert table.elapsed(20, 30) == 0  # closed in between
    assert table.elapsed(35, 15) == 0  # end before start
    assert table.elapsed(-5, 5) == 0
    touching = an.IntervalTable([(0, 10), (10, 20), (5, 8), (15, 25)])
    assert touching.elapsed(0, 30) == 25
    assert touching.elapsed(9, 11) == 2


AMMAN = CalendarSpec(
    name="amman",
    timezone="Asia/Amman",
    hours={day: ((8 * 3600, 16 * 3600),) for day in (6, 0, 1, 2, 3)},  # Sun-Thu
    holidays=("JO",),
)
MEDISOFT = CalendarSpec(
    name="medisoft",
    timezone="America/Sao_Paulo",
    hours={day: ((30600, 43200), (48600, 63000)) for day in range(5)},
    holidays=("BR",),
)
YEAR = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([AMMAN, MEDISOFT, CalendarSpec(name="always", always_open=True)]),
    st.lists(
        st.tuples(st.integers(0, 365 * 86400), st.integers(0, 365 * 86400)),
        min_size=1,
        max_size=30,
    ),
)
def test_interval_table_agrees_with_the_calendar(
    spec: CalendarSpec, pairs: list[tuple[int, int]]
) -> None:
    calendar = build_calendar(spec)
    pairs = [(YEAR + a, YEAR + b) for a, b in pairs]
    low = min(min(p) for p in pairs)
    high = max(max(p) for p in pairs) + 1

    def utc(t: int) -> datetime:
        return datetime.fromtimestamp(t, UTC)

    table = an.IntervalTable(
        (int(a.timestamp()), int(b.timestamp()))
        for a, b in calendar.open_intervals(utc(low), utc(high))
    )
    for a, b in pairs:
        assert table.elapsed(a, b) == calendar.elapsed(utc(a), utc(b))


def test_slope() -> None:
    assert an.slope([1, 2, 3]) == 1
    assert an.slope([3, 2, 1]) == -1
    assert an.slope([0, 3, 0, 1]) == 0
    assert an.slope([5]) == 0


# -- training needs ----------------------------------------------------------------------


def test_repeated_misuse_on_a_topic_from_one_customer_is_a_training_need() -> None:
    rows = [
        t(category="misuse", topic="export", contact="rana@bank", id=1),
        t(category="misuse", topic="export", contact="omar@bank", id=2),
        t(category="misuse", topic="export", customer="cbj", contact="lina@cbj", id=3),
        t(category="misuse", topic="login", contact="rana@bank", id=4),
        t(category="defect", topic="export", contact="rana@bank", id=5),
        t(category="misuse", topic=None, id=6),
        t(category="misuse", topic=None, id=7),
    ]
    (found,) = ref.training_needs(rows, Thresholds())
    assert found.kind == "training_need"
    assert found.subject == "customer bank, topic export"
    assert found.tickets == (1, 2)
    assert found.evidence["contacts"] == {"omar@bank": 1, "rana@bank": 1}
    assert found.evidence["misuse_tickets"] == 2


def test_one_contact_behind_every_misuse_ticket_is_named() -> None:
    rows = [t(category="misuse", topic="export", id=i) for i in (1, 2, 3)]
    (found,) = ref.training_needs(rows, Thresholds(misuse_repeats=3))
    assert found.subject == "contact rana@bank of bank, topic export"
    assert ref.training_needs(rows, Thresholds(misuse_repeats=4)) == []


# -- software to update ------------------------------------------------------------------


def test_a_version_whose_defects_rise_month_on_month_needs_an_update() -> None:
    rows = [
        t(version="5.2", opened="2026-01-10"),
        t(version="5.2", opened="2026-02-10"),
        t(version="5.2", opened="2026-02-11"),
        t(version="5.2", opened="2026-03-10"),
        t(version="5.2", opened="2026-03-11"),
        t(version="5.2", opened="2026-03-12"),
        t(version="5.2", opened="2026-03-13", category="misuse"),
    ]
    (found,) = ref.updates_needed(rows, MONTHS, Thresholds())
    assert found.subject == "ecc 5.2"
    assert found.evidence["reasons"] == ["rising"]  # a single version: no average to beat
    assert found.evidence["monthly_defects"] == {"2026-01": 1, "2026-02": 2, "2026-03": 3}
    assert found.evidence["slope_per_month"] == 1.0
    assert len(found.tickets) == 6


def test_falling_or_flat_defects_are_not_rising() -> None:
    falling = [t(opened=d) for d in ("2026-01-05", "2026-01-06", "2026-01-07", "2026-02-05")]
    flat = [t(opened=d) for d in ("2026-01-05", "2026-02-05", "2026-03-05")]
    assert ref.updates_needed(falling, MONTHS, Thresholds()) == []
    assert ref.updates_needed(flat, MONTHS, Thresholds()) == []
    one_month = [t(opened=d) for d in ("2026-03-05", "2026-03-06", "2026-03-07")]
    assert ref.updates_needed(one_month, ["2026-03"], Thresholds()) == []


def test_a_version_with_a_defect_share_well_above_the_product_is_named() -> None:
    old = [t(version="5.1", opened="2026-02-01") for _ in range(4)]  # 4 of 4 defects
    new = [t(version="5.2", opened="2026-02-01", category="misuse") for _ in range(6)]
    new += [t(version="5.2", opened="2026-02-01")]
    # product: 5 defects of 11 tickets (45%); 5.1: 100% -> 2.2 times the average
    found = ref.updates_needed(old + new, ["2026-02"], Thresholds())
    assert [f.subject for f in found] == ["ecc 5.1"]
    assert found[0].evidence["reasons"] == ["above_average"]
    assert found[0].evidence["defect_share"] == 1.0
    assert found[0].evidence["product_defect_share"] == round(5 / 11, 4)
    assert ref.updates_needed(old + new, ["2026-02"], Thresholds(share_ratio=2.3)) == []
    assert ref.updates_needed(old + new, ["2026-02"], Thresholds(min_defects=5)) == []


# -- equipment ---------------------------------------------------------------------------


def test_hardware_over_represented_in_defects_is_named() -> None:
    rows = [t(hardware="DL380 G7") for _ in range(3)]  # 3 tickets, all defects
    rows += [t(hardware="R740", category="misuse") for _ in range(5)]
    rows += [t(hardware="R740") for _ in range(2)]
    rows += [t(hardware=None) for _ in range(9)]  # not recorded: outside the shares
    (found,) = ref.equipment_to_replace(rows, Thresholds())
    assert found.subject == "hardware DL380 G7"
    ev = found.evidence
    assert (ev["defect_tickets"], ev["all_defect_tickets"]) == (3, 5)
    assert (ev["tickets"], ev["all_tickets"]) == (3, 10)
    assert (ev["defect_share"], ev["ticket_share"], ev["ratio"]) == (0.6, 0.3, 2.0)
    assert ref.equipment_to_replace(rows, Thresholds(min_defects=4)) == []
    assert ref.equipment_to_replace(rows, Thresholds(share_ratio=2.1)) == []


def test_equipment_in_proportion_to_its_use_is_not_named() -> None:
    rows = []
    for os_name in ("RHEL 7", "Windows 2019"):
        rows += [t(os=os_name) for _ in range(4)]
        rows += [t(os=os_name, category="misuse") for _ in range(4)]
    assert ref.equipment_to_replace(rows, Thresholds()) == []


def test_os_versions_are_judged_too() -> None:
    rows = [t(os="Windows 2012") for _ in range(3)] + [
        t(os="Windows 2019", category="misuse") for _ in range(6)
    ]
    (found,) = ref.equipment_to_replace(rows, Thresholds())
    assert found.subject == "OS Windows 2012"
    assert found.evidence["attribute"] == "os"


# -- root causes -------------------------------------------------------------------------


def test_reopenings_and_quick_recurrences_make_a_root_cause() -> None:
    solved = t(id=1, topic="scan", opened="2025-12-20", closed=at("2025-12-28"), outcome="resolved")
    again = t(id=2, topic="scan", opened="2026-01-20")  # 23 days after ticket 1 closed
    reopened = t(id=3, topic="scan", customer="cbj", opened="2026-02-02", reopens=1)
    (found,) = ref.root_causes([solved, again, reopened], START, END, Thresholds())
    assert found.subject == "topic scan"
    assert found.evidence["reopens"] == 1
    assert found.evidence["recurrences"] == [{"resolved": 1, "again": 2}]
    assert found.evidence["customers"] == {"bank": 2, "cbj": 1}
    assert found.tickets == (1, 2, 3)
    assert ref.root_causes([solved, again, reopened], START, END, Thresholds(min_comebacks=3)) == []


@pytest.mark.parametrize(
    ("after", "counts"),
    [
        (timedelta(days=30), True),  # the window's last instant is inside it
        (timedelta(days=30, seconds=1), False),
        (timedelta(seconds=1), True),
        (timedelta(0), False),  # not after the close
    ],
)
def test_recurrence_window(after: timedelta, counts: bool) -> None:
    closed = at("2026-02-01")
    solved = t(id=1, topic="scan", opened="2026-01-20", closed=closed, outcome="accepted")
    again = t(id=2, topic="scan")._replace(opened_at=closed + after)
    found = ref.root_causes([solved, again], START, END, Thresholds(min_comebacks=1))
    assert bool(found) is counts


def test_only_a_solved_ticket_of_the_same_customer_and_topic_is_come_back_to() -> None:
    base = {"topic": "scan", "opened": "2026-01-10", "closed": at("2026-01-12")}
    unresolved = t(id=1, outcome="unresolved", **base)
    other_customer = t(id=2, customer="cbj", outcome="resolved", **base)
    other_topic = t(id=3, outcome="resolved", **{**base, "topic": "login"})
    again = t(id=4, topic="scan", opened="2026-01-20")
    rows = [unresolved, other_customer, other_topic, again]
    assert ref.root_causes(rows, START, END, Thresholds(min_comebacks=1)) == []


def test_tickets_before_the_period_are_predecessors_not_comebacks() -> None:
    first = t(id=1, topic="scan", opened="2025-11-01", closed=at("2025-11-02"), outcome="resolved")
    early = t(id=2, topic="scan", opened="2025-11-10", reopens=2)  # before the period
    found = ref.root_causes([first, early], START, END, Thresholds(min_comebacks=1))
    assert found == []


def test_the_latest_solved_ticket_is_the_one_come_back_to() -> None:
    older = t(id=1, topic="scan", opened="2026-01-02", closed=at("2026-01-03"), outcome="resolved")
    newer = t(id=2, topic="scan", opened="2026-01-05", closed=at("2026-01-06"), outcome="resolved")
    again = t(id=3, topic="scan", opened="2026-01-08")
    (found,) = ref.root_causes([again, older, newer], START, END, Thresholds())
    # ticket 2 came back 2 days after 1; ticket 3 two days after 2
    assert found.evidence["recurrences"] == [
        {"resolved": 1, "again": 2},
        {"resolved": 2, "again": 3},
    ]


# -- all findings --------------------------------------------------------------------------


def test_findings_only_judge_tickets_of_the_period_and_come_in_kind_order() -> None:
    rows = [
        t(id=1, category="misuse", topic="export", opened="2026-01-05"),
        t(id=2, category="misuse", topic="export", opened="2026-03-31"),
        t(id=3, category="misuse", topic="export", opened="2026-04-01"),  # after
        t(id=4, hardware="old box", opened="2026-02-01"),
        t(id=5, hardware="old box", opened="2026-02-02"),
        t(id=6, hardware="old box", opened="2026-02-03"),
        t(id=7, hardware="new box", category="misuse", opened="2026-02-03"),
        t(id=8, hardware="new box", category="misuse", opened="2026-02-03"),
        t(id=9, hardware="new box", category="misuse", opened="2026-02-03"),
        t(id=10, topic="scan", opened="2026-02-04", reopens=2),
    ]
    found = ref.findings(rows, START, END)
    assert [(f.kind, f.subject) for f in found] == [
        ("training_need", "contact rana@bank of bank, topic export"),
        ("equipment_replace", "hardware old box"),
        ("root_cause", "topic scan"),
    ]
    assert found[0].tickets == (1, 2)
    doc = found[0].to_json()
    assert doc["tickets"] == [1, 2] and doc["kind"] == "training_need"


@pytest.mark.parametrize(
    ("thresholds", "option"),
    [
        (Thresholds(misuse_repeats=0), "--misuse-repeats"),
        (Thresholds(min_defects=0), "--min-defects"),
        (Thresholds(min_comebacks=0), "--min-comebacks"),
        (Thresholds(recur_days=0), "--recur-days"),
        (Thresholds(share_ratio=1.0), "--share-ratio"),
    ],
)
def test_thresholds_are_checked(thresholds: Thresholds, option: str) -> None:
    with pytest.raises(BadInput, match=option):
        ref.findings([], START, END, thresholds)


def _brute_resolved_before(r: TicketFacts, group: list[TicketFacts], window: timedelta):
    """The rule as first written: a scan of the whole group per ticket."""
    best = None
    for p in group:
        if p.id == r.id or p.outcome not in an.SOLVED_OUTCOMES or p.closed_at is None:
            continue
        if p.closed_at < r.opened_at <= p.closed_at + window and (
            best is None or p.closed_at > best.closed_at
        ):
            best = p
    return best


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=60),  # opened, days after START
            st.none() | st.integers(min_value=0, max_value=20),  # closed, days after opening
            st.sampled_from(["resolved", "accepted", "rejected", None]),
        ),
        max_size=12,
    ),
    st.integers(min_value=1, max_value=30),
)
def test_the_comeback_found_by_bisection_is_the_one_a_scan_finds(rows, days) -> None:
    group = [
        t(id=i + 1, topic="sync", outcome=outcome)._replace(
            opened_at=START + timedelta(days=o),
            closed_at=None if c is None else START + timedelta(days=o + c),
        )
        for i, (o, c, outcome) in enumerate(rows)
    ]
    window = timedelta(days=days)
    solved = ref._Solved(group)
    for r in group:
        assert solved.before(r, window) == _brute_resolved_before(r, group, window)
