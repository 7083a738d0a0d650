"""SLA notices of the sweep: open tickets at risk or breached, each (ticket, metric,
state) told once to the engineer (or ``support``) and every manager, during the
ticket's business hours. See services.sweep for the guarantees."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, and_, exists, insert, literal, or_, select
from sqlmodel import Session, col

from deskctl.clock import iso_z
from deskctl.domain.events import Event
from deskctl.domain.lifecycle import TicketState
from deskctl.domain.policy import Policy
from deskctl.services import mail, tickets
from deskctl.services.sweep_core import (
    SUPPORT,
    Action,
    Context,
    StepHook,
    WallClock,
    agent_email,
    lock,
    notify_agent,
)
from deskctl.store import db
from deskctl.store.models import Customer, SweepStep, Ticket, pk, table_of

SLA_STATES = ("at_risk", "breached")
SEEN = "sla_seen_"  # sweep_step.action of "this (state, deadline) was looked at"
NO_DUE = datetime(1970, 1, 1, tzinfo=UTC)  # sweep_step.due_at when the ticket had none


def candidates(ctx: Context, batch: int) -> Iterator[int]:
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


def sweep_ticket(
    ctx: Context, ticket_id: int, dry_run: bool, hook: StepHook | None
) -> list[Action]:
    with db.session(ctx.engine, write=not dry_run) as s:
        lock(s, ticket_id, dry_run)
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
                _record_notice(ctx, s, ticket, state, key, policy, clk, at, action)
            actions.append(action)
            if hook is not None and not dry_run:
                hook(action)
        if not dry_run:
            _mark_seen(ctx, s, ticket)
        return actions


def _sla_clocks(
    ctx: Context, policy: Policy, history: list[Event], state: TicketState
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


def _mark_seen(ctx: Context, s: Session, ticket: Ticket) -> None:
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


def _sla_text(metric: str, clk: Any, ctx: Context) -> str:
    if clk.state == "breached":
        return f"{metric} breached: the limit was {iso_z(clk.due_at)}"
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
    ctx: Context,
    s: Session,
    ticket: Ticket,
    state: TicketState,
    key: str,
    policy: Policy,
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
            data={"metric": clk.metric, "state": clk.state, "at": iso_z(at)},
        )
    )
    subject, body = compose(ctx, s, ticket, state, policy, clk)
    summary = body.split("\n\n", 1)[0].replace("\n", " ")
    recipients = [(state.assignee or SUPPORT, agent_email(s, state.assignee))]
    recipients += [m for m in ctx.managers(s) if m[0] != recipients[0][0]]
    for login, email in recipients:
        notify_agent(s, key, pk(ticket), login, action.action, summary, at, ctx.now)
        if email:
            mail.enqueue(
                s,
                key=f"{key}:{login}",
                recipient=email,
                subject=subject,
                body=body,
                now=ctx.now,
                ticket_id=pk(ticket),
            )


def compose(
    ctx: Context, s: Session, ticket: Ticket, state: TicketState, policy: Policy, clk: Any
) -> tuple[str, str]:
    """Subject and body of a notice (``mail/sla_notice.txt``) in the vendor's language
    (``[vendor] locale``, else its country's: agents read their own company's), times in
    the ticket's calendar zone with the zone named."""
    from deskctl import i18n
    from deskctl.domain.durations import format_duration, short_span
    from deskctl.services import notify

    identity = policy.identity
    locale = i18n.resolve(identity.locale or None, country=identity.country or None)
    spec = policy.calendars.get(ticket.calendar or "")
    fmt = i18n.Formatter(locale, spec.timezone if spec else "UTC")
    words = i18n.words("documents/words", locale)
    customer = s.get(Customer, ticket.customer_id)
    target = None
    if clk.target is not None:
        target = format_duration(clk.target.goal)
        if clk.target.limit != clk.target.goal:
            target += "-" + format_duration(clk.target.limit)
    breached = clk.state == "breached"
    late = short_span(int((ctx.now - clk.limit_at).total_seconds())) if breached else ""
    context = {
        "ticket": ticket,
        "customer": customer.name if customer is not None else state.customer,
        "severity": state.severity or "-",
        "metric": clk.metric,
        "target": target,
        "breached": breached,
        "limit_at": clk.limit_at,
        "late": late,
        "left": format_duration(max(0, int(clk.remaining_seconds or 0))),
        "status": words.get(f"status_{state.status}", state.status),
        "engineer": notify.engineer_name(s, state.assignee) or state.assignee,
        "vendor": identity.legal_name or policy.vendor,
    }
    text = i18n.render(
        "mail/sla_notice.txt",
        locale,
        context,
        override=notify.template_dir(s, ticket, policy),
        formatter=fmt,
    )
    first, _, body = text.partition("\n")
    return " ".join(first.partition(":")[2].split()), body.lstrip("\n")
