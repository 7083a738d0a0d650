"""Customers, contacts, products, contracts, standing and agents."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session, col

from deskctl import i18n
from deskctl.domain import roles, validate
from deskctl.domain.roles import Act
from deskctl.errors import BadInput, NotFound, Refused
from deskctl.services import policies
from deskctl.store import identity
from deskctl.store.models import (
    Agent,
    Contact,
    ContactNaming,
    Contract,
    ContractProduct,
    Customer,
    Product,
    Standing,
    pk,
)

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_key(key: str, what: str) -> str:
    if not _KEY.fullmatch(key):
        raise BadInput(f"{what} {key!r}: use letters, digits, '.', '_' or '-' (at most 80)")
    return key


def _check_email(email: str) -> str:
    email = validate.one_line(email, "e-mail address", limit=254)
    if not _EMAIL.fullmatch(email):
        raise BadInput(f"not an e-mail address: {email!r}")
    return email.lower()


# -- customers -------------------------------------------------------------------------


def customer_by_key(session: Session, key: str) -> Customer:
    row = session.execute(select(Customer).where(col(Customer.key) == key)).scalars().first()
    if row is None:
        raise NotFound(f"no customer {key!r}")
    return row


def add_customer(
    session: Session,
    key: str,
    *,
    name: str,
    country: str,
    vat_rate: Decimal | None,
    policy: str | None,
    now: datetime,
    locale: str | None = None,
    billing_address: Sequence[str] = (),
    vat_id: str | None = None,
) -> Customer:
    _check_key(key, "customer")
    country = country.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise BadInput(f"--country: {country!r} is not a two-letter country code")
    name = validate.one_line(name, "--name", limit=200)
    if policy is not None:
        policies.resolve_name(session, policy)
    if session.execute(select(col(Customer.id)).where(col(Customer.key) == key)).first():
        raise BadInput(f"customer {key!r} already exists")
    row = Customer(
        key=key,
        name=name.strip(),
        country=country,
        vat_rate=vat_rate,
        policy=policy,
        locale=_locale(locale) or i18n.locale_for_country(country),
        created_at=now,
        billing_address=billing_text(billing_address),
        vat_id=vat_id_text(vat_id),
    )
    session.add(row)
    session.flush()
    return row


def billing_text(lines: Sequence[str]) -> str | None:
    """Address lines as stored (one per line); None when there are none."""
    kept = [" ".join(line.split()) for line in lines]
    kept = [line for line in kept if line]
    if any(len(line) > 200 for line in kept) or len(kept) > 8:
        raise BadInput("--address: at most 8 lines of at most 200 characters")
    return "\n".join(kept) or None


def vat_id_text(value: str | None) -> str | None:
    """A VAT identification number as printed: spaces dropped, upper case (IT01234567890)."""
    if value is None:
        return None
    text = "".join(value.split()).upper()
    if not re.fullmatch(r"[A-Z0-9.\-/]{2,40}", text):
        raise BadInput(f"--vat-id: {value!r} is not a VAT number (letters, digits, . - /)")
    return text


def set_billing(
    session: Session, key: str, *, billing_address: Sequence[str] | None, vat_id: str | None
) -> Customer:
    """Change the buyer block a customer's invoices print (address lines, VAT id)."""
    row = customer_by_key(session, key)
    if billing_address is not None:
        row.billing_address = billing_text(billing_address)
    if vat_id is not None:
        row.vat_id = vat_id_text(vat_id) if vat_id.strip() else None
    session.add(row)
    session.flush()
    return row


def list_customers(session: Session) -> list[Customer]:
    return list(session.execute(select(Customer).order_by(Customer.key)).scalars())


# -- contacts --------------------------------------------------------------------------


