"""Business seconds a ticket's customer waited, as ``report overview`` measures them
(pure: no store, no clock).

Stored on the ticket row (``response_business_seconds``,
``resolution_business_seconds``, migration 0014) by every writer of the SLA columns,
so the overview reads them instead of measuring a million tickets:

- the clock starts at ``opened_at``, or at ``info_complete_at`` when the policy's
  clock starts there and the ticket got there;
- response: to ``responded_at``; resolution: to ``resolved_at`` (the solution
  proposed), or to ``closed_at`` for a ticket closed ``resolved`` without a
  verification step;
- on the ticket's plan calendar, else the policy's first calendar (a ticket
  without a contract has no plan calendar);
- pauses are not deducted: this is the time the customer waited, not the SLA's.

A ticket without a policy, or with a calendar its policy does not name, gets None
(the overview measures it as it always did, and says so if the calendar is unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from deskctl.domain.policy import Policy
from deskctl.domain.sla_facts import calendar_of

COLUMNS = ("response_business_seconds", "resolution_business_seconds")
# The ticket row's columns the rule reads (besides the policy).
INPUTS = (
    "calendar",
    "opened_at",
    "info_complete_at",
    "responded_at",
    "resolved_at",
    "outcome",
    "closed_at",
)


_At = TypeVar("_At", datetime, int)  # an instant, or whole epoch seconds


def clock_start(policy: Policy, opened: _At, info_complete: _At | None) -> _At:
    if policy.clock.start == "info_complete" and info_complete is not None:
        return info_complete
    return opened


def solved_at(resolved: _At | None, outcome: str | None, closed: _At | None) -> _At | None:
    """The solution proposed, else the close of a ticket closed ``resolved`` outright."""
    if resolved is not None:
        return resolved
    return closed if outcome == "resolved" else None


def calendar_name(policy: Policy, calendar: str | None) -> str | None:
    """The ticket's plan calendar, else the policy's first; None when neither exists."""
    if calendar:
        return calendar if calendar in policy.calendars else None
    return next(iter(policy.calendars), None)


def waits(policy: Policy | None, row: Mapping[str, Any]) -> dict[str, int | None]:
    """The two stored columns for a ticket row (a mapping holding ``INPUTS``)."""
    out: dict[str, int | None] = dict.fromkeys(COLUMNS)
    if policy is None or row.get("opened_at") is None:
        return out
    name = calendar_name(policy, row.get("calendar"))
    if name is None:
        return out
    ends = (
        row.get("responded_at"),
        solved_at(row.get("resolved_at"), row.get("outcome"), row.get("closed_at")),
    )
    if ends == (None, None):
        return out
    calendar = calendar_of(policy, name)
    start = _utc(clock_start(policy, row["opened_at"], row.get("info_complete_at")))
    for column, end in zip(COLUMNS, ends, strict=True):
        if end is not None:
            out[column] = calendar.elapsed(start, _utc(end))
    return out


def waits_epoch(
    policy: Policy,
    calendar: str | None,
    instants: tuple[int, int | None, int | None, int | None, int | None],
    outcome: str | None,
) -> tuple[int | None, int | None]:
    """``waits`` on whole epoch seconds (opened, info complete, responded, resolved,
    closed), for a writer that holds its instants as integers (``demo``)."""
    name = calendar_name(policy, calendar)
    if name is None:
        return None, None
    opened, info, responded, resolved, closed = instants
    solved = solved_at(resolved, outcome, closed)
    if responded is None and solved is None:
        return None, None
    elapsed = calendar_of(policy, name).elapsed_epoch
    start = clock_start(policy, opened, info)
    return (
        None if responded is None else elapsed(start, responded),
        None if solved is None else elapsed(start, solved),
    )


def _utc(at: datetime) -> datetime:
    """Stored instants are UTC; a backend may hand them back without the offset."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
