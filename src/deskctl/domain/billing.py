"""Pricing and invoice arithmetic (docs/rules.md §7; seed 002 is the price list).

Pure functions over the policy's :class:`RateCard`. Money is ``Decimal`` and every
amount is rounded half-up to cents.

Rules decided here, where the spec and seeds are silent:

- An intervention is one ticket; a split child is priced on its own and a split
  parent is not an intervention (its problems are billed through its children).
- Billable time is the sum of the ticket's work-log entries; corrections are
  negative entries. A sum below zero is a broken work log and raises ``BadInput``
  (clamping to zero would hide the mistake). A ticket whose time sums to zero is
  not billed: no work, no intervention.
- The intervention price includes its minutes; each *started* overtime block
  beyond them costs the overtime price (seed 002: 20 min -> 45, 21 min -> 80).
- The ticket's scope category decides what is billed; the kind of a work entry
  only singles out diagnosis (billed on out-of-scope tickets) and data recovery
  (billed apart on every ticket, seed 002 "addebitate come servizi a parte").
- ``always_supported`` and ``misuse`` tickets are never billed as interventions.
- Hourly items are pro-rata to the minute unless a block length is given.
- VAT is a fraction (0.22 for 22 %), computed once on the subtotal, not per line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Protocol

from deskctl.domain.policy import BILLING_MODES, CATEGORIES, InterventionRate, Policy, RateCard
from deskctl.domain.versions import is_current
from deskctl.errors import BadInput

CENT = Decimal("0.01")
WORK_KINDS = ("connection", "diagnosis", "onsite", "service", "recovery")
# Hourly items, in the order their lines appear on a ticket.
DIAGNOSIS = "diagnosis"
SERVICE = "service"
DATA_RECOVERY = "data_recovery"
# A rate-card key also accepted for an hourly item (policy.py's comment says "recovery").
_HOURLY_ALIASES = {DATA_RECOVERY: "recovery"}


@dataclass(frozen=True)
class WorkEntry:
    """One work-log entry; negative minutes correct earlier entries."""

    minutes: int
    kind: str = "connection"  # one of WORK_KINDS


@dataclass(frozen=True)
class PriceLine:
    """One priced item of a ticket.

    ``amount == base + extra_half_hours * rate`` for interventions; hourly and
    incident lines have ``base == amount`` and no extra blocks. ``rate`` is the
    unit price shown to the customer: the overtime block price, the hourly rate
    or the flat incident price.
    """

    ticket: int
    minutes: int
    base: Decimal
    extra_half_hours: int  # started overtime blocks (of the rate card's block length)
    amount: Decimal
    kind: str  # "intervention_current" | "intervention_previous" | "incident" | "hourly:<item>"
    description: str
    rate: Decimal


@dataclass(frozen=True)
class InvoiceTotals:
    subtotal: Decimal
    vat_rate: Decimal  # a fraction: 0.22 is 22 %
    vat: Decimal
    total: Decimal


def cents(value: Decimal) -> Decimal:
    """Round half-up to cents (0.005 -> 0.01)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def price_intervention(
    ticket: int,
    minutes: int,
    rate: InterventionRate,
    overtime_price: Decimal,
    block_minutes: int = 30,
    *,
    version_current: bool = True,
) -> PriceLine:
    """Base price including ``rate.included_minutes``, plus each started block beyond."""
    _check_minutes(ticket, minutes)
    _check_price(rate.price, "intervention price")
    _check_price(overtime_price, "overtime price")
    _check_block(block_minutes)
    if rate.included_minutes < 0:
        raise BadInput(f"included minutes must not be negative, got {rate.included_minutes}")
    over = max(0, minutes - rate.included_minutes)
    blocks = math.ceil(over / block_minutes)
    which = "current" if version_current else "previous"
    description = f"intervention, {which} version: {minutes} min"
    if blocks:
        description += (
            f" ({rate.included_minutes} included + {blocks} started block(s)"
            f" of {block_minutes} min at {cents(overtime_price)})"
        )
    return PriceLine(
        ticket=ticket,
        minutes=minutes,
        base=cents(rate.price),
        extra_half_hours=blocks,
        amount=cents(rate.price + blocks * overtime_price),
        kind=f"intervention_{which}",
        description=description,
        rate=cents(overtime_price),
    )


