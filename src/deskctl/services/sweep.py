"""The sweep (docs/rules.md §6): everything that has fallen due, exactly once, safe to kill.

``run`` walks, at instant ``now``:

1. the tickets awaiting verification under a policy with a closure protocol, in
   id order and in batches (``ix_ticket_status_id``). A cheap pre-scan per batch
   (the ticket's ``resolved_at``, its round = number of entries into
   awaiting_verification, the step keys in ``sweep_step``) finds the tickets whose
   next undone step is due; each of those is then handled in its own write
   transaction, where its history is re-read under a lock and
   :func:`deskctl.domain.closure.protocol_due` decides. Every step records its key
   in ``sweep_step`` (unique) and in a PROTOCOL_STEP event dated at the step's
   scheduled time, in the same transaction as its effect:

   - ``contact`` / ``call``: a reminder (``notification``) for the assigned
     engineer, or for the pseudo-recipient ``support`` while nobody is assigned;
   - ``email``: a message to the ticket's contact with the engineer's agenda (the
     next business days' free slots, less the engineer's other protocol calls),
     queued in ``outbox_message`` and delivered after the commit (step 3);
   - ``close``: the ticket closes with the step's outcome (``accepted``) dated at
     the scheduled instant; a sub-ticket tells its parent in the same transaction
     (``services.tickets.apply`` does, through ``lifecycle.on_child_closed``), which
     resumes it when it was the last one.

2. SLA notices: open tickets whose ``sla_state`` (kept by the SLA service) is
   ``at_risk`` or ``breached``. The metrics are recomputed at ``now``; each
   (ticket, metric, state) is noticed once (key ``sla:{ticket}:{metric}:{state}``)
   to the assignee (or ``support``) and every manager, as a notification and, for
   agents with an e-mail address, an e-mail. Notices go out only while the
   ticket's calendar is open: an 8x5 breach at 03:00 waits for the 08:00 opening,
   which is then its ``at``. A ticket found breached is not also told "at risk".
   Once a ticket's (``sla_state``, ``sla_due_at``) has been looked at in open
   hours, a ``sla-seen`` row in ``sweep_step`` keeps the selection from re-reading
   it until the SLA service writes a new state or deadline.

3. delivery of the outbox (:mod:`deskctl.services.mail`).

Exactly once: on SQLite every ticket transaction takes the write lock up front
(``BEGIN IMMEDIATE``) and re-reads the ticket; on PostgreSQL it locks the ticket
row with ``FOR UPDATE SKIP LOCKED``: a ticket another sweep is handling is left
to it (should that sweep die, the next run does the ticket). A unique-key
violation means another sweep did the step first: the ticket's transaction is
rolled back and skipped. A sweep killed half-way loses only the transaction it
was in, which the next run does again; steps missed while no sweep ran come out
in order, each dated at its scheduled time.

Decisions on points the spec leaves open:

- A ticket without a calendar (no contract plan) runs its protocol on the wall
  clock; without a plan it has no SLA targets, so no SLA notices either.
- ``--limit N`` bounds the tickets acted on in one run (protocol and SLA
  together); the rest wait for the next run, in id order.
- A ticket that cannot be swept (a corrupted log, a rule refusing the close) is
  reported and left as it is; the others are swept, and the run exits 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, String, and_, exists, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from deskctl.clock import iso_z
from deskctl.domain import closure, lifecycle
from deskctl.domain.closure import SLOT, agenda_slots, hhmm
from deskctl.domain.events import PROTOCOL_STEP, Event
from deskctl.domain.lifecycle import TicketState
from deskctl.domain.policy import ClosureProtocol, Policy
from deskctl.errors import BadInput, Conflict, DeskctlError, StoreUnavailable
from deskctl.services import mail, policies, tickets
from deskctl.services.mail import table_of
from deskctl.store import db
from deskctl.store.models import Agent, Contact, Notification, SweepStep, Ticket, pk

ACTOR = "sweep"
AV = "awaiting_verification"
SUPPORT = "support"  # recipient of reminders while a ticket has no engineer
SLA_STATES = ("at_risk", "breached")
SEEN = "sla_seen_"  # sweep_step.action of "this (state, deadline) was looked at"
NO_DUE = datetime(1970, 1, 1, tzinfo=UTC)  # sweep_step.due_at when the ticket had none
BATCH = 500


@dataclass(frozen=True)
class Action:
    ticket: int
    action: str  # contact | call | email | close | sla_at_risk | sla_breached
    at: datetime  # the scheduled instant
    key: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "ticket": self.ticket,
            "action": self.action,
            "at": iso_z(self.at),
            "key": self.key,
            "detail": self.detail,
        }

    def line(self) -> str:
        return f"{iso_z(self.at)} #{self.ticket} {self.action}: {self.detail}"


@dataclass(frozen=True)
class Failure:
    ticket: int
    error: str

    def to_json(self) -> dict[str, Any]:
        return {"ticket": self.ticket, "error": self.error}


@dataclass
class SweepResult:
    now: datetime
    dry_run: bool
    actions: list[Action] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    skipped: int = 0  # tickets left to a concurrent sweep
    mail: mail.DeliveryReport | None = None
    mail_pending: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "now": iso_z(self.now),
            "dry_run": self.dry_run,
            "actions": [a.to_json() for a in self.actions],
            "failures": [f.to_json() for f in self.failures],
            "skipped": self.skipped,
            "mail": self.mail.to_json() if self.mail else {"pending": self.mail_pending},
        }


StepHook = Callable[[Action], None]


class _Skip(Exception):
    """Another sweep holds or already did this ticket's step: leave the ticket."""


