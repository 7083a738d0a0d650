"""The vocabulary of a ticket move, shared by the one command path (``services.flow``)
and ``services.tickets.apply``: who acts and when (``Ctx``), what a command did
(``Change``), and which ticket columns are a projection of the event log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deskctl.domain.events import Event
from deskctl.domain.lifecycle import TicketState
from deskctl.errors import Conflict, NotFound
from deskctl.store import facts_dbapi
from deskctl.store.dbapi import Query, Writer, instant
from deskctl.store.facts_dbapi import fact_rows

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


def event_row(ticket_id: int, event: Event) -> dict[str, Any]:
    """The ``ticket_event`` row of an event: its note in a column of its own."""
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
        "data": data or None,
    }


def check_if_rev(ticket_id: int, rev: int, ctx: Ctx) -> None:
    """``--if-rev N``: only if nobody moved the ticket since the caller looked (exit 4)."""
    if ctx.if_rev is not None and rev != ctx.if_rev:
        raise Conflict(
            f"ticket {ticket_id} is at rev {rev}, not {ctx.if_rev}: "
            "it changed meanwhile; look at it again"
        )


def lost_race(ticket_id: int) -> Conflict:
    return Conflict(f"ticket {ticket_id} was changed by someone else meanwhile; try again")


def check_times(history: Sequence[Event], new_events: Sequence[Event]) -> None:
    """Every move takes this path: no event in the future, none before the opening."""
    from deskctl import clock
    from deskctl.domain import validate

    if not new_events:
        return
    now = max(clock.now(), clock.system_now())
    opened_at = history[0].at if history else min(e.at for e in new_events)
    for event in new_events:
        validate.event_time(event.at, now=now, opened_at=opened_at)
        for key, value in event.data.items():
            if isinstance(value, str):  # notes, messages, solutions: no terminal escapes
                validate.multi_line(value, key)


# -- moves written through the DBAPI -----------------------------------------------------
#
# ``ticket assign`` is the move scripts run on many tickets, and the ORM costs a process
# more than the move. It changes only the ticket's own rows (no notification, no parent,
# no billing), so it is written here through the DBAPI with the shared rules: the same
# role check (store.identity), validation, lifecycle builder, time checks, SLA columns and
# compare-and-set on ``rev`` as ``services.flow.assign`` + ``services.tickets.apply``.
# tests/store/test_light_moves.py makes the same move both ways and compares every table.

_TICKET_LOCKED = Query(
    "SELECT id, rev, policy_version_id, opened_at, customer_id FROM ticket WHERE id = :id",
    pg="SELECT id, rev, policy_version_id, opened_at, customer_id FROM ticket WHERE id = :id"
    " FOR UPDATE",
    types={"opened_at": instant},
)
_INSERT_EVENT = Query(
    "INSERT INTO ticket_event (ticket_id, seq, at, kind, actor, from_status, to_status, note,"
    " data) VALUES (:ticket_id, :seq, :at, :kind, :actor, :from_status, :to_status, :note,"
    " :data)"
)
_AGENT = Query("SELECT login, team FROM agent WHERE login = :login")
_AGENTS = Query("SELECT login FROM agent ORDER BY login")


def light_assign(w: Writer, ticket_id: int, ctx: Ctx, to: str, team: str | None = None) -> Change:
    """``services.flow.assign`` on a DBAPI write transaction (see above)."""
    from deskctl.domain import lifecycle, validate

    login = validate.one_line(to, "--to", limit=80, required=False)
    agent = w.one(_AGENT, login=login) if login else None
    if agent is None and login:
        # a ticket assigned to nobody who exists drops out of every --mine queue
        known = ", ".join(w.scalars(_AGENTS))
        hint = f"agents: {known}" if known else "add one with `deskctl agent add`"
        raise NotFound(f"no agent {login!r}; {hint}")
    if team is None and agent is not None:
        team = agent["team"]
    row, history, state, policy = _load(w, ticket_id, ctx)
    new = [
        lifecycle.plan_assign(
            state, now=ctx.now, actor=ctx.actor, assignee=login, team=team, note=ctx.note
        )
    ]
    after = _apply(w, row, history, new, policy, now=ctx.now)
    return Change(ticket_id, state.status, after, new)


def _load(w: Writer, ticket_id: int, ctx: Ctx) -> tuple[dict[str, Any], list[Event], Any, Any]:
    from deskctl.domain import lifecycle
    from deskctl.store.reads import masterdata as md
    from deskctl.store.reads import tickets as rt

    row = w.one(_TICKET_LOCKED, id=ticket_id)
    if row is None:
        raise NotFound(f"no ticket {ticket_id}")
    check_if_rev(ticket_id, row["rev"], ctx)
    history = rt.events(w, ticket_id)
    state = lifecycle.project(history)
    if row["policy_version_id"] is None:
        raise NotFound(f"ticket {ticket_id} has no policy version")
    policy = md.policy_by_version_id(w, row["policy_version_id"])[1]  # parsed once a process
    return row, history, state, policy


def _apply(
    w: Writer,
    row: dict[str, Any],
    history: Sequence[Event],
    new_events: Sequence[Event],
    policy: Any,
    *,
    now: datetime,
) -> TicketState:
    from deskctl.domain import lifecycle, sla_facts, tallies, waits

    if any(e.to_status for e in new_events):
        raise NotImplementedError("a move that changes status goes through services.flow")
    # nor does it change the topic, outcome or closing: no comeback link moves
    # (those writes go through services.tickets.record, which relinks)
    check_times(history, new_events)
    everything = [*history, *new_events]
    state = lifecycle.project(everything)
    values = projection(state)
    derived = sla_facts.derive(policy, everything, now)
    values.update(derived.columns)
    values.update(waits.waits(policy, {**values, "opened_at": row["opened_at"]}))
    values.update(tallies.of_events(everything))
    values["rev"] = row["rev"] + len(new_events)
    values["updated_at"] = max(e.at for e in new_events)
    sets = ", ".join(f"{c} = :{c}" for c in sorted(values))
    update = Query(f"UPDATE ticket SET {sets} WHERE id = :id AND rev = :expected")
    if w.execute(update, id=row["id"], expected=row["rev"], **values) != 1:
        raise lost_race(row["id"])
    for event in new_events:
        event_values = event_row(row["id"], event)
        event_values["data"] = w.json(event_values["data"])
        w.execute(_INSERT_EVENT, **event_values)
    keys = {**row, "severity": values["severity"]}
    stale = derived.columns["sla_stale_at"]
    facts_dbapi.replace(w, row["id"], fact_rows(row["id"], keys, derived.facts, now, stale))
    return state
