"""The sweep (SPEC §6): everything that has fallen due, exactly once, safe to kill.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, String, and_, exists, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from deskctl.clock import iso_z
from deskctl.domain import closure, lifecycle
from deskctl.domain.events import CONTACT_ATTEMPT, PROTOCOL_STEP, Event
from deskctl.domain.lifecycle import TicketState
from deskctl.domain.policy import ClosureProtocol, Policy
from deskctl.errors import BadInput, Conflict, DeskctlError, Refused, StoreUnavailable
from deskctl.services import mail, policies, tickets
from deskctl.services.mail import table_of
from deskctl.store import db
from deskctl.store.models import Agent, Contact, Notification, SweepStep, Ticket

ACTOR = "sweep"
AV = "awaiting_verification"
SUPPORT = "support"  # recipient of reminders while a ticket has no engineer
SLA_STATES = ("at_risk", "breached")
SEEN = "sla_seen_"  # sweep_step.action of "this (state, deadline) was looked at"
NO_DUE = datetime(1970, 1, 1, tzinfo=UTC)  # sweep_step.due_at when the ticket had none
BATCH = 500
AGENDA_DAYS = 3
SLOT = timedelta(minutes=15)  # agenda granularity; a protocol call blocks one slot
CONTACT_VIA = ("phone", "email")
CONTACT_OUTCOMES = ("no-answer", "reached")


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
            stmt = select(Agent.login, Agent.email).where(Agent.role == "manager")
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

    t = Ticket.__table__.c  # type: ignore[attr-defined]
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
        select(Ticket.id, Ticket.policy_version_id, Ticket.calendar, Ticket.resolved_at)
        .where(Ticket.status == AV, col(Ticket.id) > after)
        .order_by(Ticket.id)
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
                    select(TicketEvent.ticket_id, func.count())
                    .where(col(TicketEvent.ticket_id).in_(ids), TicketEvent.to_status == AV)
                    .group_by(TicketEvent.ticket_id)
                ).all()
            )
            done: dict[int, set[str]] = {}
            for tid, key in s.execute(
                select(SweepStep.ticket_id, SweepStep.key).where(
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
        select(Ticket.id).where(Ticket.id == ticket_id).with_for_update(skip_locked=True)
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
        self.ticket_id = int(ticket.id)

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
    busy = _engineer_busy(ctx, session, state.assignee, int(ticket.id)) if state.assignee else []
    close = next((st for st in schedule if st.action == closure.CLOSE), None)
    until = close.due_at if close is not None else None
    slots = [
        {
            "label": reader.fmt.day(day),
            "spans": [f"{_hhmm(lo, zone)}-{_hhmm(hi, zone, end=True)}" for lo, hi in spans],
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
        select(Ticket.id, Ticket.policy_version_id, Ticket.calendar, Ticket.resolved_at)
        .where(Ticket.assignee == login, Ticket.status == AV, Ticket.id != this_ticket)
        .order_by(Ticket.id)
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


def agenda_slots(
    calendar: Any,
    zone: ZoneInfo,
    start: datetime,
    busy: Sequence[tuple[datetime, datetime]] = (),
    days: int = AGENDA_DAYS,
    until: datetime | None = None,
) -> list[tuple[Any, list[tuple[datetime, datetime]]]]:
    """Free slots of the next ``days`` open days (local date, spans), before ``until``.

    Slots start and end on quarter hours; a busy stretch removes the slots it
    touches; a free stretch shorter than a slot is not offered; nothing at or after
    ``until`` (the automatic close: a slot after it could never be used).
    """
    first = _ceil_slot(start)
    stretches = calendar.open_intervals(first, first + timedelta(days=14))
    by_day: dict[Any, list[tuple[datetime, datetime]]] = {}
    for lo, hi in _free(_split_days(stretches, zone), busy):
        lo, hi = _ceil_slot(lo), _floor_slot(hi)
        if until is not None:
            hi = min(hi, _floor_slot(until))
        if hi - lo >= SLOT:
            by_day.setdefault(lo.astimezone(zone).date(), []).append((lo, hi))
    return [(day, by_day[day]) for day in sorted(by_day)[:days]]


def _split_days(
    stretches: Sequence[tuple[datetime, datetime]], zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    out = []
    for lo, hi in stretches:
        while lo < hi:
            local = lo.astimezone(zone)
            midnight = datetime.combine(
                local.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone
            ).astimezone(UTC)
            out.append((lo, min(hi, midnight)))
            lo = min(hi, midnight)
    return out


def _free(
    stretches: Sequence[tuple[datetime, datetime]], busy: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    free = list(stretches)
    for b_lo, b_hi in sorted(busy):
        b_lo, b_hi = _floor_slot(b_lo), _ceil_slot(b_hi)
        nxt = []
        for lo, hi in free:
            if b_hi <= lo or b_lo >= hi:
                nxt.append((lo, hi))
                continue
            if lo < b_lo:
                nxt.append((lo, b_lo))
            if b_hi < hi:
                nxt.append((b_hi, hi))
        free = nxt
    return free


def _floor_slot(at: datetime) -> datetime:
    at = at.astimezone(UTC).replace(second=0, microsecond=0)
    return at - timedelta(minutes=at.minute % 15)


def _ceil_slot(at: datetime) -> datetime:
    floor = _floor_slot(at)
    return floor if floor == at else floor + SLOT


def _hhmm(at: datetime, zone: ZoneInfo, *, end: bool = False) -> str:
    local = at.astimezone(zone)
    if end and local.hour == 0 and local.minute == 0:
        return "24:00"
    return f"{local:%H:%M}"


# -- SLA notices ----------------------------------------------------------------------


def _sla_candidates(ctx: _Context, batch: int) -> Iterator[int]:
    """Open tickets at risk or breached whose (state, deadline) were not looked at yet."""
    seen = exists().where(
        and_(
            SweepStep.ticket_id == Ticket.id,
            SweepStep.action == literal(SEEN, String) + col(Ticket.sla_state),
            or_(
                SweepStep.due_at == Ticket.sla_due_at,
                and_(col(Ticket.sla_due_at).is_(None), SweepStep.due_at == NO_DUE),
            ),
        )
    )
    last = 0
    while True:
        with db.session(ctx.engine) as s:
            ids = list(
                s.execute(
                    select(Ticket.id)
                    .where(
                        col(Ticket.sla_state).in_(SLA_STATES),
                        Ticket.status != "closed",
                        col(Ticket.id) > last,
                        ~seen,
                    )
                    .order_by(Ticket.id)
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
                select(SweepStep.key).where(
                    SweepStep.ticket_id == ticket_id, col(SweepStep.key).startswith("sla:")
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
        _notify(s, key, int(ticket.id), login, action.action, message, at, ctx.now)
        if email:
            mail.enqueue(
                s,
                key=f"{key}:{login}",
                recipient=email,
                subject=f"[#{ticket.id}] SLA {metric} {word}: {ticket.title}",
                body=message + "\n",
                now=ctx.now,
                ticket_id=int(ticket.id),
            )


def _agent_email(session: Session, login: str | None) -> str | None:
    if not login:
        return None
    agent = session.get(Agent, login)
    return agent.email if agent is not None else None


# -- the customer's answer and contact attempts (ticket commands) ----------------------


def confirm(
    session: Session, ticket_id: int, *, now: datetime, actor: str, note: str | None = None
) -> Ticket:
    """The customer confirmed the solution: closed ``resolved`` (the protocol ends)."""
    ticket, history, state = tickets.current(session, ticket_id)
    event = lifecycle.plan_confirm(state, now=now, actor=actor, note=note)
    tickets.apply(
        session, ticket, history, [event], now=now, policy=tickets.policy_of(session, ticket)
    )
    return ticket


def reject_solution(
    session: Session, ticket_id: int, *, now: datetime, actor: str, note: str | None = None
) -> Ticket:
    """The customer rejected the solution: back to ``in_progress`` (the protocol ends)."""
    ticket, history, state = tickets.current(session, ticket_id)
    event = lifecycle.plan_reject_solution(state, now=now, actor=actor, note=note)
    tickets.apply(
        session, ticket, history, [event], now=now, policy=tickets.policy_of(session, ticket)
    )
    return ticket


def check_contact(via: str, outcome: str) -> None:
    if via not in CONTACT_VIA:
        raise BadInput(f"--via: {via!r} is not one of {', '.join(CONTACT_VIA)}")
    if outcome not in CONTACT_OUTCOMES:
        raise BadInput(f"--outcome: {outcome!r} is not one of {', '.join(CONTACT_OUTCOMES)}")


def record_contact(
    session: Session,
    ticket_id: int,
    *,
    via: str,
    outcome: str,
    now: datetime,
    actor: str,
    note: str | None = None,
) -> Ticket:
    """A CONTACT_ATTEMPT event: the engineer tried to reach the customer (any open state)."""
    check_contact(via, outcome)
    ticket, history, state = tickets.current(session, ticket_id)
    if state.status == "closed":
        raise Refused(
            f"ticket {ticket_id} is closed; a contact attempt is recorded on open tickets"
        )
    data: dict[str, Any] = {"via": via, "outcome": outcome}
    if note and note.strip():
        data["note"] = note.strip()
    event = Event(state.version + 1, now.astimezone(UTC), CONTACT_ATTEMPT, actor, data=data)
    tickets.apply(
        session, ticket, history, [event], now=now, policy=tickets.policy_of(session, ticket)
    )
    return ticket
