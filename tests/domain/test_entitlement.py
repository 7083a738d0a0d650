"""The contract check of rules §8: every rule at its date boundaries, versions, billing modes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskctl.domain.entitlement import (
    REASON_CODES,
    ContactFacts,
    ContractFacts,
    ProductFacts,
    check_entitlement,
    effective_eol,
)
from deskctl.domain.policy import (
    CalendarSpec,
    EntitlementRules,
    Plan,
    Policy,
    SeverityScheme,
    Target,
)
from deskctl.domain.versions import is_current, parse_version
from deskctl.errors import BadInput

DAY = timedelta(days=1)
SLA = {
    "response": {"high": Target(8 * 3600, 8 * 3600), "low": Target(5 * 3600, 9 * 3600)},
    "resolution": {"high": Target(40 * 3600, 40 * 3600)},
}


def make_policy(**rules: Any) -> Policy:
    plans = {
        "std": Plan("std", calendar="office", sla=SLA),
        "occasional": Plan("occasional", calendar="office", billing="per_intervention"),
        "incident": Plan("incident", calendar="office", billing="pay_per_incident"),
        "portal": Plan(
            "portal", calendar="always", channels=("portal",), services=("onsite", "24x7")
        ),
        "warranty": Plan("warranty", calendar="office", warranty=True),
    }
    return Policy(
        name="test",
        vendor="Test Vendor",
        calendars={"office": CalendarSpec("office"), "always": CalendarSpec("always")},
        severities=SeverityScheme(order=("high", "low")),
        plans=plans,
        channels=("portal", "email", "phone"),
        entitlement=EntitlementRules(**rules),
    )


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def contract(**fields: Any) -> ContractFacts:
    values: dict[str, Any] = {"id": 1, "plan": "std", "start": date(2026, 1, 1)}
    values.update(fields)
    return ContractFacts(**values)


def check(policy: Policy, contracts: list[ContractFacts], day: date, **kwargs: Any):
    return check_entitlement(policy, contracts, at=noon(day), **kwargs)


def reason(decision, code: str):
    found = [r for r in decision.reasons if r.code == code]
    assert len(found) == 1, decision.reasons
    return found[0]


OPMON = ProductFacts("OpMon", current="6.2")


# --- no contract, contract dates -------------------------------------------------------


def test_no_contract_is_not_entitled_and_names_nothing():
    decision = check(make_policy(), [], date(2026, 3, 1))
    assert not decision.entitled
    assert decision.codes() == ("no_contract",)
    assert decision.contract_id is None
    assert decision.plan is None
    assert decision.billing_mode is None


@pytest.mark.parametrize(
    ("day", "entitled"),
    [(date(2025, 12, 31), False), (date(2026, 1, 1), True), (date(2026, 1, 2), True)],
)
def test_contract_start_is_inclusive(day, entitled):
    decision = check(make_policy(), [contract(start=date(2026, 1, 1))], day)
    assert decision.entitled is entitled
    if not entitled:
        assert decision.codes() == ("not_activated",)
        assert reason(decision, "not_activated").data["starts"] == "2026-01-01"


@pytest.mark.parametrize(
    ("day", "entitled"),
    [(date(2026, 12, 30), True), (date(2026, 12, 31), True), (date(2027, 1, 1), False)],
)
def test_contract_end_is_inclusive(day, entitled):
    decision = check(make_policy(), [contract(end=date(2026, 12, 31))], day)
    assert decision.entitled is entitled
    if not entitled:
        assert decision.codes() == ("expired",)
        assert reason(decision, "expired").data["ended"] == "2026-12-31"


def test_contract_without_end_never_expires():
    assert check(make_policy(), [contract(end=None)], date(2099, 1, 1)).entitled


def test_at_is_judged_as_its_utc_date():
    # 22:00 in Sao Paulo on the last day is already the next day in UTC
    evening = datetime(2026, 12, 31, 22, 0, tzinfo=timezone(timedelta(hours=-3)))
    decision = check_entitlement(make_policy(), [contract(end=date(2026, 12, 31))], at=evening)
    assert decision.on == date(2027, 1, 1)
    assert decision.codes() == ("expired",)


def test_naive_at_is_refused():
    with pytest.raises(BadInput):
        check_entitlement(make_policy(), [contract()], at=datetime(2026, 3, 1, 12))


def test_contract_on_a_plan_the_policy_lacks_is_bad_input():
    with pytest.raises(BadInput, match="plan 'gold'"):
        check(make_policy(), [contract(plan="gold")], date(2026, 3, 1))


# --- activation gate (seed 001) ---------------------------------------------------------


def test_activation_not_required_ignores_missing_activation():
    assert check(make_policy(require_activation=False), [contract()], date(2026, 3, 1)).entitled


def test_activation_required_and_missing_is_not_activated():
    decision = check(make_policy(require_activation=True), [contract()], date(2026, 3, 1))
    assert not decision.entitled
    assert decision.codes() == ("not_activated",)
    assert "close-out" in reason(decision, "not_activated").message


@pytest.mark.parametrize(
    ("activated", "entitled"),
    [(date(2026, 3, 2), False), (date(2026, 3, 1), True), (date(2026, 2, 28), True)],
)
def test_activation_date_is_inclusive(activated, entitled):
    policy = make_policy(require_activation=True)
    decision = check(policy, [contract(activated=activated)], date(2026, 3, 1))
    assert decision.entitled is entitled


def test_future_start_and_missing_activation_give_one_merged_reason():
    policy = make_policy(require_activation=True)
    decision = check(policy, [contract(start=date(2026, 6, 1))], date(2026, 3, 1))
    assert decision.codes() == ("not_activated",)
    data = reason(decision, "not_activated").data
    assert data["starts"] == "2026-06-01"
    assert data["activated"] is None


# --- overdue charges (seeds 000, 001) ---------------------------------------------------


@pytest.mark.parametrize(
    ("since", "overdue"),
    [(date(2026, 3, 2), False), (date(2026, 3, 1), True), (date(2026, 2, 28), True)],
)
def test_overdue_from_its_first_day(since, overdue):
    decision = check(make_policy(), [contract()], date(2026, 3, 1), overdue_since=since)
    assert decision.entitled is not overdue
    assert ("overdue" in decision.codes()) is overdue


def test_paid_account_is_not_overdue():
    decision = check(make_policy(), [contract()], date(2026, 3, 1), overdue_since=None)
    assert decision.entitled
    assert decision.reasons == ()


def test_overdue_is_informational_when_the_policy_does_not_block():
    decision = check(
        make_policy(block_overdue=False),
        [contract()],
        date(2026, 3, 1),
        overdue_since=date(2026, 2, 1),
    )
    assert decision.entitled
    assert not reason(decision, "overdue").blocking
    assert reason(decision, "overdue").data["overdue_since"] == "2026-02-01"


# --- warranty (seed 004) ----------------------------------------------------------------

ISSUED = date(2026, 1, 1)


def warranty_check(day: date, issued: date | None = ISSUED, days: int = 90, **kwargs: Any):
    return check(
        make_policy(warranty_days=days),
        # the warranty contract is in force from before the licence is issued
        [contract(plan="warranty", start=(issued or ISSUED) - 31 * DAY, license_issued=issued)],
        day,
        **kwargs,
    )


def test_warranty_on_the_day_of_issue():
    decision = warranty_check(ISSUED)
    assert decision.entitled
    assert decision.billing_mode == "warranty"
    assert decision.warranty_days_left == 90
    info = reason(decision, "warranty")
    assert not info.blocking
    assert info.data["days_left"] == 90
    assert info.data["last_day"] == "2026-03-31"


def test_warranty_last_covered_day_is_issue_plus_days_minus_one():
    decision = warranty_check(date(2026, 3, 31))
    assert decision.entitled
    assert decision.warranty_days_left == 1


def test_warranty_is_over_on_issue_plus_days():
    decision = warranty_check(date(2026, 4, 1))
    assert not decision.entitled
    assert decision.codes() == ("expired",)
    assert reason(decision, "expired").data["warranty_last_day"] == "2026-03-31"
    assert decision.warranty_days_left == 0
    assert decision.billing_mode is None


def test_warranty_before_licence_issue_is_not_activated():
    decision = warranty_check(date(2025, 12, 31))
    assert decision.codes() == ("not_activated",)
    assert decision.warranty_days_left is None


def test_warranty_without_licence_is_not_activated():
    decision = warranty_check(date(2026, 1, 10), issued=None)
    assert decision.codes() == ("not_activated",)
    assert "licence" in reason(decision, "not_activated").message


def test_warranty_plan_needs_positive_warranty_days():
    with pytest.raises(BadInput, match="warranty_days"):
        warranty_check(ISSUED, days=0)


def test_licence_date_means_nothing_on_a_plan_without_warranty():
    decision = check(
        make_policy(warranty_days=90),
        [contract(license_issued=date(2020, 1, 1))],
        date(2026, 3, 1),
    )
    assert decision.entitled
    assert decision.warranty_days_left is None
    assert decision.billing_mode == "included"


@settings(max_examples=150, deadline=None)
@given(
    issued=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
    days=st.integers(min_value=1, max_value=400),
    offset=st.integers(min_value=0, max_value=420),
)
def test_warranty_covers_exactly_its_days(issued, days, offset):
    decision = warranty_check(issued + timedelta(days=offset), issued=issued, days=days)
    assert decision.entitled is (offset < days)
    assert decision.warranty_days_left == max(0, days - offset)


# --- named contacts (seed 003) ----------------------------------------------------------

NAMED = ContactFacts("ana@acme.test", ((date(2026, 2, 1), date(2026, 5, 1)),))


def contact_check(day: date, **kwargs: Any):
    return check(make_policy(named_contacts_only=True), [contract()], day, **kwargs)


@pytest.mark.parametrize(
    ("day", "named"),
    [
        (date(2026, 1, 31), False),
        (date(2026, 2, 1), True),
        (date(2026, 4, 30), True),
        (date(2026, 5, 1), False),
    ],
)
def test_named_period_is_half_open(day, named):
    decision = contact_check(day, contact=NAMED, contact_email=NAMED.email)
    assert decision.entitled is named
    if not named:
        assert decision.codes() == ("contact_not_named",)
        assert reason(decision, "contact_not_named").data["contact"] == NAMED.email


def test_open_ended_naming_lasts():
    contact = ContactFacts("bo@acme.test", ((date(2026, 2, 1), None),))
    assert contact_check(date(2040, 1, 1), contact=contact).entitled


def test_naming_history_with_a_gap():
    contact = ContactFacts(
        "cy@acme.test",
        ((date(2026, 1, 1), date(2026, 2, 1)), (date(2026, 3, 1), None)),
    )
    assert contact_check(date(2026, 1, 15), contact=contact).entitled
    assert not contact_check(date(2026, 2, 15), contact=contact).entitled
    assert contact_check(date(2026, 3, 1), contact=contact).entitled


def test_contact_never_named_is_refused():
    decision = contact_check(date(2026, 3, 1), contact=ContactFacts("dan@acme.test"))
    assert decision.codes() == ("contact_not_named",)


def test_unknown_contact_email_is_not_named():
    decision = contact_check(date(2026, 3, 1), contact_email="who@else.test")
    assert decision.codes() == ("contact_not_named",)
    assert "not a registered" in reason(decision, "contact_not_named").message


def test_no_contact_given_is_not_judged():
    assert contact_check(date(2026, 3, 1)).entitled


def test_any_contact_may_open_when_the_policy_does_not_name_them():
    decision = check(
        make_policy(named_contacts_only=False),
        [contract()],
        date(2026, 3, 1),
        contact_email="who@else.test",
    )
    assert decision.entitled


# --- products ---------------------------------------------------------------------------


def test_empty_product_list_covers_every_product():
    decision = check(make_policy(), [contract(products=())], date(2026, 3, 1), product=OPMON)
    assert decision.entitled


def test_listed_product_is_covered_whatever_its_case():
    decision = check(
        make_policy(), [contract(products=("opmon",))], date(2026, 3, 1), product=OPMON
    )
    assert decision.entitled


def test_product_missing_from_the_contract_is_not_covered():
    decision = check(
        make_policy(), [contract(products=("Nagios",))], date(2026, 3, 1), product=OPMON
    )
    assert decision.codes() == ("product_not_covered",)
    assert reason(decision, "product_not_covered").data["product"] == "OpMon"


def test_unregistered_product_name_is_not_covered():
    decision = check(make_policy(), [contract()], date(2026, 3, 1), product_name="Ghost")
    assert decision.codes() == ("product_not_covered",)
    assert "not registered" in reason(decision, "product_not_covered").message


# --- versions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("6", (6,)),
        ("6.2", (6, 2)),
        ("6.2.1", (6, 2, 1)),
        ("6.10", (6, 10)),
        ("v6.2", (6, 2)),
        ("V6.2", (6, 2)),
        ("6.2-rc1", (6, 2)),
        ("6.2rc1", (6, 2)),
        ("6.2 beta", (6, 2)),
        ("6.2.1+build.7", (6, 2, 1)),
        ("6.2-rc.1+20260101", (6, 2)),
        (" 06.02 ", (6, 2)),
    ],
)
def test_parse_version(text, numbers):
    assert parse_version(text) == numbers


@pytest.mark.parametrize(
    "text",
    ["", "   ", "v", "abc", "6.x", "6..2", ".6", "6.2.", "6.2-", "6.2-1", "6,2", "1" * 65],
)
def test_parse_version_refuses_garbage(text):
    with pytest.raises(BadInput):
        parse_version(text)


@pytest.mark.parametrize(
    ("version", "current", "expected"),
    [
        ("6.2", "6.2", True),
        ("6.2.0", "6.2", True),
        ("6.2.9", "6.2.3", True),  # same major.minor: patch does not matter
        ("6.2.1", "6.2.5", True),
        ("6.10", "6.2", True),  # numeric, not text, comparison
        ("6.2", "6.10", False),
        ("6.1.99", "6.2", False),
        ("7.0", "6.2", True),
        ("5.9", "6.2", False),
        ("6", "6.2", False),  # "6" is 6.0
        ("6", "6.0", True),
        ("6.0.5", "6", True),
        ("v6.2", "6.2", True),
        ("6.2-rc1", "6.2", True),
        ("6.3-rc1", "6.2", True),
    ],
)
def test_is_current(version, current, expected):
    assert is_current(version, current) is expected


versions = st.lists(st.integers(min_value=0, max_value=999), min_size=1, max_size=4).map(
    lambda parts: ".".join(map(str, parts))
)


@settings(max_examples=150, deadline=None)
@given(a=versions, b=versions)
def test_is_current_orders_every_pair(a, b):
    assert is_current(a, b) or is_current(b, a)
    assert is_current(a, a)


@settings(max_examples=150, deadline=None)
@given(
    major=st.integers(0, 99),
    minor=st.integers(0, 99),
    patch=st.integers(0, 99),
    ahead=st.integers(1, 50),
)
def test_only_major_minor_decides(major, minor, patch, ahead):
    assert is_current(f"{major}.{minor}.{patch}", f"{major}.{minor}")
    assert is_current(f"{major}.{minor}", f"{major}.{minor}.{patch}")
    assert not is_current(f"{major}.{minor}.{patch}", f"{major}.{minor + ahead}")
    assert not is_current(f"{major}.{minor + ahead}", f"{major + 1}")


def version_check(version: str, plan: str = "std", **rules: Any):
    return check(
        make_policy(**rules),
        [contract(plan=plan)],
        date(2026, 3, 1),
        product=OPMON,
        version=version,
    )


@pytest.mark.parametrize("version", ["6.2", "6.2.7", "6.10", "7"])
def test_current_or_newer_version_gives_no_reason(version):
    decision = version_check(version, previous_version="refused")
    assert decision.entitled
    assert decision.reasons == ()


def test_previous_version_billable_is_entitled_at_the_previous_rate():
    decision = version_check("6.1", previous_version="billable")
    assert decision.entitled
    info = reason(decision, "version_not_current")
    assert not info.blocking
    assert info.data == {"product": "OpMon", "version": "6.1", "current": "6.2"}
    assert decision.billing_mode == "per_intervention_previous"


def test_previous_version_refused_is_not_entitled():
    decision = version_check("6.1", previous_version="refused")
    assert not decision.entitled
    assert reason(decision, "version_not_current").blocking


def test_previous_version_allowed_is_included():
    decision = version_check("6.1", previous_version="allowed")
    assert decision.entitled
    assert not reason(decision, "version_not_current").blocking
    assert decision.billing_mode == "included"


def test_latest_release_only_refuses_older_even_when_billable():
    decision = version_check("6.1", previous_version="billable", latest_release_only=True)
    assert not decision.entitled
    assert reason(decision, "version_not_current").blocking


def test_bad_previous_version_rule_is_bad_input():
    with pytest.raises(BadInput, match="previous_version"):
        version_check("6.2", previous_version="maybe")


def test_garbage_version_is_bad_input():
    with pytest.raises(BadInput, match="version"):
        version_check("latest")


def test_product_with_a_garbage_current_release_is_bad_input():
    with pytest.raises(BadInput, match="OpMon"):
        check(
            make_policy(),
            [contract()],
            date(2026, 3, 1),
            product=ProductFacts("OpMon", current="next"),
            version="6.2",
        )


def test_version_without_product_is_bad_input():
    with pytest.raises(BadInput, match="product"):
        check(make_policy(), [contract()], date(2026, 3, 1), version="6.2")


def test_version_of_an_unregistered_product_is_not_judged():
    decision = check(
        make_policy(), [contract()], date(2026, 3, 1), product_name="Ghost", version="1.0"
    )
    assert decision.codes() == ("product_not_covered",)


# --- end of life (seed 003) -------------------------------------------------------------

EOL = date(2027, 6, 30)
RETIRED = ProductFacts("OpMon", current="6.2", eol=EOL, eol_announced=date(2026, 1, 1))


@pytest.mark.parametrize(("day", "past_eol"), [(EOL - DAY, False), (EOL, True), (EOL + DAY, True)])
def test_end_of_life_without_contract_end_blocks_from_the_eol_day(day, past_eol):
    decision = check(make_policy(), [contract(end=None)], day, product=RETIRED)
    assert decision.entitled is not past_eol
    assert ("end_of_life" in decision.codes()) is past_eol


def test_end_of_life_inside_the_agreed_maintenance_period_is_informational():
    agreed = [contract(end=date(2027, 12, 31))]
    decision = check(make_policy(), agreed, EOL, product=RETIRED)
    assert decision.entitled
    info = reason(decision, "end_of_life")
    assert not info.blocking
    assert info.data["supported_until"] == "2027-12-31"
    assert check(make_policy(), agreed, date(2027, 12, 31), product=RETIRED).entitled


def test_end_of_life_after_the_agreed_maintenance_period_blocks():
    decision = check(
        make_policy(), [contract(end=date(2027, 12, 31))], date(2028, 1, 1), product=RETIRED
    )
    assert not decision.entitled
    assert decision.codes() == ("expired", "end_of_life")
    assert reason(decision, "end_of_life").blocking


def test_short_notice_eol_is_pushed_to_announcement_plus_notice():
    rushed = ProductFacts("OpMon", "6.2", eol=date(2026, 9, 1), eol_announced=date(2026, 6, 1))
    pushed = date(2026, 6, 1) + timedelta(days=365)
    assert effective_eol(rushed, 365) == pushed
    policy = make_policy(eol_notice_days=365)
    assert check(policy, [contract()], date(2026, 9, 1), product=rushed).entitled
    assert check(policy, [contract()], pushed - DAY, product=rushed).entitled
    decision = check(policy, [contract()], pushed, product=rushed)
    assert not decision.entitled
    assert reason(decision, "end_of_life").data["effective_eol"] == pushed.isoformat()
    assert reason(decision, "end_of_life").data["eol"] == "2026-09-01"


def test_eol_without_announcement_date_stands():
    product = ProductFacts("OpMon", "6.2", eol=date(2026, 9, 1))
    assert effective_eol(product, 365) == date(2026, 9, 1)
    assert not check(make_policy(), [contract()], date(2026, 9, 1), product=product).entitled


def test_product_without_eol_never_ends():
    assert effective_eol(OPMON, 365) is None
    assert check(make_policy(), [contract()], date(2099, 1, 1), product=OPMON).entitled


# --- channels ---------------------------------------------------------------------------


def test_channel_outside_the_plan_is_refused():
    decision = check(make_policy(), [contract(plan="portal")], date(2026, 3, 1), channel="phone")
    assert not decision.entitled
    assert decision.codes() == ("channel_not_in_plan",)
    assert reason(decision, "channel_not_in_plan").data["allowed"] == ["portal"]


def test_channel_in_the_plan_is_accepted_whatever_its_case():
    decision = check(make_policy(), [contract(plan="portal")], date(2026, 3, 1), channel="Portal")
    assert decision.entitled
    assert decision.channels == ("portal",)


def test_plan_without_channels_allows_every_policy_channel():
    for channel in ("portal", "email", "phone"):
        assert check(make_policy(), [contract()], date(2026, 3, 1), channel=channel).entitled
    decision = check(make_policy(), [contract()], date(2026, 3, 1), channel="fax")
    assert decision.codes() == ("channel_not_in_plan",)
    assert decision.channels == ("portal", "email", "phone")


# --- billing mode -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "mode"),
    [
        ("std", "included"),
        ("occasional", "per_intervention_current"),
        ("incident", "pay_per_incident"),
    ],
)
def test_billing_mode_follows_the_plan_for_a_current_version(plan, mode):
    assert version_check("6.2", plan=plan).billing_mode == mode


@pytest.mark.parametrize("plan", ["std", "occasional", "incident"])
def test_billable_previous_version_uses_the_previous_rate_on_any_plan(plan):
    decision = version_check("6.1", plan=plan, previous_version="billable")
    assert decision.billing_mode == "per_intervention_previous"


def test_billable_previous_version_under_warranty_uses_the_previous_rate():
    decision = warranty_check(date(2026, 2, 1), product=OPMON, version="6.1")
    assert decision.entitled
    assert decision.billing_mode == "per_intervention_previous"
    assert decision.codes() == ("version_not_current", "warranty")


def test_unknown_plan_billing_is_bad_input():
    policy = make_policy()
    policy.plans["odd"] = Plan("odd", calendar="office", billing="barter")
    with pytest.raises(BadInput, match="billing"):
        check(policy, [contract(plan="odd")], date(2026, 3, 1))


# --- several reasons, several contracts -------------------------------------------------


def test_every_applicable_reason_is_reported_in_spec_order():
    policy = make_policy(
        require_activation=True, named_contacts_only=True, previous_version="refused"
    )
    retired = replace(RETIRED, eol=date(2026, 6, 1), eol_announced=None)
    decision = check(
        policy,
        [contract(plan="portal", end=date(2026, 12, 31), products=("Nagios",))],
        date(2027, 2, 1),
        overdue_since=date(2026, 11, 1),
        contact_email="who@else.test",
        product=retired,
        version="5.0",
        channel="phone",
    )
    assert not decision.entitled
    assert decision.codes() == (
        "not_activated",
        "expired",
        "overdue",
        "contact_not_named",
        "product_not_covered",
        "version_not_current",
        "end_of_life",
        "channel_not_in_plan",
    )
    assert all(r.blocking for r in decision.reasons)
    assert list(decision.codes()) == sorted(decision.codes(), key=REASON_CODES.index)


def test_entitling_contract_wins_over_an_expired_one():
    old = contract(id=1, start=date(2024, 1, 1), end=date(2025, 12, 31))
    new = contract(id=2, plan="incident", start=date(2026, 1, 1))
    decision = check(make_policy(), [old, new], date(2026, 3, 1))
    assert decision.entitled
    assert decision.contract_id == 2
    assert decision.plan == "incident"
    assert decision.reasons == ()


def test_among_entitling_contracts_the_latest_start_wins():
    first = contract(id=7, start=date(2025, 1, 1))
    later = contract(id=3, plan="portal", start=date(2026, 2, 1))
    decision = check(make_policy(), [first, later], date(2026, 3, 1))
    assert decision.contract_id == 3
    assert decision.calendar == "always"


def test_same_start_falls_back_to_the_highest_id():
    a = contract(id=4)
    b = contract(id=9)
    assert check(make_policy(), [a, b], date(2026, 3, 1)).contract_id == 9
    assert check(make_policy(), [b, a], date(2026, 3, 1)).contract_id == 9


def test_entitling_contract_wins_even_when_it_started_earlier():
    covering = contract(id=1, start=date(2025, 1, 1), products=("OpMon",))
    narrow = contract(id=2, start=date(2026, 1, 1), products=("Nagios",))
    decision = check(make_policy(), [covering, narrow], date(2026, 3, 1), product=OPMON)
    assert decision.entitled
    assert decision.contract_id == 1


def test_when_none_entitles_the_contract_in_force_is_reported():
    in_force = contract(id=1, plan="portal", start=date(2024, 1, 1), products=("Nagios",))
    expired = contract(id=2, start=date(2025, 1, 1), end=date(2025, 12, 31))
    decision = check(
        make_policy(), [expired, in_force], date(2026, 3, 1), channel="email", product=OPMON
    )
    assert not decision.entitled
    # the expired contract has fewer blocking reasons and started later, but is not in force
    assert decision.contract_id == 1
    assert decision.codes() == ("product_not_covered", "channel_not_in_plan")


def test_when_none_in_force_the_fewest_blocking_reasons_win():
    ended = contract(id=1, start=date(2024, 1, 1), end=date(2025, 12, 31))
    future = contract(id=2, plan="portal", start=date(2026, 6, 1))
    decision = check(make_policy(), [ended, future], date(2026, 3, 1), channel="phone")
    assert decision.contract_id == 1
    assert decision.codes() == ("expired",)


# --- what the decision states, JSON -----------------------------------------------------


def test_decision_states_plan_terms_even_when_not_entitled():
    decision = check(make_policy(), [contract(end=date(2026, 1, 31))], date(2026, 3, 1))
    assert not decision.entitled
    assert decision.plan == "std"
    assert decision.calendar == "office"
    assert decision.targets == SLA
    assert decision.billing_mode is None


def test_json_shape():
    decision = check(
        make_policy(block_overdue=False),
        [contract(id=5, plan="portal")],
        date(2026, 3, 1),
        overdue_since=date(2026, 2, 1),
    )
    doc = json.loads(json.dumps(decision.to_json()))
    assert doc == {
        "entitled": True,
        "on": "2026-03-01",
        "contract_id": 5,
        "plan": "portal",
        "calendar": "always",
        "billing_mode": "included",
        "warranty_days_left": None,
        "channels": ["portal"],
        "services": ["onsite", "24x7"],
        "targets": {},
        "reasons": [
            {
                "code": "overdue",
                "message": "the account has overdue charges since 2026-02-01",
                "blocking": False,
                "data": {"overdue_since": "2026-02-01"},
            }
        ],
    }


def test_json_targets_in_seconds_by_metric_and_severity():
    doc = check(make_policy(), [contract()], date(2026, 3, 1)).to_json()
    assert doc["targets"] == {
        "response": {
            "high": {"goal_seconds": 28800, "limit_seconds": 28800},
            "low": {"goal_seconds": 18000, "limit_seconds": 32400},
        },
        "resolution": {"high": {"goal_seconds": 144000, "limit_seconds": 144000}},
    }


def test_json_of_no_contract():
    doc = json.loads(json.dumps(check(make_policy(), [], date(2026, 3, 1)).to_json()))
    assert doc["entitled"] is False
    assert [r["code"] for r in doc["reasons"]] == ["no_contract"]
    assert doc["contract_id"] is None
    assert doc["targets"] == {}


def test_json_of_warranty_carries_days_left():
    doc = json.loads(json.dumps(warranty_check(date(2026, 3, 2)).to_json()))
    assert doc["warranty_days_left"] == 30
    assert doc["billing_mode"] == "warranty"
    assert doc["reasons"][0]["code"] == "warranty"
    assert doc["reasons"][0]["data"]["days_left"] == 30