# -- clocks ---------------------------------------------------------------------------


class WallClock:
    """A calendar that is always open: wall-clock protocols and tickets without a plan."""

    timezone = "UTC"

    def due(self, start: datetime, seconds: int) -> datetime:
        return (start + timedelta(seconds=seconds)).astimezone(UTC)

    def elapsed(self, start: datetime, end: datetime) -> int:
        return max(0, int((end - start).total_seconds()))

    def is_open(self, at: datetime) -> bool:
        return True

    def next_open(self, at: datetime) -> datetime:
        return at.astimezone(UTC)

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        return [(start, end)] if end > start else []


class _Context:
    """Per-run caches: policy versions, calendars, managers."""

    def __init__(self, engine: Engine, now: datetime, actor: str) -> None:
        self.engine = engine
        self.now = now
        self.actor = actor
        self._policies: dict[int, Policy | None] = {}
        self._managers: list[tuple[str, str | None]] | None = None
        # keyed by id(): policies are cached above for the whole run, so ids stay valid
        self._calendars: dict[tuple[int, str | None], Any] = {}
        self._orders: dict[int, list[int]] = {}

    def policy(self, session: Session, version_id: int | None) -> Policy | None:
        if version_id is None:
            return None
        if version_id not in self._policies:
            self._policies[version_id] = policies.by_version_id(session, version_id)[1]
        return self._policies[version_id]

    def calendar(self, policy: Policy, name: str | None) -> Any:
        key = (id(policy), name)
        found = self._calendars.get(key)
        if found is None:
            if not name or name not in policy.calendars:
                found = WallClock()
            else:
                from deskctl.domain.calendar import calendar_from_policy

                found = calendar_from_policy(policy, name)
            self._calendars[key] = found
        return found

    def step_order(self, protocol: ClosureProtocol) -> list[int]:
        """Step indexes in the order they fall due: (offset, index)."""
        key = id(protocol)
        if key not in self._orders:
            steps = protocol.steps
            self._orders[key] = sorted(range(len(steps)), key=lambda i: (steps[i].offset, i))
        return self._orders[key]

    def protocol_clock(self, policy: Policy, calendar_name: str | None) -> Any:
        protocol = policy.closure
        if protocol is not None and protocol.clock == "wall":
            return WallClock()
        return self.calendar(policy, calendar_name)

    def zone(self, policy: Policy, calendar_name: str | None) -> ZoneInfo:
        spec = policy.calendars.get(calendar_name or "")
        return ZoneInfo(spec.timezone if spec else "UTC")

    def managers(self, session: Session) -> list[tuple[str, str | None]]:
        if self._managers is None:
            stmt = select(col(Agent.login), col(Agent.email)).where(col(Agent.role) == "manager")
            self._managers = [
                (r.login, r.email) for r in session.execute(stmt.order_by(Agent.login))
            ]
        return self._managers


