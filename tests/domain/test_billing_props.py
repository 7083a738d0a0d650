"""Properties of the billing arithmetic, over bounded rate cards and work logs."""

from __future__ import annotations

import math
import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from deskctl.domain.billing import (
    CENT,
    WORK_KINDS,
    WorkEntry,
    invoice_totals,
    next_invoice_number,
    price_hourly,
    price_incident,
    price_intervention,
    price_ticket,
)
from deskctl.domain.policy import BILLING_MODES, CATEGORIES, InterventionRate, RateCard

D = Decimal
SEED_CURRENT = InterventionRate(D("45.00"), 20)
SEED_PREVIOUS = InterventionRate(D("160.00"), 30)
SEED_OVERTIME = D("35.00")

FAST = settings(max_examples=150, deadline=None)

minutes = st.integers(min_value=0, max_value=2_000)
money = st.decimals(min_value=0, max_value=1_000, places=2)
rates = st.builds(InterventionRate, money, st.integers(min_value=0, max_value=120))
blocks = st.integers(min_value=1, max_value=60)
vat_rates = st.decimals(min_value=0, max_value=D("0.99"), places=3)


def is_cents(value: Decimal) -> bool:
    return value == value.quantize(CENT)


@FAST
@given(minutes, rates, money, blocks)
def test_intervention_is_base_plus_whole_started_blocks(
    m: int, rate: InterventionRate, overtime: Decimal, block: int
) -> None:
    line = price_intervention(1, m, rate, overtime, block)
    assert line.amount >= 0
    assert is_cents(line.amount)
    assert line.base == rate.price
    assert line.amount == rate.price + line.extra_half_hours * overtime
    if m <= rate.included_minutes:
        assert line.extra_half_hours == 0
        assert line.amount == rate.price
    else:
        assert line.extra_half_hours == math.ceil((m - rate.included_minutes) / block)
        # the last started block is not empty, and the blocks before it are full
        assert (line.extra_half_hours - 1) * block < m - rate.included_minutes
        assert m - rate.included_minutes <= line.extra_half_hours * block


@FAST
@given(minutes, minutes, rates, money, blocks)
def test_intervention_never_gets_cheaper_with_more_time(
    a: int, b: int, rate: InterventionRate, overtime: Decimal, block: int
) -> None:
    low, high = sorted((a, b))
    assert (
        price_intervention(1, low, rate, overtime, block).amount
        <= price_intervention(1, high, rate, overtime, block).amount
    )


@FAST
@given(minutes, st.booleans())
def test_seed_rates(m: int, current: bool) -> None:
    rate = SEED_CURRENT if current else SEED_PREVIOUS
    line = price_intervention(1, m, rate, SEED_OVERTIME, version_current=current)
    extra = line.amount - rate.price
    assert extra >= 0
    assert extra % SEED_OVERTIME == 0
    started = max(0, math.ceil((m - rate.included_minutes) / 30))
    assert line.amount == rate.price + SEED_OVERTIME * started


def test_seed_boundaries() -> None:
    def amount(m: int, rate: InterventionRate) -> Decimal:
        return price_intervention(1, m, rate, SEED_OVERTIME).amount

    # one minute past each boundary starts a new half hour; the boundary itself does not
    for boundary in (20, 50, 80):
        assert amount(boundary + 1, SEED_CURRENT) - amount(boundary, SEED_CURRENT) == SEED_OVERTIME
    for boundary in (30, 60):
        assert (
            amount(boundary + 1, SEED_PREVIOUS) - amount(boundary, SEED_PREVIOUS) == SEED_OVERTIME
        )
    assert amount(21, SEED_CURRENT) == amount(50, SEED_CURRENT)


@FAST
@given(minutes, money, st.sampled_from(["diagnosis", "service"]), st.none() | blocks)
def test_hourly_is_non_negative_cents_and_close_to_pro_rata(
    m: int, hourly: Decimal, name: str, block: int | None
) -> None:
    line = price_hourly(1, m, hourly, name, block_minutes=block)
    assert line.amount >= 0
    assert is_cents(line.amount)
    exact = hourly * m / 60
    if block is None:
        assert abs(line.amount - exact) <= D("0.005")
    else:
        assert line.amount >= exact - D("0.005")  # blocks never bill less than the time spent
        assert line.amount <= hourly * (m + block) / 60 + D("0.005")


