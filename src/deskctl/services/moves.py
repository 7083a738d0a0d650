"""Ticket moves written through the DBAPI, for the moves that need no ORM.

A move reads the ticket row (locked on PostgreSQL), its history and policy,
asks ``deskctl.domain.lifecycle`` for the next events, and writes them the way
``services.tickets.apply`` does: one UPDATE of the projection guarded by the
row's ``rev`` (compare-and-set) and one INSERT per event, in one transaction.
The SQL is written once here; a test checks that a move made here and the same
move made through the ORM leave identical rows.

A move with effects beyond the ticket's rows -- a close (the parent of a
sub-ticket learns it, the customer is notified), a response or a solution
(notifications) -- stays on the ORM path (``services.flow``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deskctl.domain import events as ev
from deskctl.domain import lifecycle
from deskctl.domain.events import Event
from deskctl.domain.lifecycle import TicketState
from deskctl.errors import Conflict, NotFound
from deskctl.store.dbapi import Query, Writer
from deskctl.store.reads import masterdata as md
from deskctl.store.reads import tickets as rt

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


@dataclass
class Current:
    ticket: dict[str, Any]
    history: list[Event]
    state: TicketState
    policy: Any


_REV_LOCKED = Query(
    "SELECT id, rev, policy_version_id FROM ticket WHERE id = :id",
    pg="SELECT id, rev, policy_version_id FROM ticket WHERE id = :id FOR UPDATE",
)
# Events with side effects beyond the ticket's own rows (services.notify).
_ORM_ONLY = (ev.RESPONDED, ev.RESOLVED)
_INSERT_EVENT = Query(
    "INSERT INTO ticket_event (ticket_id, seq, at, kind, actor, from_status, to_status, note,"
    " data) VALUES (:ticket_id, :seq, :at, :kind, :actor, :from_status, :to_status, :note,"
    " :data)"
)


def load(w: Writer, ticket_id: int, ctx: Ctx) -> Current:
    """The ticket (its row locked), its history, replayed state and policy."""
    row = w.one(_REV_LOCKED, id=ticket_id)
    if row is None:
        raise NotFound(f"no ticket {ticket_id}")
    if ctx.if_rev is not None and row["rev"] != ctx.if_rev:
        raise Conflict(
            f"ticket {ticket_id} is at rev {row['rev']}, not {ctx.if_rev}: "
            "it changed meanwhile; look at it again"
        )
    if row["policy_version_id"] is None:
        raise NotFound(f"ticket {ticket_id} has no policy version")
    policy = md.policy_by_version_id(w, row["policy_version_id"])[1]
    history = rt.events(w, ticket_id)
    return Current(row, history, lifecycle.project(history), policy)


def _update_query(columns: Sequence[str]) -> Query:
    sets = ", ".join(f"{c} = :{c}" for c in columns)
    return Query(f"UPDATE ticket SET {sets} WHERE id = :id AND rev = :expected")


def apply(w: Writer, cur: Current, new_events: Sequence[Event], *, now: datetime) -> TicketState:
    """Append ``new_events`` and refresh the projection and SLA columns, compare-and-set."""
    from deskctl.domain.sla_facts import columns as sla_columns

    if any(e.kind in _ORM_ONLY or e.to_status == "closed" for e in new_events):
        # customer notifications and the parent of a sub-ticket: services.tickets.apply
        raise NotImplementedError("this move goes through services.flow")
    everything = [*cur.history, *new_events]
    state = lifecycle.project(everything)
    values: dict[str, Any] = projection(state)
    sla = sla_columns(cur.policy, everything, now)
    values["sla_state"] = sla["sla_state"]
    values["sla_due_at"] = sla["sla_due_at"]
    values["sla_clocks"] = w.json(sla["sla_clocks"], none_as_null=True)
    expected = cur.ticket["rev"]
    values["rev"] = expected + len(new_events)
    values["updated_at"] = max(e.at for e in new_events)
    touched = w.execute(
        _update_query(sorted(values)), id=cur.ticket["id"], expected=expected, **values
    )
    if touched != 1:
        raise Conflict(
            f"ticket {cur.ticket['id']} was changed by someone else meanwhile; try again"
        )
    for event in new_events:
        w.execute(_INSERT_EVENT, **_event_row(w, cur.ticket["id"], event))
    return state


def _event_row(w: Writer, ticket_id: int, event: Event) -> dict[str, Any]:
    data = dict(event.data)
    note = data.pop("note", None)
    return {
        "ticket_id": ticket_id,
        "seq": event.seq,
        "at": event.at,
        "kind": event.kind,
        "actor": event.actor,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": note,
        "data": w.json(data or None),
    }


# -- the moves -------------------------------------------------------------------------

_AGENT = Query("SELECT login, team FROM agent WHERE login = :login")
_AGENTS = Query("SELECT login FROM agent ORDER BY login")


def assign(w: Writer, ticket_id: int, ctx: Ctx, to: str, team: str | None = None) -> Change:
    """Assign to a registered agent (any login while none is registered); the agent's
    team unless ``team`` is given."""
    login = to.strip()
    agent = w.one(_AGENT, login=login) if login else None
    if agent is None and login:
        known = w.scalars(_AGENTS)
        if known:
            raise NotFound(f"no agent {login!r}; agents: {', '.join(known)}")
    if team is None and agent is not None:
        team = agent["team"]
    cur = load(w, ticket_id, ctx)
    new = [
        lifecycle.plan_assign(
            cur.state, now=ctx.now, actor=ctx.actor, assignee=login, team=team, note=ctx.note
        )
    ]
    after = apply(w, cur, new, now=ctx.now)
    return Change(ticket_id, cur.state.status, after, new)
