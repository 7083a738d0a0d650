"""The work log (docs/rules.md §7): time logged on tickets, corrections, the ticket's log."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import Session

from deskctl.domain import lifecycle
from deskctl.domain.billing import WORK_KINDS
from deskctl.domain.durations import parse_duration
from deskctl.errors import BadInput
from deskctl.services import tickets
from deskctl.store.models import (
    Invoice,
    InvoiceLine,
    WorkLog,
    table_of,
)

MAX_ENTRY_MINUTES = 24 * 60


_WL = table_of(WorkLog)


_IL = table_of(InvoiceLine)


_INV = table_of(Invoice)


def parse_work_minutes(text: str) -> int:
    """``25m``, ``1h10m`` or bare minutes ``25``; ``-10m`` is a correction. Whole minutes."""
    seconds = parse_duration(text, what="DURATION", bare_unit="m")
    if seconds % 60:
        raise BadInput(f"DURATION: {text!r} is not a whole number of minutes")
    minutes = seconds // 60
    if minutes == 0:
        raise BadInput("DURATION: zero minutes; log the time spent, like 25m or 1h10m")
    if abs(minutes) > MAX_ENTRY_MINUTES:
        raise BadInput(f"DURATION: {text!r} is over 24h; log each day's work as its own entry")
    return minutes


def check_work_request(minutes: int, kind: str, reason: str | None) -> None:
    """Validate a ``ticket log`` before anything is written."""
    if kind not in WORK_KINDS:
        raise BadInput(f"--kind: {kind!r} is not one of {', '.join(WORK_KINDS)}")
    has_reason = bool(reason and reason.strip())
    if minutes < 0 and not has_reason:
        raise BadInput("a negative DURATION is a correction: say why with --reason")
    if minutes > 0 and reason is not None:
        raise BadInput("--reason is for corrections only (a negative DURATION like -10m)")


def log_work(
    session: Session,
    ticket_id: int,
    minutes: int,
    *,
    kind: str,
    note: str | None,
    reason: str | None,
    now: datetime,
    actor: str,
) -> dict[str, Any]:
    """Append a WORKLOG event and its worklog row in the caller's transaction."""
    check_work_request(minutes, kind, reason)
    ticket, history, state = tickets.current(session, ticket_id)
    if minutes < 0:
        _check_correction(session, ticket_id, minutes, kind)
    clean_note = note.strip() if note and note.strip() else None
    event = lifecycle.plan_worklog(state, minutes, now=now, actor=actor, kind=kind, note=clean_note)
    if reason:
        event = replace(event, data={**event.data, "reason": reason.strip()})
    tickets.apply(
        session, ticket, history, [event], now=now, policy=tickets.policy_of(session, ticket)
    )
    row_note = f"correction: {reason.strip()}" if reason else None
    if clean_note:
        row_note = f"{row_note}; {clean_note}" if row_note else clean_note
    values = {
        "ticket_id": ticket_id,
        "event_seq": event.seq,
        "at": event.at,
        "minutes": minutes,
        "kind": kind,
        "note": row_note,
        "actor": actor,
    }
    row_id = session.execute(insert(_WL).values(**values).returning(_WL.c.id)).scalar_one()
    return {"id": row_id, "seq": event.seq, **values, "ticket": ticket_id, "invoice": None}


def _check_correction(session: Session, ticket_id: int, minutes: int, kind: str) -> None:
    """A correction takes back only time of its kind that no finalised invoice holds."""
    free = session.execute(
        select(func.coalesce(func.sum(_WL.c.minutes), 0)).where(
            _WL.c.ticket_id == ticket_id, _WL.c.kind == kind, _WL.c.invoice_line_id.is_(None)
        )
    ).scalar_one()
    if int(free) + minutes < 0:
        raise BadInput(
            f"ticket {ticket_id}: a correction of {minutes} min exceeds the {int(free)} min of "
            f"{kind} time not yet invoiced; to correct invoiced time, void the invoice first"
        )


def worklog_of(session: Session, ticket_id: int) -> dict[str, Any]:
    """A ticket's work-log entries, oldest first, with totals and their invoice numbers."""
    tickets.get(session, ticket_id)
    stmt = (
        select(
            _WL.c.id,
            _WL.c.event_seq,
            _WL.c.at,
            _WL.c.minutes,
            _WL.c.kind,
            _WL.c.note,
            _WL.c.actor,
            _INV.c.number,
        )
        .select_from(
            _WL.outerjoin(_IL, _IL.c.id == _WL.c.invoice_line_id).outerjoin(
                _INV, _INV.c.id == _IL.c.invoice_id
            )
        )
        .where(_WL.c.ticket_id == ticket_id)
        .order_by(_WL.c.at, _WL.c.id)
    )
    entries = [
        {
            "id": r.id,
            "seq": r.event_seq,
            "at": r.at,
            "minutes": r.minutes,
            "kind": r.kind,
            "note": r.note,
            "actor": r.actor,
            "invoice": r.number,
        }
        for r in session.execute(stmt)
    ]
    by_kind: dict[str, int] = {}
    for e in entries:
        by_kind[e["kind"]] = by_kind.get(e["kind"], 0) + e["minutes"]
    return {
        "ticket": ticket_id,
        "entries": entries,
        "total_minutes": sum(e["minutes"] for e in entries),
        "uninvoiced_minutes": sum(e["minutes"] for e in entries if e["invoice"] is None),
        "by_kind": by_kind,
    }
