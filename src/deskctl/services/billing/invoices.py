"""Invoices (docs/rules.md §7): finalise a bill under the year's next number, void, read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlmodel import Session

from deskctl.domain.billing import next_invoice_number
from deskctl.domain.roles import Act
from deskctl.errors import BadInput, Conflict, NotFound, Refused
from deskctl.services import masterdata
from deskctl.services.billing.drafts import (
    Bill,
    BillLine,
    PricingContext,
    bill_json,
    customer_policy,
    draft,
    period_bounds,
)
from deskctl.services.billing.rates import line_rate, rates_applied
from deskctl.store import identity
from deskctl.store.models import (
    Customer,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Ticket,
    WorkLog,
    table_of,
)

INVOICE_PREFIX = "INV"


_WL = table_of(WorkLog)


_TK = table_of(Ticket)


_IL = table_of(InvoiceLine)


_INV = table_of(Invoice)


_CTR = table_of(InvoiceCounter)


def finalize(
    session: Session,
    customer: str | None,
    period_from: date,
    period_to: date,
    *,
    now: datetime,
    actor: str,
) -> list[dict[str, Any]]:
    """Store the bill(s) as numbered invoices and lock their work-log rows; returns the invoices."""
    identity.require(session, Act.FINALISE)
    period_bounds(period_from, period_to)
    if customer is not None:
        masterdata.customer_by_key(session, customer)
    year = now.astimezone(UTC).year
    last = _lock_counter(session, f"{year:04d}")
    # Read what to bill only once the counter is ours: a finalisation that ran meanwhile
    # has committed, and its rows are no longer free.
    bills = [b for b in draft(session, customer, period_from, period_to) if b.lines]
    if not bills:
        who = f"customer {customer}" if customer else "any customer"
        raise Refused(
            f"nothing to bill for {who} from {period_from} to {period_to}: "
            "no work logged, or all of it is on finalised invoices"
        )
    numbers = []
    for bill in bills:
        number = next_invoice_number(_number(year, last), year, INVOICE_PREFIX)
        last += 1
        _store(session, bill, number, now=now, actor=actor)
        numbers.append(number)
    session.execute(update(_CTR).where(_CTR.c.series == f"{year:04d}").values(last=last))
    return [
        {
            **bill_json(bill),
            "number": number,
            "status": "final",
            "finalized_at": now,
            "voided_at": None,
            "void_reason": None,
            "actor": actor,
        }
        for bill, number in zip(bills, numbers, strict=True)
    ]


def _number(year: int, last: int) -> str | None:
    return f"{INVOICE_PREFIX}-{year:04d}-{last:04d}" if last else None


def _lock_counter(session: Session, series: str) -> int:
    """The series' last number, locked until commit (PostgreSQL row lock; SQLite write lock)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
    session.execute(dialect_insert(_CTR).values(series=series, last=0).on_conflict_do_nothing())
    stmt = select(_CTR.c.last).where(_CTR.c.series == series)
    if dialect == "postgresql":
        stmt = stmt.with_for_update()
    return int(session.execute(stmt).scalar_one())


def _store(session: Session, bill: Bill, number: str, *, now: datetime, actor: str) -> None:
    invoice_id = session.execute(
        insert(_INV)
        .values(
            number=number,
            customer_id=bill.customer_id,
            period_from=bill.period_from,
            period_to=bill.period_to,
            status="final",
            currency=bill.currency,
            subtotal=bill.totals.subtotal,
            vat_rate=bill.totals.vat_rate,
            vat=bill.totals.vat,
            total=bill.totals.total,
            created_at=now,
            finalized_at=now,
            actor=actor,
        )
        .returning(_INV.c.id)
    ).scalar_one()
    # No RETURNING here: SQLite would insert row by row. (ticket, kind) is unique on a bill.
    session.execute(
        insert(_IL),
        [
            {
                "invoice_id": invoice_id,
                "ticket_id": line.ticket,
                "kind": line.kind,
                "description": line.description[:500],
                "minutes": line.minutes,
                "base": line.base,
                "extra_half_hours": line.extra_half_hours,
                "amount": line.amount,
            }
            for line in bill.lines
        ],
    )
    ids = {
        (t, kind): lid
        for lid, t, kind in session.execute(
            select(_IL.c.id, _IL.c.ticket_id, _IL.c.kind).where(_IL.c.invoice_id == invoice_id)
        )
    }
    _lock_rows(session, invoice_id, bill.lines, [ids[(ln.ticket, ln.kind)] for ln in bill.lines])


