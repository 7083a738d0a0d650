"""Drafting bills (docs/rules.md §7): the free work-log rows of a period, priced per ticket."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlmodel import Session, col

from deskctl.domain.billing import (
    InvoiceTotals,
    LineCard,
    PriceLine,
    WorkEntry,
    billing_terms,
    cents,
    covers,
    invoice_totals,
    price_ticket,
    rate_card_for,
)
from deskctl.domain.policy import Policy, RateCard
from deskctl.errors import BadInput, NotFound
from deskctl.services import masterdata, policies
from deskctl.services.billing.rates import rates_applied
from deskctl.store.models import (
    Customer,
    Invoice,
    InvoiceLine,
    PolicyVersion,
    Product,
    Ticket,
    WorkLog,
    pk,
    table_of,
)
from deskctl.store.types import Cents

ZERO = Decimal("0.00")


_WL = table_of(WorkLog)


_TK = table_of(Ticket)


_IL = table_of(InvoiceLine)


_INV = table_of(Invoice)


_CU = table_of(Customer)


@dataclass(frozen=True)
class BillLine:
    """One line of a bill, and the work-log rows it locks once finalised."""

    ticket: int
    minutes: int
    base: Decimal
    extra_half_hours: int
    amount: Decimal
    kind: str
    description: str
    rate: Decimal
    worklog_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Bill:
    customer_id: int
    customer: str
    customer_name: str
    country: str
    vendor: str
    period_from: date
    period_to: date
    currency: str
    vat_included: bool
    lines: tuple[BillLine, ...]
    totals: InvoiceTotals
    rates: tuple[dict[str, Any], ...] = ()


class _Row(NamedTuple):
    id: int
    ticket_id: int
    minutes: int
    kind: str


@dataclass(frozen=True)
class _Facts:
    id: int
    customer_id: int
    policy_version_id: int | None
    plan: str | None
    billing_mode: str | None
    category: str | None
    topic: str | None
    product: str | None
    version: str | None


@dataclass
class _Invoiced:
    base: Decimal = ZERO
    blocks: int = 0
    amount: Decimal = ZERO


@dataclass
class PricingContext:
    """What pricing needs beyond the rows, loaded once per bill run."""

    session: Session
    policies: dict[int, tuple[PolicyVersion, Policy]] = field(default_factory=dict)
    products: dict[str, str] = field(default_factory=dict)
    split_parents: set[int] = field(default_factory=set)
    cards: dict[tuple[int | None, str | None, str | None], LineCard] = field(default_factory=dict)

    def card(
        self, version_id: int | None, ticket_id: int, category: str | None, topic: str | None
    ) -> LineCard:
        key = (version_id, category, topic)
        if key not in self.cards:
            rates = self.policy(version_id, ticket_id)[1].rates
            self.cards[key] = rate_card_for(rates, category, topic)
        return self.cards[key]

    def policy(self, version_id: int | None, ticket_id: int) -> tuple[PolicyVersion, Policy]:
        if version_id is None:
            raise NotFound(f"ticket {ticket_id} has no policy version")
        if version_id not in self.policies:
            self.policies[version_id] = policies.by_version_id(self.session, version_id)
        return self.policies[version_id]


def period_bounds(period_from: date, period_to: date) -> tuple[datetime, datetime]:
    """``[from 00:00, to + 1 day 00:00)`` in UTC; refuses a period that ends before it starts."""
    if period_to < period_from:
        raise BadInput(f"--to {period_to} is before --from {period_from}")
    start = datetime.combine(period_from, time(0), UTC)
    return start, datetime.combine(period_to + timedelta(days=1), time(0), UTC)


def draft(session: Session, customer: str | None, period_from: date, period_to: date) -> list[Bill]:
    """The bill of one customer (always one, maybe empty), or of every customer with lines."""
    customer_id = masterdata.customer_by_key(session, customer).id if customer else None
    bills = _collect(session, customer_id, period_from, period_to)
    if customer is None:
        return [b for b in bills if b.lines]
    if bills:
        return bills
    return [_empty_bill(session, customer, period_from, period_to)]


def _collect(
    session: Session, customer_id: int | None, period_from: date, period_to: date
) -> list[Bill]:
    start, end = period_bounds(period_from, period_to)
    where = [_WL.c.invoice_line_id.is_(None), _WL.c.at >= start, _WL.c.at < end]
    if customer_id is not None:
        where.append(_TK.c.customer_id == customer_id)
    billed_tickets = (
        select(_WL.c.ticket_id)
        .select_from(_WL.join(_TK, _TK.c.id == _WL.c.ticket_id))
        .where(*where)
    )
    rows = _rows(
        session,
        select(_WL.c.id, _WL.c.ticket_id, _WL.c.minutes, _WL.c.kind)
        .select_from(_WL.join(_TK, _TK.c.id == _WL.c.ticket_id))
        .where(*where),
    )
    if not rows:
        return []
    facts = _facts(session, billed_tickets)
    prior = _prior_rows(session, billed_tickets)
    ctx = PricingContext(session=session)
    ctx.products = {
        name: current
        for name, current in session.execute(
            select(col(Product.name), col(Product.current_version))
        )
    }
    ctx.split_parents = {
        int(pid)
        for pid in session.execute(
            select(_TK.c.parent_id).where(_TK.c.parent_id.in_(billed_tickets)).distinct()
        ).scalars()
    }
    invoiced = _invoiced(session, billed_tickets)
    by_ticket = _group(rows)
    lines_by_customer: dict[int, list[BillLine]] = defaultdict(list)
    versions_by_customer: dict[int, list[int]] = defaultdict(list)
    for ticket_id in sorted(by_ticket):
        f = facts[ticket_id]
        lines_by_customer[f.customer_id] += _price(ctx, f, by_ticket[ticket_id], prior, invoiced)
        if f.policy_version_id is not None:
            versions_by_customer[f.customer_id].append(f.policy_version_id)
    customers = _customers(session, list(lines_by_customer))
    bills = [
        _make_bill(
            ctx, customers[cid], lines, versions_by_customer[cid], facts, period_from, period_to
        )
        for cid, lines in lines_by_customer.items()
    ]
    return sorted(bills, key=lambda b: b.customer)


def _rows(session: Session, stmt: Any) -> list[_Row]:
    return [_Row(r.id, r.ticket_id, r.minutes, r.kind) for r in session.execute(stmt)]


def _prior_rows(session: Session, ticket_ids: Any) -> dict[tuple[int, str], list[_Row]]:
    """Rows on finalised invoices, by ticket and the kind of line that billed them."""
    stmt = (
        select(_WL.c.id, _WL.c.ticket_id, _WL.c.minutes, _WL.c.kind, _IL.c.kind.label("line_kind"))
        .select_from(_WL.join(_IL, _IL.c.id == _WL.c.invoice_line_id))
        .where(_WL.c.ticket_id.in_(ticket_ids))
    )
    grouped: dict[tuple[int, str], list[_Row]] = defaultdict(list)
    for r in session.execute(stmt):
        grouped[(r.ticket_id, r.line_kind)].append(_Row(r.id, r.ticket_id, r.minutes, r.kind))
    return grouped


def _group(rows: Iterable[_Row]) -> dict[int, list[_Row]]:
    grouped: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        grouped[row.ticket_id].append(row)
    return grouped


def _facts(session: Session, ticket_ids: Any) -> dict[int, _Facts]:
    stmt = select(
        _TK.c.id,
        _TK.c.customer_id,
        _TK.c.policy_version_id,
        _TK.c.plan,
        _TK.c.billing_mode,
        _TK.c.category,
        _TK.c.topic,
        _TK.c.product,
        _TK.c.version,
    ).where(_TK.c.id.in_(ticket_ids))
    return {r.id: _Facts(*r) for r in session.execute(stmt)}


def _invoiced(session: Session, ticket_ids: Any) -> dict[tuple[int, str], _Invoiced]:
    """What finalised (not void) invoices already charged, per ticket and kind of line."""
    stmt = (
        select(
            _IL.c.ticket_id,
            _IL.c.kind,
            func.sum(_IL.c.base, type_=Cents()),
            func.sum(_IL.c.extra_half_hours),
            func.sum(_IL.c.amount, type_=Cents()),
        )
        .select_from(_IL.join(_INV, _INV.c.id == _IL.c.invoice_id))
        .where(_INV.c.status == "final", _IL.c.ticket_id.in_(ticket_ids))
        .group_by(_IL.c.ticket_id, _IL.c.kind)
    )
    return {
        (t, kind): _Invoiced(_money(base), int(blocks or 0), _money(amount))
        for t, kind, base, blocks, amount in session.execute(stmt)
    }


def _money(value: Any) -> Decimal:
    return ZERO if value is None else cents(Decimal(value))


def _price(
    ctx: PricingContext,
    facts: _Facts,
    billed: Sequence[_Row],
    prior: Mapping[tuple[int, str], Sequence[_Row]],
    invoiced: Mapping[tuple[int, str], _Invoiced],
) -> list[BillLine]:
    """The lines a ticket adds: new kinds of line priced on their own, later work on an
    invoiced kind priced on all its minutes less what was invoiced for it."""
    _, policy = ctx.policy(facts.policy_version_id, facts.id)
    card = ctx.card(facts.policy_version_id, facts.id, facts.category, facts.topic)
    mode, current = billing_terms(
        policy,
        billing_mode=facts.billing_mode,
        plan=facts.plan,
        version=facts.version,
        product_current=ctx.products.get(facts.product or ""),
    )

    def priced(rows: Iterable[_Row]) -> list[PriceLine]:
        lines = price_ticket(
            facts.id,
            [WorkEntry(r.minutes, r.kind) for r in rows],
            mode=mode,
            rates=card.rates,
            version_current=current,
            category=facts.category or "defect",
            split_parent=facts.id in ctx.split_parents,
        )
        return [_named(line, card.service) for line in lines]

    lines = []
    for line in priced(billed):
        rows = [r for r in billed if covers(line.kind, r.kind)]
        before = invoiced.get((facts.id, line.kind))
        earlier = prior.get((facts.id, line.kind))
        if before is None or not earlier:
            lines.append(_line(line, rows))
            continue
        whole = {p.kind: p for p in priced([*earlier, *billed])}.get(line.kind, line)
        lines.append(_follow_up(whole, rows, before))
    return lines


def _named(line: PriceLine, service: str) -> PriceLine:
    if line.kind != "hourly:service" or service == "service":
        return line
    return replace(line, description=service + line.description.removeprefix("service"))


def _line(line: PriceLine, rows: Sequence[_Row]) -> BillLine:
    return BillLine(
        ticket=line.ticket,
        minutes=line.minutes,
        base=line.base,
        extra_half_hours=line.extra_half_hours,
        amount=line.amount,
        kind=line.kind,
        description=line.description,
        rate=line.rate,
        worklog_ids=tuple(r.id for r in rows),
    )


def _follow_up(line: PriceLine, rows: Sequence[_Row], before: _Invoiced) -> BillLine:
    """The difference between the ticket's whole price and what was invoiced before."""
    minutes = sum(r.minutes for r in rows)
    amount = line.amount - before.amount
    description = (
        f"{line.description}; {minutes} min on this invoice, {before.amount} invoiced before"
    )
    base, blocks = line.base - before.base, line.extra_half_hours - before.blocks
    if amount < 0 or base < 0 or blocks < 0:
        amount, base, blocks = ZERO, ZERO, 0
        description += f"; no charge: the ticket now prices at {line.amount}"
    return BillLine(
        ticket=line.ticket,
        minutes=minutes,
        base=cents(base),
        extra_half_hours=blocks,
        amount=cents(amount),
        kind=line.kind,
        description=description[:500],
        rate=line.rate,
        worklog_ids=tuple(r.id for r in rows),
    )