def price_hourly(
    ticket: int,
    minutes: int,
    hourly_rate: Decimal,
    name: str,
    *,
    block_minutes: int | None = None,
) -> PriceLine:
    """Time at an hourly rate: pro-rata to the minute, or per started block if given.

    With ``block_minutes=15`` a 16-minute diagnosis is billed as 30 minutes.
    """
    _check_minutes(ticket, minutes)
    _check_price(hourly_rate, f"hourly rate {name}")
    billed = minutes
    description = f"{name}: {minutes} min at {cents(hourly_rate)}/h"
    if block_minutes is not None:
        _check_block(block_minutes)
        billed = math.ceil(minutes / block_minutes) * block_minutes
        description = (
            f"{name}: {minutes} min, billed as {billed // block_minutes} started block(s)"
            f" of {block_minutes} min at {cents(hourly_rate)}/h"
        )
    amount = cents(hourly_rate * billed / 60)
    return PriceLine(
        ticket=ticket,
        minutes=minutes,
        base=amount,
        extra_half_hours=0,
        amount=amount,
        kind=f"hourly:{name}",
        description=description,
        rate=cents(hourly_rate),
    )


def price_incident(ticket: int, minutes: int, price: Decimal) -> PriceLine:
    """Pay-per-incident: one flat price whatever the time spent."""
    _check_minutes(ticket, minutes)
    _check_price(price, "incident price")
    return PriceLine(
        ticket=ticket,
        minutes=minutes,
        base=cents(price),
        extra_half_hours=0,
        amount=cents(price),
        kind="incident",
        description=f"incident (flat price): {minutes} min",
        rate=cents(price),
    )


