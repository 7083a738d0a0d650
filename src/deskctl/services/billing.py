"""Work log and invoices (docs/rules.md §7): log time on tickets, draft bills, finalise, void.

Pricing is :mod:`deskctl.domain.billing`; this module decides *what* is billed
and keeps the books straight.

- A work-log entry is a WORKLOG event and a ``worklog`` row (``event_seq``
  links them), written in one transaction. Entries are never edited: a
  negative entry corrects earlier ones, and may only take back time of its
  kind that no finalised invoice holds (void the invoice first). One entry is
  at most 24 h: a longer one is almost surely a typo.
- A bill covers a customer's work-log rows dated in ``[from, to]`` (whole UTC
  days) that are not on a finalised invoice (``invoice_line_id IS NULL``). A
  draft stores nothing. ``--all`` lists only customers with something to bill.
  Rows no line bills (an included-plan defect, connection time on an
  out-of-scope ticket) stay free: they cost nothing now and are billed if the
  ticket is re-triaged into something billable.
- Later work on an already invoiced ticket: that kind of line is priced on all
  its invoiced and newly billed minutes, and the new line charges the
  difference from what finalised invoices already charged for it (base,
  started blocks and amount each). So the intervention base is charged once:
  21 min then 30 more min bill 80.00 then 35.00 (51 min = 115.00). The new
  line may be 0.00 (the time fit in blocks already paid); it still locks its
  rows. Should the ticket now price *below* what was invoiced (re-triaged
  after invoicing), the line charges nothing and says so: a refund is a void.
- Finalising takes the invoice counter of the year (``SELECT ... FOR UPDATE``
  on PostgreSQL, the write transaction on SQLite) *before* reading what to
  bill, so two finalisations run one after the other: no line billed twice, no
  number skipped or repeated. Nothing to bill is refused (exit 1) and uses no
  number. The series and the number's year are the UTC year of finalisation.
- Voiding keeps the invoice, its lines and its number (never reused) and frees
  its work-log rows, which the next bill of their period picks up again.
- A ticket without a stored ``billing_mode`` (opened before the entitlement
  check recorded one) gets its plan's mode; a per-intervention plan bills the
  previous-version rate when the ticket's version is older than the product's
  current release (``domain.entitlement.is_current``) and the policy bills
  previous versions. An unreadable version counts as current. ``warranty``
  bills like ``included``.
- Rate names: hourly keys match whatever ``-``/``_`` they are written with,
  and a billable service whose topic has its own hourly rate (DMS
  ``data-recovery``) is billed at that rate and named after it.
- VAT: the customer's rate, else ``default_vat_rate`` of the latest version of
  the policy the bill's newest ticket was opened under.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlmodel import Session, col

from deskctl.domain import lifecycle
from deskctl.domain.billing import (
    WORK_KINDS,
    InvoiceTotals,
    LineCard,
    PriceLine,
    WorkEntry,
    billing_terms,
    cents,
    covers,
    invoice_totals,
    next_invoice_number,
    price_ticket,
    rate_card_for,
    rate_key,
)
from deskctl.domain.durations import parse_duration
from deskctl.domain.policy import Policy, RateCard
from deskctl.domain.roles import Act
from deskctl.errors import BadInput, Conflict, NotFound, Refused
from deskctl.services import masterdata, policies, tickets
from deskctl.store import identity
from deskctl.store.models import (
    Customer,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    PolicyVersion,
    Product,
    Ticket,
    WorkLog,
    pk,
    table_of,
)
from deskctl.store.types import Cents

INVOICE_PREFIX = "INV"
MAX_ENTRY_MINUTES = 24 * 60
ZERO = Decimal("0.00")

_WL = table_of(WorkLog)
_TK = table_of(Ticket)
_IL = table_of(InvoiceLine)
_INV = table_of(Invoice)
_CTR = table_of(InvoiceCounter)
_CU = table_of(Customer)


# -- work log ----------------------------------------------------------------------------


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


# -- bills -------------------------------------------------------------------------------


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
class _Context:
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
    ctx = _Context(session=session)
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
    ctx: _Context,
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
    ctx: _Context,
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


def _card_of(ctx: _Context, facts: _Facts) -> LineCard:
    return ctx.card(facts.policy_version_id, facts.id, facts.category, facts.topic)


def _invoicing_policy(ctx: _Context, version_id: int) -> Policy:
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
    policy = _customer_policy(session, row)
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


def _customer_policy(session: Session, customer: Customer) -> Policy | None:
    contracts = masterdata.contracts_of(session, pk(customer))
    name = contracts[-1].policy if contracts else customer.policy
    try:
        return policies.latest(session, name)[1]
    except (NotFound, BadInput):
        return None


# -- rates shown on an invoice -------------------------------------------------------------


def line_rate(kind: str, rates: RateCard | None) -> Decimal | None:
    """The unit price of a kind of line under a rate card (as PriceLine.rate has it)."""
    if rates is None:
        return None
    if kind.startswith("intervention_"):
        return cents(rates.overtime_price)
    if kind == "incident":
        return cents(rates.incident_price) if rates.incident_price is not None else None
    if kind.startswith("hourly:"):
        item = kind.removeprefix("hourly:")
        hourly = {rate_key(k): v for k, v in rates.hourly.items()}
        price = hourly.get(item)
        if price is None and item == "data_recovery":
            price = hourly.get("recovery")
        return cents(price) if price is not None else None
    return None


def rates_applied(cards: Iterable[tuple[str, LineCard]]) -> list[dict[str, Any]]:
    """The rate-card items the lines used, once each, in rate-card order."""
    seen: list[dict[str, Any]] = []
    for kind, card in cards:
        for item in _rate_items(kind, card):
            if item not in seen:
                seen.append(item)
    return sorted(seen, key=_rate_rank)


def _rate_rank(item: Mapping[str, Any]) -> int:
    label = str(item["item"])
    for rank, word in enumerate(("current version", "previous version", "each further")):
        if word in label:
            return rank
    return 3


def _rate_items(kind: str, line_card: LineCard) -> list[dict[str, Any]]:
    card = line_card.rates
    if card is None:
        return []
    items = []
    if kind.startswith("intervention_"):
        which = "current" if kind == "intervention_current" else "previous"
        rate = card.current if which == "current" else card.previous
        label = (
            "occasional intervention, current version"
            if which == "current"
            else "single intervention, previous version"
        )
        if rate is not None:
            items.append(_item(label, rate.price, f"includes {rate.included_minutes} min"))
        items.append(
            _item(
                f"each further {card.overtime_block_minutes} min, started",
                card.overtime_price,
                "per block",
            )
        )
    elif kind == "incident" and card.incident_price is not None:
        items.append(_item("incident, flat price", card.incident_price, "per incident"))
    elif kind.startswith("hourly:"):
        price = line_rate(kind, card)
        if price is not None:
            name = kind.removeprefix("hourly:").replace("_", " ")
            items.append(_item(line_card.service if name == "service" else name, price, "per hour"))
    return items


def _item(label: str, price: Decimal, unit: str) -> dict[str, Any]:
    return {"item": label, "price": cents(price), "unit": unit}


# -- documents -----------------------------------------------------------------------------


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


# -- finalising and voiding ------------------------------------------------------------------


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


# -- reading invoices ------------------------------------------------------------------------


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
    ctx = _Context(session=session)
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
    vendor_policy = _customer_policy(session, customer)
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
