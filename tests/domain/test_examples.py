"""The five example policies load and say what their seeds say (docs/rules.md §2, §9)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from deskctl.domain.policy import Policy, Target
from deskctl.domain.policy_file import parse_policy

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
H = 3600
WEEKDAYS_MON_FRI = (0, 1, 2, 3, 4)


def load(name: str) -> Policy:
    path = EXAMPLES / f"{name}.toml"
    return parse_policy(path.read_text(encoding="utf-8"), source=str(path))


def hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * H + int(minutes) * 60


def week(days: tuple[int, ...], *spans: str) -> dict[int, tuple[tuple[int, int], ...]]:
    intervals = tuple((hhmm(s.split("-")[0]), hhmm(s.split("-")[1])) for s in spans)
    return dict.fromkeys(days, intervals)


def single(hours: int) -> Target:
    return Target(goal=hours * H, limit=hours * H)


def ranged(goal: int, limit: int) -> Target:
    return Target(goal=goal * H, limit=limit * H)


@pytest.mark.parametrize(
    ("name", "calendars", "plans", "severities"),
    [
        ("medisoft", {"medisoft"}, {"maintenance"}, ("high", "medium", "low")),
        ("imexhs", {"bogota-8x5", "always"}, {"8x5", "24x7"}, ("1", "2", "3")),
        ("dms", {"rome"}, {"maintenance"}, ("high", "normal")),
        (
            "opmon",
            {"porto-alegre"},
            {"pro", "premium", "pay-per-incident"},
            ("critical", "major", "minor"),
        ),
        (
            "progresssoft",
            {"amman"},
            {"assistance", "warranty"},
            ("critical", "high", "medium", "low"),
        ),
    ],
)
def test_example_names_are_the_stable_ones(
    name: str, calendars: set[str], plans: set[str], severities: tuple[str, ...]
) -> None:
    policy = load(name)
    assert policy.name == name
    assert set(policy.calendars) == calendars
    assert set(policy.plans) == plans
    assert policy.severities.order == severities
    for plan in policy.plans.values():
        assert set(plan.sla["response"]) == set(severities)


@pytest.mark.parametrize("name", ["medisoft", "imexhs", "dms", "opmon", "progresssoft"])
def test_example_starts_with_a_header_that_names_its_seed(name: str) -> None:
    text = (EXAMPLES / f"{name}.toml").read_text(encoding="utf-8")
    header = text.split("\n\n")[0].splitlines()
    assert all(line.startswith("#") for line in header)
    assert "seed 00" in "\n".join(header)


def test_medisoft() -> None:
    policy = load("medisoft")
    calendar = policy.calendars["medisoft"]
    assert calendar.timezone == "America/Sao_Paulo"
    assert calendar.holidays == ("BR",)
    assert calendar.hours == week(WEEKDAYS_MON_FRI, "08:30-12:00", "13:30-17:30")
    plan = policy.plans["maintenance"]
    assert plan.calendar == "medisoft"
    assert plan.sla["response"] == {"high": single(8), "medium": single(24), "low": single(72)}
    assert policy.scope.requires_reproducible
    assert policy.entitlement.block_overdue
    assert set(policy.scope.billable_services) == {
        "customisation",
        "configuration",
        "report-personalisation",
        "integrations",
        "database-infrastructure-support",
        "onsite-training",
    }
    assert {"portal", "email"} <= set(policy.channels)


def test_medisoft_comments_map_the_seed_statuses_onto_the_states() -> None:
    text = (EXAMPLES / "medisoft.toml").read_text(encoding="utf-8")
    for status, state in [
        ("Rascunho", "draft"),
        ("Aguardando aprovação", "awaiting_approval"),
        ("Aguardando atendimento", "queued"),
        ("Em atendimento", "in_progress"),
        ("Aguardando sub-chamado", "awaiting_subticket"),
        ("Encaminhado a terceiros", "forwarded"),
        ("Aguardando verificação", "awaiting_verification"),
        ("Encerrado", "closed"),
    ]:
        line = next(line for line in text.splitlines() if status in line)
        assert line.startswith("#") and line.rstrip().endswith(f"-> {state}")


def test_imexhs() -> None:
    policy = load("imexhs")
    office = policy.calendars["bogota-8x5"]
    assert office.timezone == "America/Bogota"
    assert office.holidays == ("CO",)
    assert office.hours == week(WEEKDAYS_MON_FRI, "08:00-18:00")
    assert policy.calendars["always"].always_open
    assert policy.plans["8x5"].calendar == "bogota-8x5"
    assert policy.plans["24x7"].calendar == "always"
    for plan in policy.plans.values():
        assert plan.sla["response"] == {"1": ranged(5, 9), "2": ranged(9, 12), "3": ranged(12, 18)}
        assert plan.sla["report"] == dict.fromkeys(("1", "2", "3"), single(72))
    assert policy.metrics["report"].start == "report_requested"
    assert policy.metrics["report"].stop == ("report_delivered",)
    # docs/rules.md §5 matrix, impact x urgency
    severities = policy.severities
    assert severities.levels == ("high", "medium", "low")
    ones = {("high", "high"), ("high", "medium"), ("medium", "high")}
    twos = {("medium", "medium"), ("high", "low"), ("low", "high")}
    for impact in severities.levels:
        for urgency in severities.levels:
            pair = (impact, urgency)
            expected = "1" if pair in ones else "2" if pair in twos else "3"
            assert severities.matrix[pair] == expected, pair
    assert policy.clock.start == "info_complete"
    assert policy.required_fields
    assert {"forwarded", "awaiting_customer"} <= set(policy.clock.pause_states)
    assert policy.entitlement.require_activation
    assert policy.entitlement.block_overdue
    assert policy.scope.misuse_refuse_repeat
    assert {"third-party-products", "internet", "telephony"} <= set(policy.scope.out_of_scope)
    assert policy.rates is not None and "diagnosis" in policy.rates.hourly


def test_imexhs_closure_protocol_is_spec_section_6() -> None:
    closure = load("imexhs").closure
    assert closure is not None
    assert closure.clock == "calendar"
    assert [(step.offset // H, step.action, step.outcome) for step in closure.steps] == [
        (0, "contact", None),
        (3, "call", None),
        (6, "call", None),
        (9, "call", None),
        (9, "email", None),
        (21, "email", None),
        (33, "close", "accepted"),
    ]


def test_dms() -> None:
    policy = load("dms")
    rome = policy.calendars["rome"]
    assert rome.timezone == "Europe/Rome"
    assert rome.holidays == ("IT",)
    assert rome.hours == week(WEEKDAYS_MON_FRI, "09:00-13:00", "14:00-18:00")
    plan = policy.plans["maintenance"]
    assert plan.billing == "per_intervention"
    rates = policy.rates
    assert rates is not None
    assert rates.currency == "EUR" and not rates.vat_included
    assert rates.current is not None and rates.previous is not None
    assert (rates.current.price, rates.current.included_minutes) == (Decimal("45.00"), 20)
    assert (rates.previous.price, rates.previous.included_minutes) == (Decimal("160.00"), 30)
    assert (rates.overtime_price, rates.overtime_block_minutes) == (Decimal("35.00"), 30)
    assert "data-recovery" in rates.hourly and "data-recovery" in policy.scope.billable_services
    assert policy.entitlement.previous_version == "billable"
    assert policy.entitlement.block_overdue
    assert set(policy.scope.always_supported) == {
        "download",
        "defective-media",
        "installation",
        "activation",
    }
    assert {
        "other-software",
        "operating-system",
        "network",
        "shared-disks",
        "user-profiles",
        "e-mail",
    } <= set(policy.scope.out_of_scope)


def test_opmon() -> None:
    policy = load("opmon")
    calendar = policy.calendars["porto-alegre"]
    assert calendar.timezone == "America/Sao_Paulo"
    assert calendar.holidays == ("BR-RS",)
    assert calendar.hours == week(WEEKDAYS_MON_FRI, "08:00-18:00")
    pro, premium = policy.plans["pro"], policy.plans["premium"]
    assert pro.channels == premium.channels == ("portal",)
    assert set(policy.channels) - {"portal"}  # another channel exists, and no plan takes it
    assert not pro.services and pro.consultancy_hours == 0
    assert {"incident-24x7", "onsite-visit"} <= set(premium.services)
    assert premium.consultancy_hours > 0
    entitlement = policy.entitlement
    assert entitlement.named_contacts_only
    assert entitlement.latest_release_only
    assert entitlement.eol_notice_days == 365
    assert policy.rates is not None and policy.rates.incident_price is not None
    assert policy.plans["pay-per-incident"].billing == "pay_per_incident"
    assert {
        "third-party-software",
        "operating-system",
        "network",
        "hardware",
        "printers",
        "workstations",
    } <= set(policy.scope.out_of_scope)


def test_progresssoft() -> None:
    policy = load("progresssoft")
    amman = policy.calendars["amman"]
    assert amman.timezone == "Asia/Amman"
    assert amman.holidays == ("JO",)
    assert amman.hours == week((6, 0, 1, 2, 3), "08:00-16:00")  # Sunday to Thursday
    assert not policy.plans["assistance"].warranty
    assert policy.plans["warranty"].warranty
    assert policy.entitlement.warranty_days == 90
    onsite = policy.metrics["onsite"]
    assert (onsite.start, onsite.stop) == ("onsite_requested", ("onsite_arrived",))
    for plan in policy.plans.values():
        assert plan.sla["onsite"] == {"critical": ranged(3, 4)}
    assert set(policy.required_fields) == {"version", "server", "os", "hardware", "task", "error"}
    assert set(policy.channels) == {"phone", "fax", "email", "ftp", "faq", "web"}