def price_ticket(
    ticket: int,
    worklog: Sequence[WorkEntry],
    *,
    mode: str,
    rates: RateCard | None,
    version_current: bool,
    category: str,
    split_parent: bool = False,
    hourly_block_minutes: int | None = None,
) -> list[PriceLine]:
    """The lines one ticket adds to a bill; empty when nothing is billable.

    By category (``mode`` only matters for ``defect``):

    - ``defect``: all time except data recovery is the intervention. ``included``
      bills nothing for it, ``per_intervention`` bills the current or previous
      rate (``version_current``), ``pay_per_incident`` bills ``incident_price``.
    - ``always_supported``, ``misuse``: no intervention is billed.
    - ``out_of_scope``: only ``diagnosis`` entries, at ``hourly.diagnosis`` (the
      customer's fault); other time was never approved by the customer.
    - ``billable_service``: all time except data recovery, at ``hourly.service``.
    - Every category: ``recovery`` entries at ``hourly.data_recovery``.

    A split parent gets no intervention line (its children carry them) but its
    own hourly items are still billed. Untriaged tickets should be passed as
    ``defect``. A needed rate missing from the policy raises ``BadInput`` naming
    the key.
    """
    if mode not in BILLING_MODES:
        raise BadInput(f"unknown billing mode {mode!r}; expected one of {', '.join(BILLING_MODES)}")
    if category not in CATEGORIES:
        raise BadInput(f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")
    by_kind = _minutes_by_kind(ticket, worklog)
    recovery = _billable_minutes(ticket, by_kind["recovery"], "data recovery time")
    work = _billable_minutes(ticket, sum(by_kind.values()) - by_kind["recovery"], "work time")

    lines: list[PriceLine] = []
    if category == "defect" and not split_parent and work > 0:
        if mode == "per_intervention":
            lines.append(_intervention(ticket, work, _rates(rates), version_current))
        elif mode == "pay_per_incident":
            price = _rates(rates).incident_price
            if price is None:
                raise BadInput("policy has no rates.incident_price")
            lines.append(price_incident(ticket, work, price))
    elif category == "out_of_scope":
        diagnosis = _billable_minutes(ticket, by_kind["diagnosis"], "diagnosis time")
        lines += _hourly(ticket, diagnosis, rates, DIAGNOSIS, hourly_block_minutes)
    elif category == "billable_service":
        lines += _hourly(ticket, work, rates, SERVICE, hourly_block_minutes)
    lines += _hourly(ticket, recovery, rates, DATA_RECOVERY, hourly_block_minutes)
    return lines


class Priced(Protocol):
    """What the invoice totals read of a line: its ticket and its amount."""

    @property
    def ticket(self) -> int: ...

    @property
    def amount(self) -> Decimal: ...


def invoice_totals(lines: Sequence[Priced], vat_rate: Decimal) -> InvoiceTotals:
    """Subtotal of the lines, VAT once on the subtotal (rounded half-up), total.

    ``vat_rate`` is a fraction, 0 <= rate < 1 (0.22 for 22 %); see ``parse_vat_rate``.
    """
    rate = _vat_fraction(vat_rate)
    for line in lines:
        if line.amount < 0:
            raise BadInput(f"ticket {line.ticket}: a bill line cannot be negative ({line.amount})")
    subtotal = cents(sum((line.amount for line in lines), Decimal("0")))
    vat = cents(subtotal * rate)
    return InvoiceTotals(subtotal=subtotal, vat_rate=rate, vat=vat, total=subtotal + vat)


def parse_vat_rate(text: str) -> Decimal:
    """``"22%"`` or ``"0.22"`` -> ``Decimal("0.22")``; a bare ``"22"`` is refused as ambiguous."""
    raw = str(text).strip()
    percent = raw.endswith("%")
    try:
        value = Decimal(raw.removesuffix("%").strip())
    except InvalidOperation:
        raise BadInput(f"VAT rate: not a number: {text!r} (write 22% or 0.22)") from None
    if percent:
        value = value / 100
    elif value >= 1:
        raise BadInput(f"VAT rate {text!r} is not a fraction; write {raw}% or {value / 100}")
    return _vat_fraction(value)


def next_invoice_number(last: str | None, year: int, prefix: str = "INV") -> str:
    """The number after ``last`` in an unbroken sequence per year: ``INV-2026-0001``.

    ``last`` is the latest number issued (of any year, or None). A new year starts
    again at 0001; a ``last`` from a later year is refused, since numbers must not
    go back in time. Past 9999 the sequence widens (``INV-2026-10000``).
    """
    if not prefix or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_/-]*", prefix):
        raise BadInput(f"invoice prefix must be letters, digits, '-', '_' or '/', got {prefix!r}")
    if not 1 <= year <= 9999:
        raise BadInput(f"invoice year out of range: {year}")
    serial = 1
    if last is not None:
        match = re.fullmatch(rf"{re.escape(prefix)}-(\d{{4}})-(\d{{4,}})", last.strip())
        if match is None:
            raise BadInput(f"last invoice number {last!r} is not like {prefix}-{year}-0001")
        last_year, last_serial = int(match.group(1)), int(match.group(2))
        if last_year > year:
            raise BadInput(f"last invoice {last} is from {last_year}, after {year}")
        if last_year == year:
            serial = last_serial + 1
    return f"{prefix}-{year}-{serial:04d}"


def _intervention(ticket: int, minutes: int, rates: RateCard, version_current: bool) -> PriceLine:
    rate = rates.current if version_current else rates.previous
    if rate is None:
        key = "current" if version_current else "previous"
        raise BadInput(f"policy has no rates.{key}")
    return price_intervention(
        ticket,
        minutes,
        rate,
        rates.overtime_price,
        rates.overtime_block_minutes,
        version_current=version_current,
    )


def _hourly(
    ticket: int, minutes: int, rates: RateCard | None, item: str, block_minutes: int | None
) -> list[PriceLine]:
    if minutes == 0:
        return []
    hourly = _rates(rates).hourly
    rate = hourly.get(item)
    if rate is None and item in _HOURLY_ALIASES:
        rate = hourly.get(_HOURLY_ALIASES[item])
    if rate is None:
        raise BadInput(f"policy has no rates.hourly.{item}")
    return [price_hourly(ticket, minutes, rate, item, block_minutes=block_minutes)]


def _rates(rates: RateCard | None) -> RateCard:
    if rates is None:
        raise BadInput("policy has no rates")
    return rates


def _minutes_by_kind(ticket: int, worklog: Sequence[WorkEntry]) -> dict[str, int]:
    by_kind = dict.fromkeys(WORK_KINDS, 0)
    for entry in worklog:
        if entry.kind not in by_kind:
            raise BadInput(
                f"ticket {ticket}: unknown work kind {entry.kind!r};"
                f" expected one of {', '.join(WORK_KINDS)}"
            )
        by_kind[entry.kind] += entry.minutes
    return by_kind