def _protocol(policy: Policy | None) -> ClosureProtocol | None:
    if policy is None or policy.closure is None or not policy.closure.steps:
        return None
    return policy.closure


# -- the run --------------------------------------------------------------------------


# SLA columns only change on their own as deadlines approach; tickets due further
# out than this are left for a later sweep (an at-risk share of a long business-time
# target can still start days before the due instant, hence two weeks).
SLA_REFRESH_HORIZON = timedelta(days=14)


def _refresh_sla(engine: Engine, now: datetime) -> None:
    """Bring the SLA columns of tickets nearing their deadline up to ``now``.

    Ticket changes refresh their own columns; between changes a running clock
    turns at risk, late or breached by itself, and the notices below read the
    columns, so the sweep recomputes those that may have moved.
    """
    from sqlalchemy import select

    from deskctl.services import sla
    from deskctl.store.models import Ticket

    t = table_of(Ticket).c
    stmt = select(t.id).where(
        t.status != "closed",
        t.sla_due_at.is_not(None),
        t.sla_due_at <= now + SLA_REFRESH_HORIZON,
        t.sla_state.in_(("running", "at_risk", "late", "paused")),
    )
    with db.session(engine, write=True) as s:
        ids = list(s.execute(stmt).scalars())
        if ids:
            sla.refresh(s, now, ids)


def run(
    engine: Engine,
    *,
    now: datetime,
    dry_run: bool = False,
    limit: int | None = None,
    actor: str = ACTOR,
    deliver: bool = True,
    transport: mail.Transport | None = None,
    after_step: StepHook | None = None,
    batch: int = BATCH,
    on_action: Callable[[Action], None] | None = None,
) -> SweepResult:
    """Do everything due at ``now`` (see the module doc). ``after_step`` is called
    inside the ticket's transaction after each step (tests use it to kill a run)."""
    if limit is not None and limit < 1:
        raise BadInput("--limit must be 1 or more")
    if dry_run:
        return _dry_run(engine, now=now, limit=limit, actor=actor, batch=batch, on_action=on_action)
    ctx = _Context(engine, now, actor)
    result = SweepResult(now=now, dry_run=dry_run)
    budget = [limit if limit is not None else -1]

    def handle(ticket_id: int, work: Callable[[int], list[Action]]) -> bool:
        if budget[0] == 0:
            return False
        actions = _guarded(ticket_id, work, result)
        if actions:
            budget[0] -= 1
            result.actions.extend(actions)
            for action in actions:
                if on_action is not None:
                    on_action(action)
        return True

    for ticket_id in _protocol_candidates(ctx, batch):
        if not handle(ticket_id, lambda t: _sweep_protocol(ctx, t, dry_run, after_step)):
            break
    if not dry_run:
        _refresh_sla(engine, now)
    for ticket_id in _sla_candidates(ctx, batch):
        if not handle(ticket_id, lambda t: _sweep_sla(ctx, t, dry_run, after_step)):
            break
    if dry_run or not deliver:
        with db.session(engine) as s:
            result.mail_pending = mail.count_pending(s)
        return result
    result.mail = mail.deliver_pending(engine, now=now, transport=transport)
    return result


def _dry_run(
    engine: Engine,
    *,
    now: datetime,
    limit: int | None,
    actor: str,
    batch: int,
    on_action: Callable[[Action], None] | None,
) -> SweepResult:
    """What a sweep at ``now`` would do, exactly: the sweep itself (SLA refresh, the same
    selection, every step) inside one transaction that is rolled back. Nothing is
    written and no mail is sent; the outbox count includes what the steps would queue."""
    shown = None if on_action is None else (lambda action: on_action(_would(action)))
    with db.store_errors(), engine.connect() as conn:
        outer = conn.begin()
        try:
            result = run(
                cast(Engine, conn), now=now, limit=limit, actor=actor, deliver=False,
                batch=batch, on_action=shown,
            )
        finally:
            outer.rollback()
    result.dry_run = True
    result.actions = [_would(a) for a in result.actions]
    return result


def _would(action: Action) -> Action:
    return replace(action, detail=f"would: {action.detail}")


