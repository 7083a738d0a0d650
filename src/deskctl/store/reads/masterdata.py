"""Customers, contacts, products, contracts, standing, policies: the facts reads need."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from deskctl.domain.policy import pick_policy_name
from deskctl.errors import NotFound
from deskctl.store.dbapi import Query, Reader, day, decimal_text, flag, instant


class Row(dict[str, Any]):
    """A row with attribute access, so domain helpers read it like an ORM object."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


CUSTOMER_BY_KEY = Query(
    "SELECT * FROM customer WHERE key = :key",
    {"vat_rate": decimal_text, "created_at": instant},
)


def customer_by_key(r: Reader, key: str) -> Row:
    row = r.one(CUSTOMER_BY_KEY, key=key)
    if row is None:
        raise NotFound(f"no customer {key!r}")
    return Row(row)


CONTRACTS_OF = Query(
    'SELECT id, customer_id, policy, plan, start, "end", activated, license_issued, renews,'
    " consultancy_hours, created_at FROM contract WHERE customer_id = :customer_id"
    " ORDER BY start, id",
    {
        "start": day,
        "end": day,
        "activated": day,
        "license_issued": day,
        "consultancy_hours": decimal_text,
        "created_at": instant,
    },
)


def contracts_of(r: Reader, customer_id: int) -> list[Row]:
    return [Row(c) for c in r.all(CONTRACTS_OF, customer_id=customer_id)]


CONTRACT_PRODUCTS = Query(
    "SELECT cp.contract_id, p.name FROM contract_product cp"
    " JOIN product p ON p.id = cp.product_id WHERE cp.contract_id IN :ids ORDER BY p.name"
)


def contract_products(r: Reader, ids: list[int]) -> list[tuple[int, str]]:
    return [(row["contract_id"], row["name"]) for row in r.all(CONTRACT_PRODUCTS, ids=ids)]


STANDING_HISTORY = Query(
    "SELECT overdue_since, at FROM standing WHERE customer_id = :customer_id ORDER BY at, id",
    {"overdue_since": day, "at": instant},
)


def current_overdue_since(r: Reader, customer_id: int, at: datetime) -> date | None:
    """The overdue date in force at ``at`` (the latest standing recorded by then)."""
    current: date | None = None
    for row in r.all(STANDING_HISTORY, customer_id=customer_id):
        if row["at"] <= at:
            current = row["overdue_since"]
    return current


CONTACT = Query(
    "SELECT id, customer_id, email, name, named FROM contact"
    " WHERE customer_id = :customer_id AND email = :email",
    {"named": flag},
)
NAMING_HISTORY = Query(
    "SELECT named, at FROM contact_naming WHERE contact_id = :contact_id ORDER BY at, id",
    {"named": flag, "at": instant},
)


def contact(r: Reader, customer_id: int, email: str) -> Row | None:
    row = r.one(CONTACT, customer_id=customer_id, email=email)
    return None if row is None else Row(row)


def naming_history(r: Reader, contact_id: int) -> list[Row]:
    return [Row(h) for h in r.all(NAMING_HISTORY, contact_id=contact_id)]


PRODUCTS = Query(
    "SELECT id, name, current_version, eol, eol_announced FROM product ORDER BY name",
    {"eol": day, "eol_announced": day},
)
PRODUCT_BY_NAME = Query(
    "SELECT id, name, current_version, eol, eol_announced FROM product WHERE name = :name",
    {"eol": day, "eol_announced": day},
)


def product_by_name(r: Reader, name: str) -> Row | None:
    row = r.one(PRODUCT_BY_NAME, name=name)
    return None if row is None else Row(row)


def products(r: Reader) -> list[Row]:
    return [Row(p) for p in r.all(PRODUCTS)]


# -- policies ---------------------------------------------------------------------------

POLICY_NAMES = Query("SELECT DISTINCT name FROM policy_version ORDER BY name")
POLICY_LATEST = Query(
    "SELECT id, name, version, text FROM policy_version WHERE name = :name"
    " ORDER BY version DESC LIMIT 1"
)
POLICY_BY_ID = Query("SELECT id, name, version, text FROM policy_version WHERE id = :id")
POLICY_TEXTS = Query("SELECT text FROM policy_version")


def policy_names(r: Reader) -> list[str]:
    return [str(n) for n in r.scalars(POLICY_NAMES)]


def resolve_policy_name(r: Reader, name: str | None) -> str:
    """The policy a command means: the one named, else the only one loaded."""
    return pick_policy_name(policy_names(r), name)


def latest_policy(r: Reader, name: str | None = None) -> tuple[Row, Any]:
    row = r.one(POLICY_LATEST, name=resolve_policy_name(r, name))
    assert row is not None
    return Row(row), parsed(row)


def policy_by_version_id(r: Reader, version_id: int) -> tuple[Row, Any]:
    row = r.one(POLICY_BY_ID, id=version_id)
    if row is None:
        raise NotFound(f"no policy version {version_id}")
    return Row(row), parsed(row)


def parsed(row: dict[str, Any]) -> Any:
    from deskctl.domain.policy_file import parse_cached

    return parse_cached(row["text"], f"{row['name']} v{row['version']}")


def policy_texts(r: Reader) -> list[str]:
    return [str(t) for t in r.scalars(POLICY_TEXTS)]


# Who "me" is (``queue --mine``), as store.identity decides it for a write: on
# PostgreSQL the agent of the database login (the actor the database writes into
# every event), or DESKCTL_USER when that login is trusted (the owner, a superuser);
# on SQLite the program's acting user (DESKCTL_USER or the OS login).
ACTING_AGENT = Query(
    "SELECT :me AS login",
    pg="SELECT CASE WHEN CAST(:claimed AS text) IS NOT NULL AND deskctl_trusted()"
    " THEN CAST(:claimed AS text) ELSE deskctl_actor() END AS login",
)


def acting_agent(r: Reader, me: str, claimed: str | None) -> str:
    row = r.one(ACTING_AGENT, me=me, claimed=claimed)
    return str(row["login"]) if row else me
