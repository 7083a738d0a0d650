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

The parts, one module each: ``sweep_protocol`` (selection and the steps of one
ticket), ``agenda_mail`` (the protocol's e-mail), ``sla_notices`` (step 2),
``sweep_core`` (what they share: the action, the per-run context, the row lock); this
module runs them, dry or for real.

Decisions on points the spec leaves open:

- A ticket without a calendar (no contract plan) runs its protocol on the wall
  clock; without a plan it has no SLA targets, so no SLA notices either.
- ``--limit N`` bounds the tickets acted on in one run (protocol and SLA
  together); the rest wait for the next run, in id order.
- A ticket that cannot be swept (a corrupted log, a rule refusing the close) is
  reported and left as it is; the others are swept, and the run exits 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from deskctl.clock import iso_z
from deskctl.errors import BadInput, Conflict, DeskctlError, StoreUnavailable
from deskctl.services import mail, sla_notices, sweep_protocol
from deskctl.services.sweep_core import ACTOR, BATCH, Action, Context, Skip, StepHook
from deskctl.store import db
from deskctl.store.models import Ticket, table_of


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

    from deskctl.services import sla

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
    ctx = Context(engine, now, actor)
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

    for ticket_id in sweep_protocol.candidates(ctx, batch):
        if not handle(
            ticket_id, lambda t: sweep_protocol.sweep_ticket(ctx, t, dry_run, after_step)
        ):
            break
    if not dry_run:
        _refresh_sla(engine, now)
    for ticket_id in sla_notices.candidates(ctx, batch):
        if not handle(ticket_id, lambda t: sla_notices.sweep_ticket(ctx, t, dry_run, after_step)):
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
                cast(Engine, conn),
                now=now,
                limit=limit,
                actor=actor,
                deliver=False,
                batch=batch,
                on_action=shown,
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
        except Skip:
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