def add_contact(
    session: Session,
    customer_key: str,
    email: str,
    *,
    name: str,
    named: bool,
    now: datetime,
    actor: str,
    locale: str | None = None,
) -> Contact:
    customer = customer_by_key(session, customer_key)
    email = _check_email(email)
    locale = _locale(locale)
    existing = session.execute(
        select(col(Contact.id)).where(
            col(Contact.customer_id) == customer.id, col(Contact.email) == email
        )
    ).first()
    if existing:
        raise BadInput(f"contact {email} already exists for {customer_key}")
    row = Contact(
        customer_id=pk(customer),
        email=email,
        name=validate.one_line(name, "--name", limit=200, required=False),
        named=named,
        locale=locale,
        created_at=now,
    )
    session.add(row)
    session.flush()
    if named:
        session.add(ContactNaming(contact_id=pk(row), named=True, at=now, actor=actor))
    return row


def set_named(
    session: Session, customer_key: str, email: str, *, named: bool, now: datetime, actor: str
) -> Contact:
    contact = contact_by_email(session, email, customer_key)
    if contact.named != named:
        contact.named = named
        session.add(contact)
        session.add(ContactNaming(contact_id=pk(contact), named=named, at=now, actor=actor))
    return contact


def contact_by_email(session: Session, email: str, customer_key: str | None = None) -> Contact:
    email = email.strip().lower()
    stmt = select(Contact).where(col(Contact.email) == email)
    if customer_key is not None:
        customer = customer_by_key(session, customer_key)
        stmt = stmt.where(col(Contact.customer_id) == customer.id)
    rows = list(session.execute(stmt).scalars())
    if not rows:
        where = f" at {customer_key}" if customer_key else ""
        raise NotFound(f"no contact {email}{where} (add it with `deskctl contact add`)")
    if len(rows) > 1:
        raise BadInput(f"contact {email} belongs to several customers: give --customer")
    return rows[0]


def _locale(tag: str | None) -> str | None:
    if tag is None or not tag.strip():
        return None
    try:
        return i18n.normalise(tag.strip())
    except ValueError as exc:
        raise BadInput(f"--locale: {exc}") from None


def contact_locale(session: Session, contact: Contact) -> str:
    """The language a contact reads: theirs, else their customer's, else the country's."""
    customer = session.get(Customer, contact.customer_id)
    return i18n.resolve(
        contact.locale,
        customer.locale if customer else None,
        country=customer.country if customer else None,
    )


def list_contacts(session: Session, customer_key: str | None = None) -> list[dict]:
    stmt = select(Contact, col(Customer.key)).join(
        Customer, col(Customer.id) == col(Contact.customer_id)
    )
    if customer_key:
        stmt = stmt.where(col(Customer.key) == customer_key)
        customer_by_key(session, customer_key)
    rows = session.execute(stmt.order_by(Customer.key, Contact.email)).all()
    return [
        {"customer": key, "email": c.email, "name": c.name, "named": c.named} for c, key in rows
    ]


def naming_history(session: Session, contact_id: int) -> list[ContactNaming]:
    stmt = (
        select(ContactNaming)
        .where(col(ContactNaming.contact_id) == contact_id)
        .order_by(col(ContactNaming.at), col(ContactNaming.id))
    )
    return list(session.execute(stmt).scalars())


# -- products --------------------------------------------------------------------------


