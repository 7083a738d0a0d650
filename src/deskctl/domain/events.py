"""The ticket event: one entry of the append-only history.

A ticket's current state is derived by replaying its events in ``seq`` order.
An event with ``to_status`` set moves the ticket; ``data`` carries the rest
(severity, outcome, minutes, note...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Event kinds. Every kind may carry a status move (from_status/to_status).
OPENED = "opened"  # data: intake fields, policy_version, plan, calendar
UPDATED = "updated"  # intake fields supplied later
INFO_COMPLETE = "info_complete"  # required fields now present (clock start for info_complete)
TRIAGED = "triaged"  # data: severity, category, topic, impact, urgency
APPROVED = "approved"
DECLINED = "declined"
ASSIGNED = "assigned"  # data: assignee, team
RESPONDED = "responded"  # first response (stops the response metric)
STARTED = "started"
WAITING = "waiting"  # data: on = customer | third-party, vendor
RESUMED = "resumed"
FORWARDED = "forwarded"  # data: vendor
SPLIT = "split"  # data: children (ids)
CHILD_CLOSED = "child_closed"  # data: child; parent resumes when the last one closes
RESOLVED = "resolved"  # data: solution (enters awaiting_verification)
CONFIRMED = "confirmed"  # customer confirmed the solution
SOLUTION_REJECTED = "solution_rejected"
CLOSED = "closed"  # data: outcome, reason
REOPENED = "reopened"
REDIRECTED = "redirected"  # data: kb article
COMMENTED = "commented"
WORKLOG = "worklog"  # data: minutes (may be negative for a correction), kind, note
CONTACT_ATTEMPT = "contact_attempt"  # data: via, outcome
PROTOCOL_STEP = "protocol_step"  # data: step index, action, due_at
ONSITE_REQUESTED = "onsite_requested"
ONSITE_ARRIVED = "onsite_arrived"
REPORT_REQUESTED = "report_requested"
REPORT_DELIVERED = "report_delivered"
PLAN_CHANGED = "plan_changed"  # data: plan, calendar
CUSTOMER_REPLIED = "customer_replied"  # data: text, message_id, attachments (mail fetch)


@dataclass(frozen=True)
class Event:
    seq: int
    at: datetime  # UTC-aware
    kind: str
    actor: str = ""
    from_status: str | None = None
    to_status: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
