"""Contract history and tools: renewals, expiry follow-up, CSV import, consultancy hours.

Choices where the seeds are silent:

- A renewal is a new contract (``renews`` points at the old one); the old one
  is never edited. It starts the day after the old one ends unless ``--start``
  says otherwise, keeps the customer, policy, products, activation and licence
  dates, and the plan unless ``--plan`` changes it (warranty -> assistance).
  Consultancy hours are bought again: the old amount on the same plan, the
  plan's default on a new plan. A contract is renewed once.
- ``expiring``: contracts whose last day falls within the next N days (today
  included) and that nobody has renewed yet — those need a follow-up.
- CSV import is all or nothing: every line is checked before anything is
  written. An empty policy cell means the customer's policy, else the policy
  of its latest contract, else the only policy loaded. A row that repeats a
  contract already on file (same customer, policy, plan and start) or an
  earlier row is an error, so re-running an import never doubles contracts.
- Consultancy hours: ``contract.consultancy_hours`` is what was bought; draws
  are kept in ``contract_hours`` with two decimals at most, only while the
  contract is in force, and never beyond the balance. The contract row is
  locked (PostgreSQL) or the write lock taken (SQLite) before the balance is
  read, so two concurrent draws cannot overdraw.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from deskctl.clock import parse_date
from deskctl.domain.entitlement import warranty_end
from deskctl.errors import BadInput, NotFound, Refused
from deskctl.services import masterdata, policies
from deskctl.store.models import Contract, ContractHours, ContractProduct, Customer, Product, pk

HUNDREDTH = Decimal("0.01")
CSV_COLUMNS = (
    "customer",
    "plan",
    "start",
    "end",
    "activated",
    "license_issued",
    "products",
    "policy",
)
CSV_REQUIRED = ("customer", "plan", "start")
MAX_REPORTED_ERRORS = 50


def _locked_contract(session: Session, contract_id: int) -> Contract:
    stmt = select(Contract).where(col(Contract.id) == contract_id).with_for_update()
    row = session.execute(stmt).scalars().first()
    if row is None:
        raise NotFound(f"no contract {contract_id}")
    return row


def _customer_key(session: Session, contract: Contract) -> str:
    customer = session.get(Customer, contract.customer_id)
    return customer.key if customer else ""


# -- renewals --------------------------------------------------------------------------


def renewed_by(session: Session, contract_id: int) -> int | None:
    stmt = (
        select(col(Contract.id))
        .where(col(Contract.renews) == contract_id)
        .order_by(col(Contract.id))
    )
    return session.execute(stmt).scalars().first()


def renew(
    session: Session,
    contract_id: int,
    *,
    end: date,
    start: date | None = None,
    plan: str | None = None,
    consultancy_hours: Decimal | None = None,
    now: datetime,
) -> Contract:
    """A new contract that renews ``contract_id`` (see the module docstring)."""
    old = _locked_contract(session, contract_id)
    successor = renewed_by(session, contract_id)
    if successor is not None:
        raise Refused(f"contract {contract_id} is already renewed by contract {successor}")
    if start is None:
        if old.end is None:
            raise BadInput(f"contract {contract_id} has no end date: give --start")
        start = old.end + timedelta(days=1)
    if start < old.start:
        raise BadInput(f"--start {start} is before contract {contract_id} starts ({old.start})")
    if end < start:
        raise BadInput(f"--end {end} is before the renewal starts ({start})")
    _, policy = policies.latest(session, old.policy)
    new_plan = plan or old.plan
    if new_plan not in policy.plans:
        raise BadInput(
            f"--plan: policy {old.policy} has no plan {new_plan!r} "
            f"(plans: {', '.join(policy.plans)})"
        )
    hours = consultancy_hours
    if hours is None:
        default = policy.plans[new_plan].consultancy_hours
        hours = old.consultancy_hours if new_plan == old.plan else (default or None)
    row = Contract(
        customer_id=old.customer_id,
        policy=old.policy,
        plan=new_plan,
        start=start,
        end=end,
        activated=old.activated,
        license_issued=old.license_issued,
        renews=old.id,
        consultancy_hours=hours,
        created_at=now,
    )
    session.add(row)
    session.flush()
    assert old.id is not None
    products = select(col(ContractProduct.product_id)).where(
        col(ContractProduct.contract_id) == old.id
    )
    for product_id in session.execute(products).scalars():
        session.add(ContractProduct(contract_id=pk(row), product_id=product_id))
    session.flush()
    return row


def renewal_chain(session: Session, contract: Contract) -> list[Contract]:
    """Every contract of the renewal line ``contract`` belongs to, oldest first."""
    chain = [contract]
    seen = {contract.id}
    while chain[0].renews is not None and chain[0].renews not in seen:
        previous = masterdata.contract_by_id(session, chain[0].renews)
        seen.add(previous.id)
        chain.insert(0, previous)
    while True:
        last = chain[-1]
        assert last.id is not None
        following = renewed_by(session, last.id)
        if following is None or following in seen:
            return chain
        seen.add(following)
        chain.append(masterdata.contract_by_id(session, following))


def _warranty_period(session: Session, contract: Contract) -> dict[str, Any] | None:
    _, policy = policies.latest(session, contract.policy)
    plan = policy.plans.get(contract.plan)
    days = policy.entitlement.warranty_days
    if plan is None or not plan.warranty or contract.license_issued is None or days <= 0:
        return None
    end = warranty_end(contract.license_issued, days)
    return {
        "contract": contract.id,
        "from": contract.license_issued,
        "last_day": end - timedelta(days=1),
        "days": days,
    }


def contract_document(session: Session, contract_id: int) -> dict[str, Any]:
    """``contract show``: the contract, its renewals, standing changes, warranty and hours."""
    row = masterdata.contract_by_id(session, contract_id)
    doc = masterdata.contract_json(session, row, _customer_key(session, row))
    chain = renewal_chain(session, row)
    doc["renews"] = row.renews
    doc["renewed_by"] = renewed_by(session, contract_id)
    doc["renewals"] = [
        {"id": c.id, "plan": c.plan, "start": c.start, "end": c.end, "renews": c.renews}
        for c in chain
    ]
    doc["standing"] = [
        {"at": st.at, "overdue_since": st.overdue_since, "actor": st.actor, "note": st.note}
        for st in masterdata.standing_history(session, row.customer_id)
    ]
    doc["warranty"] = [p for p in (_warranty_period(session, c) for c in chain) if p]
    doc["hours"] = _balance_doc(session, row)
    return doc


# -- expiry follow-up ------------------------------------------------------------------


def expiring(session: Session, *, today: date, days: int) -> list[dict[str, Any]]:
    """Contracts ending within ``days`` days from ``today`` that are not renewed yet."""
    successor = aliased(Contract)
    renewal = select(col(successor.id)).where(col(successor.renews) == col(Contract.id)).exists()
    stmt = (
        select(Contract, col(Customer.key))
        .join(Customer, col(Customer.id) == col(Contract.customer_id))
        .where(col(Contract.end).is_not(None))
        .where(col(Contract.end) >= today, col(Contract.end) <= today + timedelta(days=days))
        .where(~renewal)
        .order_by(col(Contract.end), col(Contract.id))
    )
    rows = []
    for contract, key in session.execute(stmt).all():
        doc = masterdata.contract_json(session, contract, key)
        doc["days_left"] = (contract.end - today).days
        rows.append(doc)
    return rows


# -- CSV import ------------------------------------------------------------------------


@dataclass
class _Lookups:
    """Store reads cached for the whole file."""

    session: Session
    customers: dict[str, Customer | None]
    products: dict[str, int | None]
    plans: dict[str, tuple[str, ...] | None]
    hours: dict[tuple[str, str], Decimal]
    policies: dict[str, str]

    def customer(self, key: str) -> Customer | None:
        if key not in self.customers:
            stmt = select(Customer).where(col(Customer.key) == key)
            self.customers[key] = self.session.execute(stmt).scalars().first()
        return self.customers[key]

    def policy_of(self, customer: Customer) -> str:
        """The customer's policy, else its latest contract's, else the only one loaded."""
        if customer.policy:
            return customer.policy
        if customer.key not in self.policies:
            stmt = (
                select(col(Contract.policy))
                .where(col(Contract.customer_id) == customer.id)
                .order_by(col(Contract.start).desc(), col(Contract.id).desc())
                .limit(1)
            )
            latest = self.session.execute(stmt).scalars().first()
            self.policies[customer.key] = latest or _only_policy(self.session)
        return self.policies[customer.key]

    def product(self, name: str) -> int | None:
        if name not in self.products:
            stmt = select(col(Product.id)).where(col(Product.name) == name)
            self.products[name] = self.session.execute(stmt).scalars().first()
        return self.products[name]

    def plan_names(self, policy: str) -> tuple[str, ...] | None:
        if policy not in self.plans:
            try:
                _, loaded = policies.latest(self.session, policy)
            except NotFound:
                self.plans[policy] = None
            else:
                self.plans[policy] = tuple(loaded.plans)
                for name, plan in loaded.plans.items():
                    self.hours[(policy, name)] = plan.consultancy_hours
        return self.plans[policy]


class _RowError(Exception):
    pass


def import_csv(session: Session, text: str, *, source: str, now: datetime) -> list[int]:
    """Load contracts from a CRM export; all rows or none. Returns the new ids in file order.

    Errors name the file and line (``contracts.csv:7: unknown plan 'gold'``);
    all of them are in ``BadInput.details["errors"]``, the last one is the message.
    """
    reader = csv.DictReader(io.StringIO(text, newline=""))
    _check_header(reader.fieldnames, source)
    look = _Lookups(session, {}, {}, {}, {}, {})
    seen: dict[tuple[int, str, str, date], str] = {}
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for raw in reader:
        where = f"{source}:{reader.line_num}"
        try:
            rows.append(_import_row(raw, look, seen, where, now))
        except _RowError as exc:
            errors.append(f"{where}: {exc}")
    if not errors:
        errors = _already_on_file(session, rows)
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        if len(errors) > len(shown):
            shown.append(f"{source}: {len(errors) - len(shown)} more errors; nothing imported")
        raise BadInput(shown[-1], details={"errors": shown})
    return _insert_contracts(session, rows)


def _check_header(fieldnames: Sequence[str] | None, source: str) -> None:
    if not fieldnames:
        raise BadInput(f"{source}:1: no header line (columns: {', '.join(CSV_COLUMNS)})")
    names = [(n or "").strip().lower() for n in fieldnames]
    unknown = [n for n in names if n not in CSV_COLUMNS]
    if unknown:
        raise BadInput(
            f"{source}:1: unknown column {unknown[0]!r} (columns: {', '.join(CSV_COLUMNS)})"
        )
    missing = [n for n in CSV_REQUIRED if n not in names]
    if missing:
        raise BadInput(f"{source}:1: missing column {missing[0]!r}")
    if len(set(names)) != len(names):
        raise BadInput(f"{source}:1: a column is given twice")


def _cell(raw: dict[Any, Any], name: str) -> str:
    for key, value in raw.items():
        if key is not None and key.strip().lower() == name:
            return (value or "").strip()
    return ""


def _date_cell(raw: dict[Any, Any], name: str, *, required: bool = False) -> date | None:
    value = _cell(raw, name)
    if not value:
        if required:
            raise _RowError(f"{name} is empty")
        return None
    try:
        return parse_date(value, what=name)
    except BadInput as exc:
        raise _RowError(exc.message) from None


def _import_row(
    raw: dict[Any, Any],
    look: _Lookups,
    seen: dict[tuple[int, str, str, date], str],
    where: str,
    now: datetime,
) -> dict[str, Any]:
    if raw.get(None):
        raise _RowError("more fields than columns")
    key = _cell(raw, "customer")
    if not key:
        raise _RowError("customer is empty")
    customer = look.customer(key)
    if customer is None or customer.id is None:
        raise _RowError(f"unknown customer {key!r}")
    policy = _cell(raw, "policy") or look.policy_of(customer)
    plans = look.plan_names(policy)
    if plans is None:
        raise _RowError(f"unknown policy {policy!r}")
    plan = _cell(raw, "plan")
    if plan not in plans:
        raise _RowError(f"unknown plan {plan!r} (policy {policy}: {', '.join(plans)})")
    start = _date_cell(raw, "start", required=True)
    assert start is not None
    end = _date_cell(raw, "end")
    if end is not None and end < start:
        raise _RowError(f"end {end} is before start {start}")
    product_ids = []
    for name in dict.fromkeys(p.strip() for p in _cell(raw, "products").split(";")):
        if not name:
            continue
        product_id = look.product(name)
        if product_id is None:
            raise _RowError(f"unknown product {name!r}")
        product_ids.append(product_id)
    identity = (customer.id, policy, plan, start)
    if identity in seen:
        raise _RowError(f"repeats the contract of {seen[identity]}")
    seen[identity] = f"line {where.rpartition(':')[2]}"
    hours = look.hours.get((policy, plan)) or None
    return {
        "customer_id": customer.id,
        "policy": policy,
        "plan": plan,
        "start": start,
        "end": end,
        "activated": _date_cell(raw, "activated"),
        "license_issued": _date_cell(raw, "license_issued"),
        "consultancy_hours": hours,
        "created_at": now,
        "_products": product_ids,
        "_where": where,
        "_customer": key,
    }


def _only_policy(session: Session) -> str:
    loaded = policies.names(session)
    if len(loaded) != 1:
        which = f"several policies are loaded ({', '.join(loaded)})" if loaded else "no policy"
        raise _RowError(f"{which}: fill the policy column")
    return loaded[0]


def _already_on_file(session: Session, rows: Sequence[dict[str, Any]]) -> list[str]:
    customer_ids = {r["customer_id"] for r in rows}
    if not customer_ids:
        return []
    stmt = select(
        col(Contract.id),
        col(Contract.customer_id),
        col(Contract.policy),
        col(Contract.plan),
        col(Contract.start),
    ).where(col(Contract.customer_id).in_(customer_ids))
    existing = {(c, p, pl, s): i for i, c, p, pl, s in session.execute(stmt)}
    errors = []
    for r in rows:
        found = existing.get((r["customer_id"], r["policy"], r["plan"], r["start"]))
        if found is not None:
            errors.append(
                f"{r['_where']}: {r['_customer']} already has a {r['plan']} contract "
                f"from {r['start']} (contract {found})"
            )
    return errors


def _insert_contracts(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    values = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    stmt = insert(Contract).returning(col(Contract.id), sort_by_parameter_order=True)
    ids = [int(i) for i in session.execute(stmt, values).scalars()]
    links = [
        {"contract_id": contract_id, "product_id": product_id}
        for contract_id, r in zip(ids, rows, strict=True)
        for product_id in r["_products"]
    ]
    if links:
        session.execute(insert(ContractProduct), links)
    return ids


# -- consultancy hours -----------------------------------------------------------------


def parse_hours(text: str) -> Decimal:
    """Hours as a positive number with at most two decimals: ``2``, ``1.5``, ``0.25``."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise BadInput(f"hours: not a number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise BadInput(f"hours: must be more than 0: {text!r}")
    if value != value.quantize(HUNDREDTH):
        raise BadInput(f"hours: at most two decimals: {text!r}")
    return value.quantize(HUNDREDTH)