def _lock_rows(
    session: Session, invoice_id: int, lines: Sequence[BillLine], line_ids: Sequence[int]
) -> None:
    """Point each billed work-log row at its line, only if no other invoice took it."""
    pairs = [
        (wid, lid) for line, lid in zip(lines, line_ids, strict=True) for wid in line.worklog_ids
    ]
    if session.get_bind().dialect.name == "postgresql":
        _lock_rows_pg(session, pairs)
    elif pairs:
        session.connection().execute(
            update(_WL)
            .where(_WL.c.id == bindparam("wid"), _WL.c.invoice_line_id.is_(None))
            .values(invoice_line_id=bindparam("lid")),
            [{"wid": wid, "lid": lid} for wid, lid in pairs],
        )
    locked = session.execute(
        select(func.count())
        .select_from(_WL.join(_IL, _IL.c.id == _WL.c.invoice_line_id))
        .where(_IL.c.invoice_id == invoice_id)
    ).scalar_one()
    if int(locked) != len(pairs):
        raise Conflict("some of these work-log entries were invoiced meanwhile; try again")


def _lock_rows_pg(session: Session, pairs: Sequence[tuple[int, int]]) -> None:
    """One UPDATE from two arrays instead of a round trip per row."""
    if not pairs:
        return
    session.execute(
        text(
            "UPDATE worklog SET invoice_line_id = batch.lid"
            " FROM unnest(CAST(:wids AS integer[]), CAST(:lids AS integer[])) AS batch (wid, lid)"
            " WHERE worklog.id = batch.wid AND worklog.invoice_line_id IS NULL"
        ),
        {"wids": [wid for wid, _ in pairs], "lids": [lid for _, lid in pairs]},
    )


def _invoice_row(session: Session, number: str, *, for_update: bool = False) -> Any:
    stmt = select(_INV).where(_INV.c.number == number.strip())
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(f"no invoice {number}")
    return row


def void(
    session: Session, number: str, reason: str, *, now: datetime, actor: str
) -> dict[str, Any]:
    """Void a finalised invoice: it keeps its number, its work-log rows can be billed again."""
    identity.require(session, Act.VOID)
    if not reason or not reason.strip():
        raise BadInput("--reason must say why the invoice is void")
    row = _invoice_row(session, number, for_update=True)
    if row.status == "void":
        raise Refused(f"invoice {row.number} is already void")
    session.execute(
        update(_INV)
        .where(_INV.c.id == row.id)
        .values(status="void", voided_at=now, void_reason=reason.strip()[:500])
    )
    session.execute(
        update(_WL)
        .where(_WL.c.invoice_line_id.in_(select(_IL.c.id).where(_IL.c.invoice_id == row.id)))
        .values(invoice_line_id=None)
    )
    return invoice_json(session, row.number)


def invoice_json(session: Session, number: str) -> dict[str, Any]:
    """A stored invoice, in the bill document's shape plus its number and status."""
    inv = _invoice_row(session, number)
    customer = session.get(Customer, inv.customer_id)
    assert customer is not None
    stmt = (
        select(
            _IL.c.ticket_id,
            _IL.c.minutes,
            _IL.c.base,
            _IL.c.extra_half_hours,
            _IL.c.amount,
            _IL.c.kind,
            _IL.c.description,
            _TK.c.policy_version_id,
            _TK.c.category,
            _TK.c.topic,
        )
        .select_from(_IL.join(_TK, _TK.c.id == _IL.c.ticket_id))
        .where(_IL.c.invoice_id == inv.id)
        .order_by(_IL.c.id)
    )
    ctx = PricingContext(session=session)
    lines, cards = [], []
    for r in session.execute(stmt):
        card = ctx.card(r.policy_version_id, r.ticket_id, r.category, r.topic)
        cards.append((r.kind, card))
        lines.append(
            {
                "ticket": r.ticket_id,
                "minutes": r.minutes,
                "base": r.base,
                "extra_half_hours": r.extra_half_hours,
                "amount": r.amount,
                "kind": r.kind,
                "description": r.description,
                "rate": line_rate(r.kind, card.rates),
            }
        )
    vendor_policy = customer_policy(session, customer)
    first = cards[0][1].rates if cards else None
    vat_included = bool(first and first.vat_included)
    if ctx.policies:
        vendor = next(iter(ctx.policies.values()))[1].vendor
    else:
        vendor = vendor_policy.vendor if vendor_policy else ""
    return {
        "customer": customer.key,
        "customer_name": customer.name,
        "country": customer.country,
        "vendor": vendor,
        "number": inv.number,
        "status": inv.status,
        "period": {"from": inv.period_from, "to": inv.period_to},
        "currency": inv.currency,
        "vat_included": vat_included,
        "vat_rate": inv.vat_rate,
        "lines": lines,
        "subtotal": inv.subtotal,
        "vat": inv.vat,
        "total": inv.total,
        "rates": rates_applied(cards),
        "finalized_at": inv.finalized_at,
        "voided_at": inv.voided_at,
        "void_reason": inv.void_reason,
        "actor": inv.actor,
    }


def list_invoices(session: Session, customer: str | None = None) -> list[dict[str, Any]]:
    """Stored invoices, oldest number first (``services.views.list_invoices``)."""
    from deskctl.services import views
    from deskctl.store.dbapi import Reader

    return views.list_invoices(Reader.over(session), customer)