def add_product(
    session: Session,
    name: str,
    *,
    current: str,
    eol: date | None,
    eol_announced: date | None,
    now: datetime,
) -> Product:
    _check_key(name, "product")
    if not current.strip():
        raise BadInput("--current must name the current release, e.g. 6.2")
    current = validate.version(current, "--current")
    if session.execute(select(col(Product.id)).where(col(Product.name) == name)).first():
        raise BadInput(f"product {name!r} already exists (change it with `product set`)")
    row = Product(
        name=name,
        current_version=current.strip(),
        eol=eol,
        eol_announced=eol_announced,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def product_by_name(session: Session, name: str) -> Product:
    row = session.execute(select(Product).where(col(Product.name) == name)).scalars().first()
    if row is None:
        raise NotFound(f"no product {name!r} (add it with `deskctl product add`)")
    return row


def set_product(
    session: Session,
    name: str,
    *,
    current: str | None,
    eol: date | None,
    eol_announced: date | None,
) -> Product:
    row = product_by_name(session, name)
    if current:
        row.current_version = validate.version(current, "--current")
    if eol is not None:
        row.eol = eol
    if eol_announced is not None:
        row.eol_announced = eol_announced
    session.add(row)
    return row


def list_products(session: Session) -> list[Product]:
    return list(session.execute(select(Product).order_by(Product.name)).scalars())


# -- contracts -------------------------------------------------------------------------


def add_contract(
    session: Session,
    customer_key: str,
    *,
    plan: str,
    start: date,
    end: date | None,
    activated: date | None,
    license_issued: date | None,
    products: Sequence[str],
    policy_name: str | None,
    consultancy_hours: Decimal | None,
    now: datetime,
) -> Contract:
    customer = customer_by_key(session, customer_key)
    name = policies.resolve_name(session, policy_name or customer.policy)
    _, policy = policies.latest(session, name)
    if plan not in policy.plans:
        raise BadInput(
            f"--plan: policy {name} has no plan {plan!r} (plans: {', '.join(policy.plans)})"
        )
    if end is not None and end < start:
        raise BadInput(f"--end {end} is before --start {start}")
    product_rows = [product_by_name(session, p) for p in dict.fromkeys(products)]
    hours = consultancy_hours
    if hours is None and policy.plans[plan].consultancy_hours:
        hours = policy.plans[plan].consultancy_hours
    row = Contract(
        customer_id=pk(customer),
        policy=name,
        plan=plan,
        start=start,
        end=end,
        activated=activated,
        license_issued=license_issued,
        consultancy_hours=hours,
        created_at=now,
    )
    session.add(row)
    session.flush()
    for product in product_rows:
        session.add(ContractProduct(contract_id=pk(row), product_id=pk(product)))
    return row


def contract_products(session: Session, contract_id: int) -> list[str]:
    stmt = (
        select(col(Product.name))
        .join(ContractProduct, col(ContractProduct.product_id) == col(Product.id))
        .where(col(ContractProduct.contract_id) == contract_id)
        .order_by(Product.name)
    )
    return list(session.execute(stmt).scalars())


def contracts_of(session: Session, customer_id: int) -> list[Contract]:
    stmt = (
        select(Contract)
        .where(col(Contract.customer_id) == customer_id)
        .order_by(col(Contract.start), col(Contract.id))
    )
    return list(session.execute(stmt).scalars())


def contract_json(session: Session, contract: Contract, customer_key: str) -> dict:
    return {
        "id": contract.id,
        "customer": customer_key,
        "policy": contract.policy,
        "plan": contract.plan,
        "start": contract.start,
        "end": contract.end,
        "activated": contract.activated,
        "license_issued": contract.license_issued,
        "products": contract_products(session, pk(contract)),
        "consultancy_hours": contract.consultancy_hours,
    }


def list_contracts(session: Session, customer_key: str | None = None) -> list[dict]:
    stmt = select(Contract, col(Customer.key)).join(
        Customer, col(Customer.id) == col(Contract.customer_id)
    )
    if customer_key:
        customer_by_key(session, customer_key)
        stmt = stmt.where(col(Customer.key) == customer_key)
    rows = session.execute(stmt.order_by(col(Customer.key), col(Contract.start))).all()
    return [contract_json(session, c, key) for c, key in rows]


def contract_by_id(session: Session, contract_id: int) -> Contract:
    row = session.get(Contract, contract_id)
    if row is None:
        raise NotFound(f"no contract {contract_id}")
    return row


# -- standing --------------------------------------------------------------------------


def record_standing(
    session: Session,
    customer_key: str,
    *,
    overdue_since: date | None,
    note: str,
    now: datetime,
    actor: str,
) -> Standing:
    identity.require(session, Act.STANDING)
    customer = customer_by_key(session, customer_key)
    row = Standing(
        customer_id=pk(customer),
        overdue_since=overdue_since,
        at=now,
        actor=actor,
        note=note,
    )
    session.add(row)
    session.flush()
    return row


def standing_history(session: Session, customer_id: int) -> list[Standing]:
    stmt = (
        select(Standing)
        .where(col(Standing.customer_id) == customer_id)
        .order_by(col(Standing.at), col(Standing.id))
    )
    return list(session.execute(stmt).scalars())


def current_overdue_since(session: Session, customer_id: int, at: datetime) -> date | None:
    """The overdue date in force at ``at`` (the latest standing recorded by then)."""
    current: date | None = None
    for row in standing_history(session, customer_id):
        if row.at <= at:
            current = row.overdue_since
    return current


# -- agents ----------------------------------------------------------------------------


def add_agent(
    session: Session,
    login: str,
    *,
    name: str,
    role: str | None,
    team: str | None,
    email: str | None,
    now: datetime,
    db_role: str | None = None,
) -> Agent:
    """Register an agent. The first agent of a store is its manager (domain.roles)."""
    _check_key(login, "agent")
    first = session.execute(select(col(Agent.login)).limit(1)).first() is None
    if not first:
        identity.require(session, Act.AGENTS)
    wanted = _check_role(role) if role is not None else None
    if first and wanted not in (None, roles.MANAGER):
        raise Refused(
            f"the first agent of a store is its manager: add {login} with --role manager "
            "(or add the manager first)"
        )
    if db_role is not None:
        _check_key(db_role, "--db-role")
    if session.get(Agent, login) is not None:
        raise BadInput(f"agent {login!r} already exists")
    row = Agent(
        login=login,
        name=validate.one_line(name, "--name", limit=200, required=False),
        role=roles.MANAGER if first else (wanted or roles.AGENT),
        team=validate.one_line(team, "--team", limit=80) if team else None,
        email=_check_email(email) if email else None,
        created_at=now,
        db_role=db_role,
    )
    session.add(row)
    session.flush()
    _grant_group(session, row)
    return row


def set_role(session: Session, login: str, role: str) -> Agent:
    """A manager changes an agent's role (on PostgreSQL its group membership too)."""
    identity.require(session, Act.AGENTS)
    row = session.get(Agent, login)
    if row is None:
        raise NotFound(f"no agent {login!r}")
    row.role = _check_role(role)
    session.add(row)
    session.flush()
    _grant_group(session, row)
    return row


def _check_role(role: str) -> str:
    found = roles.normalise(role)
    if found is None:
        raise BadInput(f"--role: {role!r} is not one of {', '.join(roles.ROLES)}")
    return found


def _grant_group(session: Session, row: Agent) -> None:
    """On PostgreSQL the role is group membership, granted by a manager-only function."""
    if session.get_bind().dialect.name != "postgresql":
        return
    from deskctl.store import teams

    teams.grant(session, row.db_role or row.login, row.role)


def login_note(session: Session, row: Agent) -> str | None:
    """On PostgreSQL: a note when the agent has no database login yet (nothing granted)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    from deskctl.store import teams

    login = row.db_role or row.login
    if teams.login_exists(session, login):
        return None
    return (
        f"no database login {login} yet: create it (CREATE ROLE {login} LOGIN), then "
        f"`deskctl agent set {row.login} --role {row.role}` grants deskctl_{row.role}"
    )


def list_agents(session: Session) -> list[Agent]:
    return list(session.execute(select(Agent).order_by(Agent.login)).scalars())


def role_of(session: Session, login: str) -> str | None:
    row = session.get(Agent, login)
    return roles.normalise(row.role) if row else None