def _customers(session: Session, ids: list[int]) -> dict[int, Customer]:
    rows = session.execute(select(Customer).where(_CU.c.id.in_(ids))).scalars()
    return {c.id: c for c in rows}


def _make_bill(
    ctx: PricingContext,
    customer: Customer,
    lines: list[BillLine],
    version_ids: list[int],
    facts: Mapping[int, _Facts],
    period_from: date,
    period_to: date,
) -> Bill:
    vendor_policy = _invoicing_policy(ctx, max(version_ids))
    rates = vendor_policy.rates or RateCard()
    vat_rate = customer.vat_rate if customer.vat_rate is not None else rates.default_vat_rate
    totals = invoice_totals(lines, vat_rate)
    line_cards = [(line.kind, _card_of(ctx, facts[line.ticket])) for line in lines]
    return Bill(
        customer_id=pk(customer),
        customer=customer.key,
        customer_name=customer.name,
        country=customer.country,
        vendor=vendor_policy.vendor,
        period_from=period_from,
        period_to=period_to,
        currency=_currency(line_cards, rates.currency),
        vat_included=rates.vat_included,
        lines=tuple(lines),
        totals=totals,
        rates=tuple(rates_applied(line_cards)),
    )


def _card_of(ctx: PricingContext, facts: _Facts) -> LineCard:
    return ctx.card(facts.policy_version_id, facts.id, facts.category, facts.topic)