def _used(session: Session, contract_id: int) -> Decimal:
    stmt = select(func.coalesce(func.sum(ContractHours.hours), 0)).where(
        col(ContractHours.contract_id) == contract_id
    )
    # The Cents type turns the SUM of hundredths back into hours.
    return Decimal(session.execute(stmt).scalar_one()).quantize(HUNDREDTH)


def use_hours(
    session: Session,
    contract_id: int,
    hours: Decimal,
    *,
    at: datetime,
    note: str | None,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """Draw consultancy hours; Refused when the contract has none, is not in force, or too few."""
    contract = _locked_contract(session, contract_id)
    bought = contract.consultancy_hours or Decimal("0")
    if bought <= 0:
        raise Refused(f"contract {contract_id} ({contract.plan}) has no consultancy hours")
    day = at.date()
    if day < contract.start or (contract.end is not None and day > contract.end):
        until = contract.end or "open-ended"
        raise Refused(
            f"contract {contract_id} is not in force on {day} ({contract.start} to {until})"
        )
    balance = bought - _used(session, contract_id)
    if hours > balance:
        raise Refused(
            f"contract {contract_id} has {_h(balance)} consultancy hours left; "
            f"cannot use {_h(hours)}"
        )
    session.add(
        ContractHours(
            contract_id=contract_id,
            at=at,
            hours=hours,
            note=(note or "").strip() or None,
            actor=actor,
            recorded_at=now,
        )
    )
    session.flush()
    return _balance_doc(session, contract)


def _h(value: Decimal) -> Decimal:
    return value.quantize(HUNDREDTH)


def _balance_doc(session: Session, contract: Contract) -> dict[str, Any]:
    assert contract.id is not None
    bought = contract.consultancy_hours or Decimal("0")
    used = _used(session, contract.id)
    return {"bought": _h(bought), "used": used, "balance": _h(bought - used)}


def hours_document(session: Session, contract_id: int) -> dict[str, Any]:
    """``contract hours``: what was bought, the balance, and every draw."""
    contract = masterdata.contract_by_id(session, contract_id)
    stmt = (
        select(ContractHours)
        .where(col(ContractHours.contract_id) == contract_id)
        .order_by(col(ContractHours.at), col(ContractHours.id))
    )
    entries = [
        {"at": e.at, "hours": _h(e.hours), "note": e.note, "actor": e.actor}
        for e in session.execute(stmt).scalars()
    ]
    return {
        "contract": contract_id,
        "customer": _customer_key(session, contract),
        "plan": contract.plan,
        **_balance_doc(session, contract),
        "entries": entries,
    }
