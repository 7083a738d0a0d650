"""The closure protocol's part of the sweep (docs/rules.md §6): which tickets awaiting
verification have a step due, and the steps of one ticket in its own transaction
(reminders, the agenda e-mail, the automatic close). See services.sweep for the
guarantees."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select
from sqlmodel import Session, col

from deskctl.clock import iso_z, local_text
from deskctl.domain import closure, lifecycle
from deskctl.domain.events import PROTOCOL_STEP, Event
from deskctl.domain.lifecycle import TicketState
from deskctl.domain.policy import Policy
from deskctl.services import tickets
from deskctl.services.agenda_mail import agenda_mail
from deskctl.services.sweep_core import (
    AV,
    SUPPORT,
    Action,
    Context,
    StepHook,
    lock,
    notify_agent,
    protocol_of,
)
from deskctl.store import db
from deskctl.store.models import Contact, SweepStep, Ticket, pk, table_of

# -- protocol: selection --------------------------------------------------------------


@dataclass(frozen=True)
class _Verifying:
    id: int
    policy_version_id: int | None
    calendar: str | None
    resolved_at: datetime | None
    round: int
    done: frozenset[str]


def verifying_page(after: int, size: int) -> Any:
    """One batch of tickets awaiting verification: keyset on ``ix_ticket_status_id``."""
    return (
        select(
            col(Ticket.id),
            col(Ticket.policy_version_id),
            col(Ticket.calendar),
            col(Ticket.resolved_at),
        )
        .where(col(Ticket.status) == AV, col(Ticket.id) > after)
        .order_by(col(Ticket.id))
        .limit(size)
    )


def _verifying_batches(engine: Engine, batch: int) -> Iterator[list[_Verifying]]:
    """Tickets awaiting verification, in id order, ``batch`` at a time (short reads)."""
    from sqlalchemy import func

    from deskctl.store.models import TicketEvent

    last = 0
    while True:
        with db.session(engine) as s:
            rows = s.execute(verifying_page(last, batch)).all()
            if not rows:
                return
            ids = [r.id for r in rows]
            rounds: dict[int, int] = dict(
                s.execute(
                    select(col(TicketEvent.ticket_id), func.count())
                    .where(col(TicketEvent.ticket_id).in_(ids), col(TicketEvent.to_status) == AV)
                    .group_by(col(TicketEvent.ticket_id))
                ).all()
            )
            done: dict[int, set[str]] = {}
            for tid, key in s.execute(
                select(col(SweepStep.ticket_id), col(SweepStep.key)).where(
                    col(SweepStep.ticket_id).in_(ids), col(SweepStep.key).startswith("protocol:")
                )
            ):
                done.setdefault(tid, set()).add(key)
        yield [
            _Verifying(
                r.id,
                r.policy_version_id,
                r.calendar,
                r.resolved_at,
                int(rounds.get(r.id, 0)),
                frozenset(done.get(r.id, ())),
            )
            for r in rows
        ]
        last = ids[-1]


def candidates(ctx: Context, batch: int) -> Iterator[int]:
    for rows in _verifying_batches(ctx.engine, batch):
        with db.session(ctx.engine) as s:
            due = [r.id for r in rows if _maybe_due(ctx, s, r)]
        yield from due


def _maybe_due(ctx: Context, session: Session, row: _Verifying) -> bool:
    """Is the ticket's next undone step due? (Steps fall due in (offset, index) order.)"""
    policy = ctx.policy(session, row.policy_version_id)
    protocol = protocol_of(policy)
    if protocol is None or policy is None:
        return False
    if row.resolved_at is None or row.round < 1:
        return True  # unusual log: let the exact check decide
    for index in ctx.step_order(protocol):
        step = protocol.steps[index]
        if closure.step_key(row.id, row.round, index) in row.done:
            if step.action == closure.CLOSE:
                return False
            continue
        if step.offset == 0:
            return row.resolved_at <= ctx.now
        clock = ctx.protocol_clock(policy, row.calendar)
        return bool(clock.due(row.resolved_at, step.offset) <= ctx.now)
    return False


def sweep_ticket(
    ctx: Context, ticket_id: int, dry_run: bool, hook: StepHook | None
) -> list[Action]:
    with db.session(ctx.engine, write=not dry_run) as s:
        lock(s, ticket_id, dry_run)
        ticket, history, state = tickets.current(s, ticket_id, for_update=not dry_run)
        policy = ctx.policy(s, ticket.policy_version_id)
        protocol = protocol_of(policy)
        active = closure.current_round(history)
        if state.status != AV or protocol is None or policy is None or active is None:
            return []
        clock = ctx.protocol_clock(policy, ticket.calendar)
        schedule = closure.protocol_schedule(
            active[1], protocol, clock, ticket_id=ticket_id, round=active[0]
        )
        due = closure.due_steps(schedule, closure.done_keys(history), ctx.now)
        if dry_run:
            return [Action(ticket_id, st.action, st.due_at, st.key, _preview(st)) for st in due]
        run = _ProtocolRun(ctx, s, ticket, history, state, policy, schedule, active[0])
        actions = []
        for step in due:
            actions.append(run.perform(step))
            if hook is not None:
                hook(actions[-1])
        run.finish()
        return actions


def _preview(step: closure.ScheduledStep) -> str:
    return {
        "contact": "would remind the engineer to contact the customer",
        "call": "would remind the engineer to call the customer",
        "email": "would e-mail the engineer's agenda to the customer",
        "close": f"would close the ticket as {step.outcome}",
    }.get(step.action, f"would record step {step.action}")


