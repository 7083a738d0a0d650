"""The fixed words of the ticket lifecycle, apart from the policy model: a read command
that checks ``--status`` needs them without building the policy dataclasses."""

from __future__ import annotations

STATES = (
    "draft",
    "awaiting_approval",
    "queued",
    "in_progress",
    "awaiting_customer",
    "awaiting_subticket",
    "forwarded",
    "awaiting_verification",
    "closed",
)
OUTCOMES = ("resolved", "unresolved", "accepted", "rejected", "redirected", "cancelled")
CATEGORIES = ("defect", "always_supported", "misuse", "out_of_scope", "billable_service")
BILLING_MODES = ("included", "per_intervention", "pay_per_incident")