def _billable_minutes(ticket: int, minutes: int, what: str) -> int:
    if minutes < 0:
        raise BadInput(
            f"ticket {ticket}: {what} sums to {minutes} min; corrections exceed the time logged"
        )
    return minutes


def _check_minutes(ticket: int, minutes: int) -> None:
    if minutes < 0:
        raise BadInput(f"ticket {ticket}: billable minutes cannot be negative ({minutes})")


def _check_price(price: Decimal, what: str) -> None:
    if not price.is_finite() or price < 0:
        raise BadInput(f"{what} must be a non-negative amount, got {price}")


def _check_block(block_minutes: int) -> None:
    if block_minutes <= 0:
        raise BadInput(f"block length must be a positive number of minutes, got {block_minutes}")


def _vat_fraction(vat_rate: Decimal) -> Decimal:
    try:
        rate = Decimal(str(vat_rate))
    except InvalidOperation:
        raise BadInput(f"VAT rate: not a number: {vat_rate!r}") from None
    if not rate.is_finite() or not 0 <= rate < 1:
        raise BadInput(f"VAT rate must be a fraction from 0 to below 1 (0.22 for 22%), got {rate}")
    return rate


# -- a ticket's terms: the mode, the version rate and the rate card its lines use ------

# Stored billing modes (entitlement decisions and plan modes) -> (price_ticket mode, current?)
_MODES: dict[str, tuple[str, bool]] = {
    "included": ("included", True),
    "warranty": ("included", True),
    "per_intervention_current": ("per_intervention", True),
    "per_intervention_previous": ("per_intervention", False),
    "pay_per_incident": ("pay_per_incident", True),
}


@dataclass(frozen=True)
class LineCard:
    """The rate card a ticket's lines are priced with, and what its billable service is called."""

    rates: RateCard | None
    service: str = "service"


def billing_terms(
    policy: Policy,
    *,
    billing_mode: str | None,
    plan: str | None,
    version: str | None,
    product_current: str | None,
) -> tuple[str, bool]:
    """(price_ticket mode, version current?) for a ticket; see the module docstring."""
    if billing_mode in _MODES:
        return _MODES[billing_mode]
    mode = billing_mode
    if mode is None:
        plan_row = policy.plans.get(plan or "")
        mode = plan_row.billing if plan_row else "included"
    if mode == "included" or mode == "pay_per_incident":
        return mode, True
    if mode != "per_intervention":
        raise BadInput(f"unknown billing mode {mode!r}")
    rules = policy.entitlement
    if rules.previous_version != "billable" or rules.latest_release_only:
        return mode, True
    return mode, _version_current(version, product_current)


@lru_cache(maxsize=1024)
def _version_current(version: str | None, product_current: str | None) -> bool:
    if not version or not product_current:
        return True
    try:
        return is_current(version, product_current)
    except BadInput:
        return True


def rate_key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def rate_card_for(rates: RateCard | None, category: str | None, topic: str | None) -> LineCard:
    """The policy's rate card as pricing reads it.

    Hourly keys are matched without regard to ``-`` or ``_`` (policy files write
    ``data-recovery``, pricing asks for ``data_recovery``). A billable service whose
    topic has its own hourly rate (``data-recovery = "60.00"``) is billed at that rate
    and named after it; other billable services use ``hourly.service``.
    """
    if rates is None:
        return LineCard(None)
    hourly = {rate_key(k): v for k, v in rates.hourly.items()}
    service = "service"
    if category == "billable_service" and topic and rate_key(topic) in hourly:
        hourly["service"] = hourly[rate_key(topic)]
        service = topic.strip().replace("-", " ").replace("_", " ")
    if hourly == rates.hourly:
        return LineCard(rates, service)
    return LineCard(replace(rates, hourly=hourly), service)


def covers(line_kind: str, row_kind: str) -> bool:
    """Which work-log rows a priced line bills (the kinds price_ticket puts on that line)."""
    if line_kind == "hourly:data_recovery":
        return row_kind == "recovery"
    if line_kind == "hourly:diagnosis":
        return row_kind == "diagnosis"
    return row_kind != "recovery"
