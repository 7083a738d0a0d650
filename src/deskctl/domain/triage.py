"""Intake and triage rules (docs/rules.md §4): severity, scope category, required fields.

Pure functions over the policy dataclasses; the lifecycle module turns their
answers into events.

Decisions on points the spec leaves open:

- A topic (case type) is compared normalised: lowercase, trimmed, inner runs of
  whitespace collapsed to one space.
- ``classify_topic``: when a policy lists one topic under several categories,
  ``always_supported`` wins over ``billable_service``, which wins over
  ``out_of_scope`` (a vendor who names a paid service for a topic means to sell
  it rather than turn the customer away).
- ``misuse`` closes ``redirected`` and needs a knowledge-base article (the
  redirect is the answer the customer gets; the KB home page will do).
- Only ``out_of_scope`` converts to a billable service; ``billable_service`` is
  billable anyway, so asking to convert it is accepted and changes nothing.
- Missing required fields keep a ticket out of the queue: from ``draft`` (or
  from ``awaiting_customer``, where a draft waits for the missing data) the
  ticket may not go to ``queued``, ``awaiting_approval`` or ``in_progress``.
  Asking the customer (``awaiting_customer``) and closing (duplicate, out of
  scope, misuse) stay possible: nobody should have to collect a hardware model
  number to reject a request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from deskctl.domain.policy import CATEGORIES, ScopeRules, SeverityScheme
from deskctl.errors import BadInput, Refused

# Moves that put a ticket in the queue or in front of an engineer.
_WORK_STATES = ("queued", "awaiting_approval", "in_progress")
# States where a ticket may still lack its intake data.
_INTAKE_STATES = ("draft", "awaiting_customer")


@dataclass(frozen=True)
class TriageDecision:
    """What happens to a ticket once its scope category is known."""

    category: str
    target: str  # the status the ticket moves to
    outcome: str | None = None  # set when the target is ``closed``
    needs_approval: bool = False  # the customer must approve the cost first
    billable: bool = False  # billed on the policy's service rate
    needs_kb_article: bool = False  # misuse: the redirect must name an article


def normalise_topic(topic: str) -> str:
    return " ".join(topic.split()).lower()


def _match_level(value: str, levels: Sequence[str], what: str) -> str:
    wanted = value.strip().lower()
    for level in levels:
        if level.lower() == wanted:
            return level
    raise BadInput(f"{what} {value!r} is not a level; use one of: {', '.join(levels)}")


def severity_from_matrix(scheme: SeverityScheme, impact: str, urgency: str) -> str:
    """The severity of the policy's impact × urgency matrix (levels matched case-insensitively)."""
    if not scheme.matrix:
        raise BadInput(
            "this policy has no impact × urgency matrix; give a severity directly "
            f"({', '.join(scheme.order)})"
        )
    levels = scheme.levels or tuple(dict.fromkeys(i for i, _ in scheme.matrix))
    impact_level = _match_level(impact, levels, "impact")
    urgency_level = _match_level(urgency, levels, "urgency")
    try:
        return scheme.matrix[(impact_level, urgency_level)]
    except KeyError:
        raise BadInput(
            f"the policy's matrix has no severity for impact {impact_level} × urgency "
            f"{urgency_level}; give a severity directly ({', '.join(scheme.order)})"
        ) from None


def resolve_severity(
    scheme: SeverityScheme,
    *,
    severity: str | None = None,
    impact: str | None = None,
    urgency: str | None = None,
) -> str:
    """Severity from exactly one source: a severity, or impact and urgency together."""
    by_matrix = impact is not None or urgency is not None
    if severity is not None and by_matrix:
        raise BadInput("give either a severity or impact and urgency, not both")
    if severity is not None:
        for name in scheme.order:
            if name.lower() == severity.strip().lower():
                return name
        raise BadInput(
            f"unknown severity {severity!r}; severities, most severe first: "
            f"{', '.join(scheme.order)}"
        )
    if impact is None or urgency is None:
        if by_matrix:
            raise BadInput("impact and urgency go together; give both")
        raise BadInput(f"give a severity ({', '.join(scheme.order)}) or impact and urgency")
    return severity_from_matrix(scheme, impact, urgency)


def classify_topic(scope: ScopeRules, topic: str | None) -> str | None:
    """The scope category the policy's topic lists suggest, or None when they say nothing."""
    if topic is None or not topic.strip():
        return None
    wanted = normalise_topic(topic)
    lists = (
        ("always_supported", scope.always_supported),
        ("billable_service", scope.billable_services),
        ("out_of_scope", scope.out_of_scope),
    )
    for category, topics in lists:
        if any(normalise_topic(t) == wanted for t in topics):
            return category
    return None


def triage_outcome(category: str, *, convert_to_billable: bool = False) -> TriageDecision:
    """Where a ticket goes once triaged into ``category`` (docs/rules.md §4)."""
    if category not in CATEGORIES:
        raise BadInput(f"unknown category {category!r}; use one of: {', '.join(CATEGORIES)}")
    if convert_to_billable and category not in ("out_of_scope", "billable_service"):
        raise BadInput(f"only an out_of_scope case converts to a billable service, not {category}")
    if category in ("defect", "always_supported"):
        return TriageDecision(category, "queued")
    if category == "misuse":
        return TriageDecision(category, "closed", outcome="redirected", needs_kb_article=True)
    if category == "out_of_scope" and not convert_to_billable:
        return TriageDecision(category, "closed", outcome="rejected")
    return TriageDecision(category, "awaiting_approval", needs_approval=True, billable=True)


def missing_fields(fields: Mapping[str, str | None], required: Sequence[str]) -> list[str]:
    """Required fields that are absent or blank, in the policy's order."""
    return [name for name in required if not (fields.get(name) or "").strip()]


def info_complete_reached(before_missing: Sequence[str], after_missing: Sequence[str]) -> bool:
    """True when an update supplied the last missing field (the info_complete clock start)."""
    return bool(before_missing) and not after_missing


def check_fields_complete(current: str, target: str, missing: Sequence[str]) -> None:
    """Refuse to queue, approve or start a ticket whose required fields are missing."""
    if missing and current in _INTAKE_STATES and target in _WORK_STATES:
        raise Refused(
            f"ticket is {current} and misses required fields: {', '.join(missing)}; "
            "supply them or move it to awaiting_customer"
        )


def check_misuse_repeat(contact: str, topic: str, previous: Iterable[tuple[int, str, str]]) -> None:
    """Refuse a case type a contact was already redirected to the knowledge base for.

    ``previous`` holds (ticket_id, contact, topic) of tickets closed as misuse.
    Contacts compare case-insensitively, topics normalised.
    """
    who = contact.strip().lower()
    what = normalise_topic(topic)
    earlier = sorted(
        ticket_id
        for ticket_id, seen_contact, seen_topic in previous
        if seen_contact.strip().lower() == who and normalise_topic(seen_topic) == what
    )
    if earlier:
        raise Refused(
            f"contact {contact.strip()} was already redirected to the knowledge base for "
            f"topic {what} on ticket #{earlier[0]}; this case type is not accepted again"
        )