def _guarded(
    ticket_id: int, work: Callable[[int], list[Action]], result: SweepResult
) -> list[Action]:
    """One ticket: a lost race is skipped, a refusal is reported, the store failing stops all."""
    for attempt in (1, 2):
        try:
            return work(ticket_id)
        except _Skip:
            result.skipped += 1
            return []
        except IntegrityError:
            result.skipped += 1  # another sweep recorded the same key first
            return []
        except Conflict:
            if attempt == 2:
                result.failures.append(Failure(ticket_id, "changed meanwhile; next run retries"))
        except StoreUnavailable:
            raise
        except (DeskctlError, ValueError) as exc:
            message = exc.message if isinstance(exc, DeskctlError) else str(exc)
            result.failures.append(Failure(ticket_id, message))
            return []
    return []


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


def _protocol_candidates(ctx: _Context, batch: int) -> Iterator[int]:
    for rows in _verifying_batches(ctx.engine, batch):
        with db.session(ctx.engine) as s:
            due = [r.id for r in rows if _maybe_due(ctx, s, r)]
        yield from due


def _maybe_due(ctx: _Context, session: Session, row: _Verifying) -> bool:
    """Is the ticket's next undone step due? (Steps fall due in (offset, index) order.)"""
    policy = ctx.policy(session, row.policy_version_id)
    protocol = _protocol(policy)
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


# -- protocol: one ticket -------------------------------------------------------------


def _lock(session: Session, ticket_id: int, dry_run: bool) -> None:
    """PostgreSQL: lock the ticket row or leave it to the sweep holding it."""
    if dry_run or session.get_bind().dialect.name != "postgresql":
        return
    row = session.execute(
        select(col(Ticket.id)).where(col(Ticket.id) == ticket_id).with_for_update(skip_locked=True)
    ).first()
    if row is None:
        raise _Skip()


