"""Billing rules of docs/rules.md §7 with seed 002's price list."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from deskctl.domain.billing import (
    InvoiceTotals,
    PriceLine,
    WorkEntry,
    cents,
    invoice_totals,
    next_invoice_number,
    parse_vat_rate,
    price_hourly,
    price_incident,
    price_intervention,
    price_ticket,
)
from deskctl.domain.policy import InterventionRate, RateCard
from deskctl.errors import BadInput

D = Decimal
CURRENT = InterventionRate(D("45.00"), 20)
PREVIOUS = InterventionRate(D("160.00"), 30)
OVERTIME = D("35.00")
# Seed 002's card; the hourly and incident prices are this test's own assumption.
RATES = RateCard(
    current=CURRENT,
    previous=PREVIOUS,
    overtime_price=OVERTIME,
    hourly={"diagnosis": D("60.00"), "service": D("80.00"), "data_recovery": D("90.00")},
    incident_price=D("120.00"),
)


def log(*pairs: tuple[int, str]) -> list[WorkEntry]:
    return [WorkEntry(minutes, kind) for minutes, kind in pairs]


def amounts(lines: list[PriceLine]) -> list[tuple[str, Decimal]]:
    return [(line.kind, line.amount) for line in lines]


# --- docs/rules.md §7 examples -------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected", "extra"),
    [(20, "45.00", 0), (21, "80.00", 1), (50, "80.00", 1), (51, "115.00", 2), (1, "45.00", 0)],
)
def test_current_version_examples(minutes: int, expected: str, extra: int) -> None:
    line = price_intervention(7, minutes, CURRENT, OVERTIME)
    assert line.amount == D(expected)
    assert line.base == D("45.00")
    assert line.extra_half_hours == extra
    assert line.kind == "intervention_current"
    assert (line.ticket, line.minutes) == (7, minutes)


@pytest.mark.parametrize(("minutes", "expected"), [(30, "160.00"), (31, "195.00"), (61, "230.00")])
def test_previous_version_examples(minutes: int, expected: str) -> None:
    line = price_intervention(7, minutes, PREVIOUS, OVERTIME, version_current=False)
    assert line.amount == D(expected)
    assert line.kind == "intervention_previous"


def test_billable_time_is_the_sum_of_contacts_and_corrections() -> None:
    # three contacts of 10 + 15 + 6 minutes, then 10 minutes taken back: 21 min
    worklog = log((10, "connection"), (15, "onsite"), (6, "diagnosis"), (-10, "connection"))
    lines = price_ticket(
        1, worklog, mode="per_intervention", rates=RATES, version_current=True, category="defect"
    )
    assert amounts(lines) == [("intervention_current", D("80.00"))]
    assert lines[0].minutes == 21


def test_overtime_block_length_comes_from_the_rate_card() -> None:
    rates = RateCard(current=CURRENT, overtime_price=D("10.00"), overtime_block_minutes=15)
    worklog = log((36, "connection"))  # 16 min over: two started quarter hours
    [line] = price_ticket(
        1, worklog, mode="per_intervention", rates=rates, version_current=True, category="defect"
    )
    assert (line.extra_half_hours, line.amount) == (2, D("65.00"))


def test_negative_work_log_is_refused_not_clamped() -> None:
    with pytest.raises(BadInput, match="ticket 4: work time sums to -5 min"):
        price_ticket(
            4,
            log((10, "connection"), (-15, "connection")),
            mode="included",
            rates=RATES,
            version_current=True,
            category="defect",
        )


def test_ticket_with_no_time_is_not_billed() -> None:
    for worklog in ([], log((15, "connection"), (-15, "connection"))):
        for mode in ("per_intervention", "pay_per_incident"):
            lines = price_ticket(
                1, worklog, mode=mode, rates=RATES, version_current=True, category="defect"
            )
            assert lines == []


# --- modes x categories -----------------------------------------------------

WORK = log((30, "connection"), (15, "diagnosis"), (12, "recovery"))
RECOVERY_LINE = ("hourly:data_recovery", D("18.00"))  # 12 min at 90/h


@pytest.mark.parametrize(
    ("mode", "category", "expected"),
    [
        ("included", "defect", [RECOVERY_LINE]),
        ("included", "always_supported", [RECOVERY_LINE]),
        ("included", "misuse", [RECOVERY_LINE]),
        ("included", "out_of_scope", [("hourly:diagnosis", D("15.00")), RECOVERY_LINE]),
        ("included", "billable_service", [("hourly:service", D("60.00")), RECOVERY_LINE]),
        # 45 min of intervention: 20 included + one started half hour
        ("per_intervention", "defect", [("intervention_current", D("80.00")), RECOVERY_LINE]),
        ("per_intervention", "always_supported", [RECOVERY_LINE]),
        ("per_intervention", "misuse", [RECOVERY_LINE]),
        ("per_intervention", "out_of_scope", [("hourly:diagnosis", D("15.00")), RECOVERY_LINE]),
        ("per_intervention", "billable_service", [("hourly:service", D("60.00")), RECOVERY_LINE]),
        ("pay_per_incident", "defect", [("incident", D("120.00")), RECOVERY_LINE]),
        ("pay_per_incident", "always_supported", [RECOVERY_LINE]),
        ("pay_per_incident", "misuse", [RECOVERY_LINE]),
        ("pay_per_incident", "out_of_scope", [("hourly:diagnosis", D("15.00")), RECOVERY_LINE]),
        ("pay_per_incident", "billable_service", [("hourly:service", D("60.00")), RECOVERY_LINE]),
    ],
)
def test_what_each_mode_bills_per_category(
    mode: str, category: str, expected: list[tuple[str, Decimal]]
) -> None:
    lines = price_ticket(9, WORK, mode=mode, rates=RATES, version_current=True, category=category)
    assert amounts(lines) == expected
    assert all(line.ticket == 9 for line in lines)


def test_previous_version_uses_the_previous_rate() -> None:
    lines = price_ticket(
        1,
        log((31, "connection")),
        mode="per_intervention",
        rates=RATES,
        version_current=False,
        category="defect",
    )
    assert amounts(lines) == [("intervention_previous", D("195.00"))]


def test_pay_per_incident_is_flat_whatever_the_time() -> None:
    for minutes in (1, 20, 500):
        [line] = price_ticket(
            1,
            log((minutes, "connection")),
            mode="pay_per_incident",
            rates=RATES,
            version_current=False,
            category="defect",
        )
        assert (line.amount, line.minutes) == (D("120.00"), minutes)


def test_split_parent_has_no_intervention_but_keeps_hourly_items() -> None:
    lines = price_ticket(
        1,
        WORK,
        mode="per_intervention",
        rates=RATES,
        version_current=True,
        category="defect",
        split_parent=True,
    )
    assert amounts(lines) == [RECOVERY_LINE]


def test_out_of_scope_bills_only_diagnosis_entries() -> None:
    lines = price_ticket(
        1,
        log((40, "connection"), (30, "diagnosis")),
        mode="included",
        rates=RATES,
        version_current=True,
        category="out_of_scope",
    )
    assert amounts(lines) == [("hourly:diagnosis", D("30.00"))]
    assert lines[0].minutes == 30


def test_recovery_alias_key_is_accepted() -> None:
    rates = RateCard(hourly={"recovery": D("30.00")})
    lines = price_ticket(
        1,
        log((20, "recovery")),
        mode="included",
        rates=rates,
        version_current=True,
        category="defect",
    )
    assert amounts(lines) == [("hourly:data_recovery", D("10.00"))]


@pytest.mark.parametrize(
    ("rates", "mode", "category", "version_current", "worklog", "message"),
    [
        (RateCard(), "included", "out_of_scope", True, log((5, "diagnosis")),
         "policy has no rates.hourly.diagnosis"),
        (RateCard(), "included", "billable_service", True, log((5, "service")),
         "policy has no rates.hourly.service"),
        (RateCard(), "included", "defect", True, log((5, "recovery")),
         "policy has no rates.hourly.data_recovery"),
        (RateCard(), "per_intervention", "defect", True, log((5, "connection")),
         "policy has no rates.current"),
        (RateCard(current=CURRENT), "per_intervention", "defect", False, log((5, "connection")),
         "policy has no rates.previous"),
        (RateCard(), "pay_per_incident", "defect", True, log((5, "connection")),
         "policy has no rates.incident_price"),
        (None, "per_intervention", "defect", True, log((5, "connection")), "policy has no rates"),
    ],
)  # fmt: skip
def test_missing_rate_names_the_policy_key(
    rates: RateCard | None,
    mode: str,
    category: str,
    version_current: bool,
    worklog: list[WorkEntry],
    message: str,
) -> None:
    with pytest.raises(BadInput, match=f"^{message}$"):
        price_ticket(
            1, worklog, mode=mode, rates=rates, version_current=version_current, category=category
        )


def test_missing_rates_do_not_matter_when_nothing_is_billed() -> None:
    lines = price_ticket(
        1,
        log((90, "connection")),
        mode="included",
        rates=None,
        version_current=True,
        category="defect",
    )
    assert lines == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "free"}, "unknown billing mode 'free'"),
        ({"category": "bug"}, "unknown category 'bug'"),
        ({"worklog": [WorkEntry(5, "coffee")]}, "unknown work kind 'coffee'"),
        ({"worklog": log((5, "connection"), (-9, "recovery"))}, "data recovery time sums to -9"),
        (
            {"category": "out_of_scope", "worklog": log((30, "connection"), (-5, "diagnosis"))},
            "diagnosis time sums to -5",
        ),
    ],
)
def test_bad_ticket_input_is_refused(kwargs: dict, message: str) -> None:
    args: dict = {
        "worklog": log((5, "connection")),
        "mode": "included",
        "rates": RATES,
        "version_current": True,
        "category": "defect",
    }
    args.update(kwargs)
    with pytest.raises(BadInput, match=message):
        price_ticket(1, **args)


# --- hourly and incident lines ----------------------------------------------


def test_hourly_is_pro_rata_to_the_minute_and_rounded_half_up() -> None:
    # 1 min at 50/h is 0.8333 -> 0.83; 3 min at 10.10/h is 0.505 -> 0.51
    assert price_hourly(1, 1, D("50"), "diagnosis").amount == D("0.83")
    assert price_hourly(1, 3, D("10.10"), "diagnosis").amount == D("0.51")
    line = price_hourly(1, 45, D("60"), "service")
    assert (line.amount, line.base, line.extra_half_hours) == (D("45.00"), D("45.00"), 0)
    assert (line.kind, line.rate) == ("hourly:service", D("60.00"))


def test_hourly_per_started_block_when_asked() -> None:
    assert price_hourly(1, 16, D("60"), "diagnosis", block_minutes=15).amount == D("30.00")
    assert price_hourly(1, 15, D("60"), "diagnosis", block_minutes=15).amount == D("15.00")
    assert price_hourly(1, 0, D("60"), "diagnosis", block_minutes=15).amount == D("0.00")
    lines = price_ticket(
        1,
        log((16, "diagnosis")),
        mode="included",
        rates=RATES,
        version_current=True,
        category="out_of_scope",
        hourly_block_minutes=15,
    )
    assert amounts(lines) == [("hourly:diagnosis", D("30.00"))]


def test_incident_line() -> None:
    line = price_incident(3, 75, D("99.999"))
    assert (line.amount, line.base, line.minutes) == (D("100.00"), D("100.00"), 75)
    assert line.kind == "incident"


@pytest.mark.parametrize(
    "call",
    [
        lambda: price_intervention(1, -1, CURRENT, OVERTIME),
        lambda: price_intervention(1, 5, CURRENT, D("-1")),
        lambda: price_intervention(1, 5, InterventionRate(D("-45"), 20), OVERTIME),
        lambda: price_intervention(1, 5, CURRENT, OVERTIME, block_minutes=0),
        lambda: price_intervention(1, 5, CURRENT, D("NaN")),
        lambda: price_hourly(1, -1, D("60"), "diagnosis"),
        lambda: price_hourly(1, 5, D("60"), "diagnosis", block_minutes=0),
        lambda: price_incident(1, 5, D("-1")),
    ],
)
def test_bad_prices_and_minutes_are_refused(call: Callable[[], PriceLine]) -> None:
    with pytest.raises(BadInput):
        call()


# --- invoice totals ---------------------------------------------------------


def test_cents_rounds_half_up() -> None:
    assert cents(D("0.005")) == D("0.01")
    assert cents(D("0.025")) == D("0.03")  # half-even would give 0.02
    assert cents(D("2.674")) == D("2.67")


def test_invoice_totals_with_italian_vat() -> None:
    lines = [
        price_intervention(1, 21, CURRENT, OVERTIME),
        price_intervention(2, 31, PREVIOUS, OVERTIME, version_current=False),
    ]
    assert invoice_totals(lines, D("0.22")) == InvoiceTotals(
        subtotal=D("275.00"), vat_rate=D("0.22"), vat=D("60.50"), total=D("335.50")
    )


def test_vat_is_computed_once_on_the_subtotal() -> None:
    # 1.05 * 0.10 = 0.105 per line: rounding per line gives 0.11 + 0.11 = 0.22,
    # rounding the subtotal 2.10 * 0.10 gives 0.21.
    lines = [price_incident(1, 5, D("1.05")), price_incident(2, 5, D("1.05"))]
    totals = invoice_totals(lines, D("0.10"))
    assert (totals.subtotal, totals.vat, totals.total) == (D("2.10"), D("0.21"), D("2.31"))


def test_vat_rounds_half_up() -> None:
    totals = invoice_totals([price_incident(1, 5, D("0.25"))], D("0.10"))  # 0.025
    assert totals.vat == D("0.03")


def test_empty_invoice_is_zero() -> None:
    zero = D("0.00")
    assert invoice_totals([], D("0.22")) == InvoiceTotals(zero, D("0.22"), zero, zero)


@pytest.mark.parametrize("rate", [D("-0.01"), D("1"), D("22"), D("NaN"), D("Infinity")])
def test_vat_rate_must_be_a_fraction(rate: Decimal) -> None:
    with pytest.raises(BadInput, match="VAT rate"):
        invoice_totals([], rate)


def test_negative_line_is_refused() -> None:
    bad = PriceLine(1, 5, D("-1.00"), 0, D("-1.00"), "incident", "", D("-1.00"))
    with pytest.raises(BadInput, match="ticket 1"):
        invoice_totals([bad], D("0.22"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("22%", "0.22"), ("0.22", "0.22"), (" 4 % ", "0.04"), ("0", "0"), ("0%", "0"),
     ("10.5%", "0.105")],
)  # fmt: skip
def test_parse_vat_rate(text: str, expected: str) -> None:
    assert parse_vat_rate(text) == D(expected)


@pytest.mark.parametrize("text", ["22", "1", "100%", "-5%", "abc", ""])
def test_parse_vat_rate_refuses(text: str) -> None:
    with pytest.raises(BadInput, match="VAT rate"):
        parse_vat_rate(text)


# --- invoice numbers --------------------------------------------------------


def test_invoice_numbers() -> None:
    assert next_invoice_number(None, 2026) == "INV-2026-0001"
    assert next_invoice_number("INV-2026-0001", 2026) == "INV-2026-0002"
    assert next_invoice_number("INV-2026-0041", 2026) == "INV-2026-0042"
    assert next_invoice_number("INV-2025-0317", 2026) == "INV-2026-0001"  # a new year restarts
    assert next_invoice_number("INV-2026-9999", 2026) == "INV-2026-10000"
    assert next_invoice_number("INV-2026-10000", 2026) == "INV-2026-10001"
    assert next_invoice_number("FT-2026-0007", 2026, prefix="FT") == "FT-2026-0008"


@pytest.mark.parametrize(
    ("last", "year", "prefix", "message"),
    [
        ("INV-2027-0001", 2026, "INV", "from 2027, after 2026"),
        ("FT-2026-0001", 2026, "INV", "not like INV-2026-0001"),
        ("INV-2026-1", 2026, "INV", "not like"),
        ("INV-2026-0001x", 2026, "INV", "not like"),
        (None, 2026, "", "invoice prefix"),
        (None, 2026, "IN V", "invoice prefix"),
        (None, 0, "INV", "year out of range"),
    ],
)
def test_invoice_number_refusals(last: str | None, year: int, prefix: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        next_invoice_number(last, year, prefix)


def test_a_tickets_terms_and_rate_card_come_from_the_policy_alone() -> None:
    """billing_terms / rate_card_for / covers: the pure half of billing a stored ticket."""
    from decimal import Decimal

    from deskctl.domain.billing import billing_terms, covers, rate_card_for
    from tests.domain.test_examples import load

    dms = load("dms")
    terms = {"plan": "maintenance", "product_current": "10.4"}
    assert billing_terms(dms, billing_mode=None, version="10.4", **terms) == (
        "per_intervention",
        True,
    )
    assert billing_terms(dms, billing_mode=None, version="9.1", **terms) == (
        "per_intervention",
        False,
    )
    assert billing_terms(dms, billing_mode=None, version="garbled", **terms)[1] is True
    assert billing_terms(dms, billing_mode="warranty", version="9.1", **terms) == (
        "included",
        True,
    )
    card = rate_card_for(dms.rates, "billable_service", "Data-Recovery")
    assert card.service == "Data Recovery"
    assert card.rates is not None and card.rates.hourly["service"] == Decimal("60.00")
    assert rate_card_for(dms.rates, "defect", None).service == "service"
    assert covers("hourly:data_recovery", "recovery") and not covers("intervention", "recovery")
    assert covers("hourly:diagnosis", "diagnosis") and not covers("hourly:diagnosis", "onsite")