@FAST
@given(minutes, minutes, money, st.none() | blocks)
def test_hourly_never_gets_cheaper_with_more_time(
    a: int, b: int, hourly: Decimal, block: int | None
) -> None:
    low, high = sorted((a, b))
    assert (
        price_hourly(1, low, hourly, "diagnosis", block_minutes=block).amount
        <= price_hourly(1, high, hourly, "diagnosis", block_minutes=block).amount
    )


entries = st.lists(
    st.builds(WorkEntry, st.integers(min_value=0, max_value=240), st.sampled_from(WORK_KINDS)),
    max_size=6,
)
seed_card = RateCard(
    current=SEED_CURRENT,
    previous=SEED_PREVIOUS,
    overtime_price=SEED_OVERTIME,
    hourly={"diagnosis": D("60"), "service": D("80"), "data_recovery": D("90")},
    incident_price=D("120"),
)


@FAST
@given(
    entries,
    st.sampled_from(BILLING_MODES),
    st.sampled_from(CATEGORIES),
    st.booleans(),
    st.booleans(),
)
def test_ticket_lines_are_non_negative_and_never_exceed_the_time_logged(
    worklog: list[WorkEntry], mode: str, category: str, current: bool, split_parent: bool
) -> None:
    lines = price_ticket(
        5,
        worklog,
        mode=mode,
        rates=seed_card,
        version_current=current,
        category=category,
        split_parent=split_parent,
    )
    assert all(line.ticket == 5 and line.amount >= 0 and is_cents(line.amount) for line in lines)
    assert all(line.minutes > 0 for line in lines)  # nothing is billed for no time
    assert sum(line.minutes for line in lines) <= sum(entry.minutes for entry in worklog)
    assert len({line.kind for line in lines}) == len(lines)
    interventions = [line for line in lines if not line.kind.startswith("hourly:")]
    if mode == "included" or category != "defect" or split_parent:
        assert interventions == []


@FAST
@given(entries, st.sampled_from(BILLING_MODES), st.sampled_from(CATEGORIES), st.randoms())
def test_ticket_price_does_not_depend_on_entry_order(
    worklog: list[WorkEntry], mode: str, category: str, rnd: random.Random
) -> None:
    shuffled = list(worklog)
    rnd.shuffle(shuffled)
    kwargs = {"mode": mode, "rates": seed_card, "version_current": True, "category": category}
    assert price_ticket(1, worklog, **kwargs) == price_ticket(1, shuffled, **kwargs)  # type: ignore[arg-type]


@FAST
@given(st.lists(money, max_size=8), vat_rates)
def test_totals_add_up_in_cents(prices: list[Decimal], vat_rate: Decimal) -> None:
    lines = [price_incident(n, 10, price) for n, price in enumerate(prices)]
    totals = invoice_totals(lines, vat_rate)
    assert totals.subtotal == sum((line.amount for line in lines), D("0"))
    assert totals.total == totals.subtotal + totals.vat
    assert all(is_cents(v) for v in (totals.subtotal, totals.vat, totals.total))
    assert abs(totals.vat - totals.subtotal * vat_rate) <= D("0.005")
    assert 0 <= totals.vat <= totals.subtotal


@FAST
@given(st.integers(min_value=1, max_value=300), st.integers(min_value=2000, max_value=2099))
def test_invoice_numbers_are_unbroken_within_a_year(count: int, year: int) -> None:
    issued: list[str] = []
    last = None
    for _ in range(count):
        last = next_invoice_number(last, year)
        issued.append(last)
    assert issued == [f"INV-{year}-{n:04d}" for n in range(1, count + 1)]
    assert next_invoice_number(last, year + 1) == f"INV-{year + 1}-0001"