def _invoicing_policy(ctx: PricingContext, version_id: int) -> Policy:
    """The latest version of the policy the newest ticket was opened under: today's VAT terms."""
    row, _ = ctx.policy(version_id, 0)
    return policies.latest(ctx.session, row.name)[1]


def _currency(cards: Sequence[tuple[str, LineCard]], default: str) -> str:
    found = {c.rates.currency for _, c in cards if c.rates is not None} or {default}
    if len(found) > 1:
        raise BadInput(f"the lines are in several currencies ({', '.join(sorted(found))})")
    return found.pop()


def _empty_bill(session: Session, customer: str, period_from: date, period_to: date) -> Bill:
    row = masterdata.customer_by_key(session, customer)
    policy = customer_policy(session, row)
    rates = (policy.rates if policy else None) or RateCard()
    vat_rate = row.vat_rate if row.vat_rate is not None else rates.default_vat_rate
    return Bill(
        customer_id=pk(row),
        customer=row.key,
        customer_name=row.name,
        country=row.country,
        vendor=policy.vendor if policy else "",
        period_from=period_from,
        period_to=period_to,
        currency=rates.currency,
        vat_included=rates.vat_included,
        lines=(),
        totals=invoice_totals([], vat_rate),
    )


def customer_policy(session: Session, customer: Customer) -> Policy | None:
    contracts = masterdata.contracts_of(session, pk(customer))
    name = contracts[-1].policy if contracts else customer.policy
    try:
        return policies.latest(session, name)[1]
    except (NotFound, BadInput):
        return None


def bill_json(bill: Bill) -> dict[str, Any]:
    """The bill document of docs/rules.md §10 (draft), with the extra keys the invoice prints."""
    return {
        "customer": bill.customer,
        "customer_name": bill.customer_name,
        "country": bill.country,
        "vendor": bill.vendor,
        "number": None,
        "status": "draft",
        "period": {"from": bill.period_from, "to": bill.period_to},
        "currency": bill.currency,
        "vat_included": bill.vat_included,
        "vat_rate": bill.totals.vat_rate,
        "lines": [_line_json(line) for line in bill.lines],
        "subtotal": bill.totals.subtotal,
        "vat": bill.totals.vat,
        "total": bill.totals.total,
        "rates": list(bill.rates),
    }


def _line_json(line: BillLine) -> dict[str, Any]:
    return {
        "ticket": line.ticket,
        "minutes": line.minutes,
        "base": line.base,
        "extra_half_hours": line.extra_half_hours,
        "amount": line.amount,
        "kind": line.kind,
        "description": line.description,
        "rate": line.rate,
    }