def _sweep_protocol(
    ctx: _Context, ticket_id: int, dry_run: bool, hook: StepHook | None
) -> list[Action]:
    with db.session(ctx.engine, write=not dry_run) as s:
        _lock(s, ticket_id, dry_run)
        ticket, history, state = tickets.current(s, ticket_id, for_update=not dry_run)
        policy = ctx.policy(s, ticket.policy_version_id)
        protocol = _protocol(policy)
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
        ctx: _Context,
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
            f"due {_local(step.due_at, self._zone())}."
        )
        _notify(
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


def _notify(
    session: Session,
    key: str,
    ticket_id: int,
    recipient: str,
    kind: str,
    message: str,
    due_at: datetime,
    now: datetime,
) -> None:
    session.execute(
        insert(table_of(Notification)).values(
            key=f"{key}:{recipient}",
            ticket_id=ticket_id,
            recipient=recipient,
            kind=kind,
            message=message,
            due_at=due_at,
            created_at=now,
        )
    )


def _local(at: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"


# -- the agenda e-mail ----------------------------------------------------------------


def agenda_mail(
    ctx: _Context,
    session: Session,
    ticket: Ticket,
    state: TicketState,
    policy: Policy,
    schedule: Sequence[closure.ScheduledStep],
    contact: Contact,
) -> tuple[str, str, str] | None:
    """Subject, text and HTML of a protocol e-mail in the contact's language: the
    question, the engineer's agenda, the deadline (None: the ticket has no reader).

    The agenda shows free slots only (no other customer's ticket is named): the
    calendar's open hours of the next business days from now and before the automatic
    close, less the slots of the engineer's own protocol calls on other tickets.
    """
    from deskctl.services import notify

    reader = notify.reader(session, ticket, policy)
    if reader is None:
        return None
    zone = ctx.zone(policy, ticket.calendar)
    calendar = ctx.calendar(policy, ticket.calendar)
    busy = _engineer_busy(ctx, session, state.assignee, pk(ticket)) if state.assignee else []
    close = next((st for st in schedule if st.action == closure.CLOSE), None)
    until = close.due_at if close is not None else None
    slots = [
        {
            "label": reader.fmt.day(day),
            "spans": [f"{hhmm(lo, zone)}-{hhmm(hi, zone, end=True)}" for lo, hi in spans],
        }
        for day, spans in agenda_slots(calendar, zone, ctx.now, busy, until=until)
    ]
    context = {
        "ticket": ticket,
        "contact_name": contact.name,
        "vendor": policy.vendor,
        "engineer": notify.engineer_name(session, state.assignee),
        "solution": state.solution,
        "resolved_at": state.resolved_at or ctx.now,
        "slots": slots,
        "close_at": until,
        **notify.answer_words(reader.locale),
    }
    return notify.compose("agenda", reader, context, notify.template_dir(session, ticket, policy))


def _engineer_busy(
    ctx: _Context, session: Session, login: str, this_ticket: int
) -> list[tuple[datetime, datetime]]:
    """Slots of the engineer's calls and contacts due on other tickets from now on."""
    rows = session.execute(
        select(
            col(Ticket.id),
            col(Ticket.policy_version_id),
            col(Ticket.calendar),
            col(Ticket.resolved_at),
        )
        .where(
            col(Ticket.assignee) == login, col(Ticket.status) == AV, col(Ticket.id) != this_ticket
        )
        .order_by(col(Ticket.id))
        .limit(200)
    ).all()
    busy = []
    for row in rows:
        policy = ctx.policy(session, row.policy_version_id)
        protocol = _protocol(policy)
        if protocol is None or policy is None or row.resolved_at is None:
            continue
        clock = ctx.protocol_clock(policy, row.calendar)
        for step in closure.protocol_schedule(
            row.resolved_at, protocol, clock, ticket_id=row.id, round=1
        ):
            if step.action in ("call", "contact") and step.due_at >= ctx.now:
                busy.append((step.due_at, step.due_at + SLOT))
    return busy


# -- SLA notices ----------------------------------------------------------------------


def _sla_candidates(ctx: _Context, batch: int) -> Iterator[int]:
    """Open tickets at risk or breached whose (state, deadline) were not looked at yet."""
    seen = exists().where(
        and_(
            col(SweepStep.ticket_id) == col(Ticket.id),
            col(SweepStep.action) == literal(SEEN, String) + col(Ticket.sla_state),
            or_(
                col(SweepStep.due_at) == col(Ticket.sla_due_at),
                and_(col(Ticket.sla_due_at).is_(None), col(SweepStep.due_at) == NO_DUE),
            ),
        )
    )
    last = 0
    while True:
        with db.session(ctx.engine) as s:
            ids = list(
                s.execute(
                    select(col(Ticket.id))
                    .where(
                        col(Ticket.sla_state).in_(SLA_STATES),
                        col(Ticket.status) != "closed",
                        col(Ticket.id) > last,
                        ~seen,
                    )
                    .order_by(col(Ticket.id))
                    .limit(batch)
                ).scalars()
            )
        if not ids:
            return
        yield from ids
        last = ids[-1]


def _sweep_sla(ctx: _Context, ticket_id: int, dry_run: bool, hook: StepHook | None) -> list[Action]:
    with db.session(ctx.engine, write=not dry_run) as s:
        _lock(s, ticket_id, dry_run)
        ticket, history, state = tickets.current(s, ticket_id, for_update=not dry_run)
        policy = ctx.policy(s, ticket.policy_version_id)
        if state.status == "closed" or policy is None or ticket.sla_state not in SLA_STATES:
            return []
        judged = _sla_clocks(ctx, policy, history, state)
        if judged is None:
            return []  # the desk is closed: notices wait for it to open
        calendar, clocks = judged
        done = set(
            s.execute(
                select(col(SweepStep.key)).where(
                    col(SweepStep.ticket_id) == ticket_id, col(SweepStep.key).startswith("sla:")
                )
            ).scalars()
        )
        actions = []
        for metric, clk in sorted(clocks.items()):
            key = f"sla:{ticket_id}:{metric}:{clk.state}"
            if clk.state not in SLA_STATES or key in done:
                continue
            since = _sla_since(calendar, clk, policy.clock.at_risk_share, ctx.now)
            at = min(calendar.next_open(since), ctx.now)
            action = Action(ticket_id, f"sla_{clk.state}", at, key, _sla_text(metric, clk, ctx))
            if not dry_run:
                _record_notice(ctx, s, ticket, state, key, metric, clk, at, action)
            actions.append(action)
            if hook is not None and not dry_run:
                hook(action)
        if not dry_run:
            _mark_seen(ctx, s, ticket)
        return actions


def _sla_clocks(
    ctx: _Context, policy: Policy, history: list[Event], state: TicketState
) -> tuple[Any, dict[str, Any]] | None:
    """The calendar and the metrics at ``now``; None while the ticket's desk is closed."""
    from deskctl.domain import sla

    opened_plan = history[0].data.get("plan") if history else None
    plan = policy.plans.get(str(opened_plan or state.plan))
    current = policy.plans.get(str(state.plan or opened_plan))
    if plan is None or current is None:
        return WallClock(), {}
    calendar = ctx.calendar(policy, current.calendar)
    if not calendar.is_open(ctx.now):
        return None
    return calendar, sla.compute_sla(history, policy, plan, calendar, ctx.now)


def _mark_seen(ctx: _Context, s: Session, ticket: Ticket) -> None:
    """Remember that the ticket's (state, deadline) was looked at: the selection skips it
    until the SLA service writes a new state or deadline (a second metric at risk or
    breached changes the deadline of the ticket)."""
    due = ticket.sla_due_at
    s.execute(
        insert(table_of(SweepStep)).values(
            key=f"sla-seen:{ticket.id}:{ticket.sla_state}:{iso_z(due) or '-'}",
            ticket_id=ticket.id,
            action=f"{SEEN}{ticket.sla_state}",
            due_at=due or NO_DUE,
            done_at=ctx.now,
        )
    )


def _sla_text(metric: str, clk: Any, ctx: _Context) -> str:
    if clk.state == "breached":
        return f"{metric} breached: deadline was {iso_z(clk.due_at)}"
    left = max(0, int(clk.remaining_seconds or 0))
    return f"{metric} at risk: {left // 3600}h{left % 3600 // 60:02d}m of business time left"


def _sla_since(calendar: Any, clk: Any, share: float, now: datetime) -> datetime:
    """When the metric entered its state: the deadline for a breach; for "at risk",
    the instant the business time left came down to ``share`` of the limit."""
    if clk.state == "breached" and clk.limit_at is not None:
        return clk.limit_at
    if clk.target is None or clk.limit_at is None or clk.started_at is None:
        return now
    threshold = share * clk.target.limit
    lo, hi = clk.started_at, min(clk.limit_at, now)
    if calendar.elapsed(lo, clk.limit_at) <= threshold:
        return lo
    # bisect to the second: elapsed(t, limit) is the time left from t, falling with t
    while (hi - lo).total_seconds() > 1:
        mid = lo + (hi - lo) / 2
        if calendar.elapsed(mid, clk.limit_at) <= threshold:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


def _record_notice(
    ctx: _Context,
    s: Session,
    ticket: Ticket,
    state: TicketState,
    key: str,
    metric: str,
    clk: Any,
    at: datetime,
    action: Action,
) -> None:
    s.execute(
        insert(table_of(SweepStep)).values(
            key=key,
            ticket_id=ticket.id,
            action=action.action,
            due_at=clk.due_at or at,
            done_at=ctx.now,
            data={"metric": metric, "state": clk.state, "at": iso_z(at)},
        )
    )
    recipients = [(state.assignee or SUPPORT, _agent_email(s, state.assignee))]
    recipients += [m for m in ctx.managers(s) if m[0] != recipients[0][0]]
    word = "BREACHED" if clk.state == "breached" else "at risk"
    message = (
        f"SLA {metric} {word} on ticket #{ticket.id} ({ticket.title}), severity "
        f"{state.severity or '-'}, customer {state.customer}: {action.detail}."
    )
    for login, email in recipients:
        _notify(s, key, pk(ticket), login, action.action, message, at, ctx.now)
        if email:
            mail.enqueue(
                s,
                key=f"{key}:{login}",
                recipient=email,
                subject=f"[#{ticket.id}] SLA {metric} {word}: {ticket.title}",
                body=message + "\n",
                now=ctx.now,
                ticket_id=pk(ticket),
            )


def _agent_email(session: Session, login: str | None) -> str | None:
    if not login:
        return None
    agent = session.get(Agent, login)
    return agent.email if agent is not None else None


# -- the customer's answer and contact attempts (ticket commands) ----------------------
