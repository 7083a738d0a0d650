"""The vocabulary of a ticket move, shared by the one command path (``services.flow``)
and ``services.tickets.apply``: who acts and when (``Ctx``), what a command did
(``Change``), and which ticket columns are a projection of the event log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deskctl.domain.events import Event
from deskctl.domain.lifecycle import TicketState

TICKET_FIELDS = ("product", "version", "os", "server", "hardware", "task", "error", "description")
PROJECTED = (
    "status",
    "outcome",
    "severity",
    "category",
    "topic",
    "assignee",
    "team",
    "plan",
    "calendar",
    "parent_id",
    "responded_at",
    "resolved_at",
    "closed_at",
    "info_complete_at",
)


def projection(state: TicketState) -> dict[str, Any]:
    """The ticket row's columns as the event log says they are."""
    values = {name: getattr(state, name) for name in PROJECTED}
    for name in TICKET_FIELDS:
        values[name] = state.fields.get(name)
    return values


@dataclass(frozen=True)
class Ctx:
    """Who acts, when, with which note, and the rev the caller expects (``--if-rev``)."""

    now: datetime
    actor: str
    note: str | None = None
    if_rev: int | None = None


@dataclass
class Change:
    """What a command did: the ticket, its status before and its state after."""

    ticket_id: int
    before: str
    state: TicketState
    events: list[Event]
    children: list[int] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