class _ProtocolRun:
    """The steps of one ticket inside its transaction; events are appended at the end."""

    def __init__(
        self,
        ctx: Context,
        session: Session,
        ticket: Ticket,
        history: list[Event],
        state: TicketState,
        policy: Policy,
        schedule: Sequence[closure.ScheduledStep],
        round_no: int,
    ) -> None:
        self.ctx, self.s, self.ticket, self.history = ctx, session, ticket, history
        self.policy, self.schedule, self.round = policy, schedule, round_no
        self.state = state
        self.new: list[Event] = []
        self.ticket_id = pk(ticket)

    def _append(self, event: Event) -> None:
        self.new.append(event)
        self.state = lifecycle.project([*self.history, *self.new])

    def perform(self, step: closure.ScheduledStep) -> Action:
        now = self.ctx.now
        skipped = self.skip_reason(step)
        recorded: dict[str, Any] = {"round": self.round, "index": step.index}
        if skipped:
            recorded["skipped"] = skipped
        self.s.execute(
            insert(table_of(SweepStep)).values(
                key=step.key,
                ticket_id=self.ticket_id,
                action=step.action,
                due_at=step.due_at,
                done_at=now,
                data=recorded,
            )
        )
        data: dict[str, Any] = {
            "key": step.key,
            "index": step.index,
            "round": self.round,
            "action": step.action,
            "due_at": iso_z(step.due_at),
            "done_at": iso_z(now),
        }
        if step.note:
            data["note"] = step.note
        if skipped:
            data["skipped"] = skipped
        self._append(
            Event(self.state.version + 1, step.due_at, PROTOCOL_STEP, self.ctx.actor, data=data)
        )
        if skipped:
            return Action(
                self.ticket_id, step.action, step.due_at, step.key, f"skipped ({skipped})"
            )
        detail = getattr(self, f"_do_{step.action}", self._do_other)(step)
        return Action(self.ticket_id, step.action, step.due_at, step.key, detail)

    def _recipient(self) -> str:
        return self.state.assignee or SUPPORT

    def _remind(self, step: closure.ScheduledStep, verb: str) -> str:
        recipient = self._recipient()
        who = self.state.contact or "the customer"
        number = self.schedule.index(step) + 1
        message = (
            f"{verb} {who} about ticket #{self.ticket_id} ({self.ticket.title}): did the "
            f"solution work? Closure protocol step {number} of {len(self.schedule)}, "
            f"due {local_text(step.due_at, self._zone())}."
        )
        notify_agent(
            self.s,
            step.key,
            self.ticket_id,
            recipient,
            f"protocol_{step.action}",
            message,
            step.due_at,
            self.ctx.now,
        )
        return f"reminder for {recipient}"

    def _do_contact(self, step: closure.ScheduledStep) -> str:
        return self._remind(step, "Contact")

    def _do_call(self, step: closure.ScheduledStep) -> str:
        return self._remind(step, "Call")

    def _do_email(self, step: closure.ScheduledStep) -> str:
        contact = self._contact()
        if contact is None:
            return "no contact e-mail: nothing sent"
        composed = agenda_mail(
            self.ctx, self.s, self.ticket, self.state, self.policy, self.schedule, contact
        )
        if composed is None:
            return "no contact e-mail: nothing sent"
        from deskctl.services import notify

        subject, text, html = composed
        notify.send(
            self.s,
            key=step.key,
            ticket=self.ticket,
            policy=self.policy,
            recipient=contact.email,
            subject=subject,
            text=text,
            html=html,
            now=self.ctx.now,
        )
        return f"agenda e-mail to {contact.email} queued"

    def skip_reason(self, step: closure.ScheduledStep) -> str | None:
        """Why a catch-up must not send this e-mail: a later step (the next e-mail or
        the close) is already due, so its deadline and its agenda have passed."""
        if step.action != "email":
            return None
        later = [
            st
            for st in self.schedule
            if (st.due_at, st.index) > (step.due_at, step.index)
            and st.action in ("email", closure.CLOSE)
        ]
        nxt = min(later, key=lambda st: (st.due_at, st.index), default=None)
        if nxt is None or nxt.due_at > self.ctx.now:
            return None
        what = "the automatic close" if nxt.action == closure.CLOSE else "the next e-mail"
        return f"late: {what} was due {iso_z(nxt.due_at)} before this sweep ran"

    def _do_close(self, step: closure.ScheduledStep) -> str:
        outcome = step.outcome or closure.DEFAULT_CLOSE_OUTCOME
        closing = lifecycle.plan_close(
            self.state,
            outcome,
            now=step.due_at,
            actor=self.ctx.actor,
            reason="closure protocol",
            note="no answer from the customer within the closure protocol",
            by_protocol=True,
        )
        self._append(closing)
        return f"closed {outcome}"

    def _do_other(self, step: closure.ScheduledStep) -> str:
        return f"step {step.action} recorded"

    def _contact(self) -> Contact | None:
        if self.ticket.contact_id is None:
            return None
        return self.s.get(Contact, self.ticket.contact_id)

    def _zone(self) -> ZoneInfo:
        return self.ctx.zone(self.policy, self.ticket.calendar)

    def finish(self) -> None:
        # tickets.apply also tells a parent when its sub-ticket closes (same transaction)
        tickets.apply(
            self.s, self.ticket, self.history, self.new, now=self.ctx.now, policy=self.policy
        )
