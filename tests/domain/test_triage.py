"""Triage rules: severity matrix, scope categories, required fields, misuse repeats."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskctl.domain import triage as tr
from deskctl.domain.policy import ScopeRules, SeverityScheme
from deskctl.errors import BadInput, Refused

LEVELS = ("high", "medium", "low")

# docs/rules.md §5: high×high, high×medium, medium×high → 1; medium×medium, high×low,
# low×high → 2; otherwise 3.
IMEXHS_CELLS = [
    ("high", "high", "1"),
    ("high", "medium", "1"),
    ("medium", "high", "1"),
    ("medium", "medium", "2"),
    ("high", "low", "2"),
    ("low", "high", "2"),
    ("medium", "low", "3"),
    ("low", "medium", "3"),
    ("low", "low", "3"),
]
IMEXHS = SeverityScheme(
    order=("1", "2", "3"),
    levels=LEVELS,
    matrix={(i, u): sev for i, u, sev in IMEXHS_CELLS},
)
MEDISOFT = SeverityScheme(order=("high", "medium", "low"))


def test_the_imexhs_table_covers_every_cell_once():
    assert sorted((i, u) for i, u, _ in IMEXHS_CELLS) == sorted(
        (i, u) for i in LEVELS for u in LEVELS
    )


@pytest.mark.parametrize(("impact", "urgency", "severity"), IMEXHS_CELLS)
def test_imexhs_matrix(impact, urgency, severity):
    assert tr.severity_from_matrix(IMEXHS, impact, urgency) == severity
    assert tr.resolve_severity(IMEXHS, impact=impact, urgency=urgency) == severity
    # typed by hand on a command line
    assert tr.severity_from_matrix(IMEXHS, f" {impact.upper()}", urgency.title()) == severity


def test_matrix_reads_impact_first_then_urgency():
    lopsided = SeverityScheme(
        order=("a", "b"),
        levels=("x", "y"),
        matrix={("x", "x"): "a", ("x", "y"): "a", ("y", "x"): "b", ("y", "y"): "b"},
    )
    assert tr.severity_from_matrix(lopsided, "x", "y") == "a"
    assert tr.severity_from_matrix(lopsided, "y", "x") == "b"


def test_unknown_level_names_the_valid_levels():
    with pytest.raises(
        BadInput, match="impact 'huge' is not a level; use one of: high, medium, low"
    ):
        tr.severity_from_matrix(IMEXHS, "huge", "low")
    with pytest.raises(BadInput, match="urgency 'now'"):
        tr.severity_from_matrix(IMEXHS, "low", "now")


def test_policy_without_matrix_asks_for_a_severity():
    with pytest.raises(BadInput, match="high, medium, low"):
        tr.severity_from_matrix(MEDISOFT, "high", "high")


def test_incomplete_matrix_is_reported():
    partial = SeverityScheme(
        order=("1", "2"), levels=("high", "low"), matrix={("high", "high"): "1"}
    )
    with pytest.raises(BadInput, match="no severity for impact low × urgency high"):
        tr.severity_from_matrix(partial, "low", "high")


def test_resolve_severity_takes_exactly_one_source():
    assert tr.resolve_severity(MEDISOFT, severity="Medium") == "medium"
    assert tr.resolve_severity(IMEXHS, severity="2") == "2"
    with pytest.raises(BadInput, match="not both"):
        tr.resolve_severity(IMEXHS, severity="1", impact="high", urgency="high")
    with pytest.raises(BadInput, match="not both"):
        tr.resolve_severity(IMEXHS, severity="1", urgency="high")
    with pytest.raises(BadInput, match="give a severity"):
        tr.resolve_severity(IMEXHS)
    with pytest.raises(BadInput, match="give both"):
        tr.resolve_severity(IMEXHS, impact="high")
    with pytest.raises(BadInput, match="most severe first: high, medium, low"):
        tr.resolve_severity(MEDISOFT, severity="urgent")


SCOPE = ScopeRules(
    always_supported=("Download", "Defective media", "Installation/activation"),
    out_of_scope=("Third-party software", "Operating system", "Network", "Reports"),
    billable_services=("Customisation", "Reports", "Data recovery"),
)


@pytest.mark.parametrize(
    ("topic", "category"),
    [
        ("download", "always_supported"),
        ("  Defective   MEDIA ", "always_supported"),
        ("network", "out_of_scope"),
        ("Data recovery", "billable_service"),
        ("reports", "billable_service"),  # listed twice: the paid service wins
        ("viewer crash", None),
        ("", None),
        (None, None),
    ],
)
def test_classify_topic(topic, category):
    assert tr.classify_topic(SCOPE, topic) == category


@pytest.mark.parametrize(
    ("category", "convert", "target", "outcome", "approval", "billable"),
    [
        ("defect", False, "queued", None, False, False),
        ("always_supported", False, "queued", None, False, False),
        ("misuse", False, "closed", "redirected", False, False),
        ("out_of_scope", False, "closed", "rejected", False, False),
        ("out_of_scope", True, "awaiting_approval", None, True, True),
        ("billable_service", False, "awaiting_approval", None, True, True),
        ("billable_service", True, "awaiting_approval", None, True, True),
    ],
)
def test_triage_outcome(category, convert, target, outcome, approval, billable):
    decision = tr.triage_outcome(category, convert_to_billable=convert)
    assert (decision.target, decision.outcome, decision.needs_approval, decision.billable) == (
        target,
        outcome,
        approval,
        billable,
    )
    assert decision.needs_kb_article == (category == "misuse")


def test_triage_outcome_refuses_nonsense():
    with pytest.raises(BadInput, match="defect, always_supported, misuse"):
        tr.triage_outcome("bug")
    with pytest.raises(BadInput, match="only an out_of_scope case"):
        tr.triage_outcome("defect", convert_to_billable=True)


def test_missing_fields_in_policy_order():
    fields = {"product": "PACS", "version": "  ", "os": None, "task": "printing"}
    required = ("error", "version", "product", "os", "task")
    assert tr.missing_fields(fields, required) == ["error", "version", "os"]
    assert tr.missing_fields(fields, ()) == []


def test_info_complete_reached_only_on_the_transition():
    assert tr.info_complete_reached(["error"], [])
    assert not tr.info_complete_reached(["error", "os"], ["os"])
    assert not tr.info_complete_reached([], [])


@pytest.mark.parametrize("current", ["draft", "awaiting_customer"])
@pytest.mark.parametrize(
    ("target", "refused"),
    [
        ("queued", True),
        ("awaiting_approval", True),
        ("in_progress", True),
        ("awaiting_customer", False),
        ("draft", False),
        ("closed", False),
    ],
)
def test_incomplete_ticket_cannot_leave_draft_for_work(current, target, refused):
    if refused:
        with pytest.raises(Refused, match="misses required fields: version, error"):
            tr.check_fields_complete(current, target, ["version", "error"])
    else:
        tr.check_fields_complete(current, target, ["version", "error"])
    tr.check_fields_complete(current, target, [])


PREVIOUS = [(12, "ana@clinic.example", "Merge images"), (30, "bob@clinic.example", "Login")]


def test_misuse_repeat_is_refused_naming_the_earlier_ticket():
    with pytest.raises(Refused) as refused:
        tr.check_misuse_repeat("Ana@Clinic.Example", "  merge   IMAGES ", PREVIOUS)
    assert refused.value.message == (
        "contact Ana@Clinic.Example was already redirected to the knowledge base for topic "
        "merge images on ticket #12; this case type is not accepted again"
    )


def test_misuse_repeat_names_the_first_redirect():
    history = [(50, "ana@clinic.example", "login"), (20, "ANA@clinic.example", "Login")]
    with pytest.raises(Refused, match="ticket #20;"):
        tr.check_misuse_repeat("ana@clinic.example", "login", history)


@pytest.mark.parametrize(
    ("contact", "topic"),
    [("ana@clinic.example", "Login"), ("bob@clinic.example", "Merge images"), ("x@y", "login")],
)
def test_other_pairs_are_accepted(contact, topic):
    tr.check_misuse_repeat(contact, topic, PREVIOUS)


@settings(max_examples=100, deadline=None)
@given(
    st.text(alphabet="abcXYZ ", min_size=1, max_size=12).filter(str.strip),
    st.sampled_from([str.upper, str.lower, str.title, lambda t: f"  {t}  "]),
)
def test_topic_normalisation_ignores_case_and_spacing(topic, variant):
    with pytest.raises(Refused):
        tr.check_misuse_repeat(
            "ana@clinic.example", variant(topic), [(1, "ana@clinic.example", topic)]
        )
    assert tr.normalise_topic(variant(topic)) == tr.normalise_topic(topic)
