"""The demo's master data rows: agents, products, KB articles, customers with contacts,
contracts and standing, with explicit ids so they can point at each other.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from deskctl.domain.policy import Policy
from deskctl.services.demo.catalog import (
    AGENTS,
    CUSTOMER_NAMES,
    DAY,
    FIRST_NAMES,
    LAST_NAMES,
    LOOKS,
    MANAGER,
    MINUTE,
    MISUSE_TOPICS,
    TEAM_OF_COUNTRY,
    VAT,
)


@dataclass
class _Window:
    """A span (epoch seconds) in which a customer's tickets open, under one contract."""

    start: int
    end: int
    contract_id: int
    plan: str


@dataclass
class _Customer:
    id: int
    key: str
    policy: str
    team: str
    weight: float
    windows: list[_Window]
    contacts: list[tuple[int, str]]  # (id, email) of those who may open tickets
    products: list[tuple[str, str, int | None]]  # (name, current release, eol epoch)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ID_TABLES = (
    "customer",
    "contact",
    "contact_naming",
    "product",
    "contract",
    "standing",
    "kb_article",
    "ticket",
)
MASTER_TABLES = (
    "agent",
    "product",
    "kb_article",
    "customer",
    "contact",
    "contact_naming",
    "contract",
    "contract_product",
    "standing",
)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _day_start(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY


def _slug(text: str) -> str:
    import re
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


class MasterData:
    """Agents, products, KB articles, customers with contacts, contracts and standing.

    Rows get explicit ids (from ``first_ids``, one past the highest in the store)
    so they can point at each other before anything is written.
    """

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        first_ids: Mapping[str, int],
        policies: Mapping[str, Policy],
    ) -> None:
        self.rng = rng
        self.now = now
        self.today = now.date()
        self.next_id = dict(first_ids)
        self.policies = policies
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in MASTER_TABLES}
        self.customers: list[_Customer] = []
        self.products: dict[str, list[tuple[int, str, str, int | None]]] = {}
        self.kb: dict[str, str] = {}  # topic -> article key
        self._names_used: dict[str, int] = {}
        self._keys: set[str] = set()

    def add(self, table: str, **row: Any) -> int:
        if table in _ID_TABLES:
            row["id"] = self.next_id[table]
            self.next_id[table] += 1
        self.rows[table].append(row)
        return int(row.get("id", 0))

    def build(self, n_customers: int) -> MasterData:
        long_ago = self.now - timedelta(days=1000)
        for login, name, role, team in AGENTS:
            self.add(
                "agent",
                login=login,
                name=name,
                role=role,
                team=team,
                email=f"{login}@support.example",
                created_at=long_ago,
            )
        for pname, look in LOOKS.items():
            for product, current in look.products:
                eol = announced = None
                if product == "opmon-7":  # the one product past its end of life
                    eol = self.today - timedelta(days=30)
                    announced = self.today - timedelta(days=400)
                pid = self.add(
                    "product",
                    name=product,
                    current_version=current,
                    eol=eol,
                    eol_announced=announced,
                    created_at=long_ago,
                )
                eol_epoch = _day_start(eol) if eol else None
                self.products.setdefault(pname, []).append((pid, product, current, eol_epoch))
        for number, topic in enumerate(MISUSE_TOPICS, start=1001):
            words = topic.replace("-", " ")
            self.add(
                "kb_article",
                key=f"KB-{number}",
                title=f"How to: {words}",
                url=f"https://kb.example.com/articles/{number}",
                topic=topic,
                body=f"Step-by-step guide: {words}.",
                created_at=long_ago,
            )
            self.kb[topic] = f"KB-{number}"
        order = list(LOOKS)
        for n in range(n_customers):  # round robin: every policy gets its share
            self.customer(order[n % len(order)], n // len(order))
        return self

    def customer(self, pname: str, rank: int) -> None:
        look = LOOKS[pname]
        country = look.countries[rank % len(look.countries)]
        pool = CUSTOMER_NAMES[country]
        used = self._names_used[country] = self._names_used.get(country, 0) + 1
        name = pool[(used - 1) % len(pool)]
        if used > len(pool):
            name += f" {(used - 1) // len(pool) + 1}"
        key = _slug(name)
        while key in self._keys:
            key += "-x"
        self._keys.add(key)
        team = TEAM_OF_COUNTRY[country]
        cid = self.add(
            "customer",
            key=key,
            name=name,
            country=country,
            vat_rate=VAT[country],
            policy=pname,
            created_at=self.now - timedelta(days=1000),
        )
        contacts = self.contacts(cid, key, team, pname)
        windows = self.contracts(cid, pname, rank)
        share = sum(w.end - w.start for w in windows) / (365 * DAY)
        products = [(p, current, eol) for _, p, current, eol in self.products[pname]]
        self.customers.append(
            _Customer(
                cid,
                key,
                pname,
                team,
                self.rng.uniform(0.4, 3.0) * share,
                windows,
                contacts,
                products,
            )
        )

    def contacts(self, cid: int, key: str, team: str, pname: str) -> list[tuple[int, str]]:
        """2-4 contacts; OpMon takes tickets from named ones only, so one is un-named there."""
        rng = self.rng
        created = self.now - timedelta(days=900)
        who: list[tuple[int, str]] = []
        seen: set[str] = set()
        count = 2 + rng.randrange(3)
        for i in range(count):
            first, last = rng.choice(FIRST_NAMES[team]), rng.choice(LAST_NAMES[team])
            local = _slug(f"{first} {last}").replace("-", ".")
            while local in seen:
                local += str(i)
            seen.add(local)
            email = f"{local}@{key}.example"
            opmon = pname == "opmon"
            named = i < count - 1 if opmon else (i == 0 or rng.random() < 0.5)
            contact_id = self.add(
                "contact",
                customer_id=cid,
                email=email,
                name=f"{first} {last}",
                named=named,
                created_at=created,
            )
            if named or opmon:
                self.add(
                    "contact_naming", contact_id=contact_id, named=True, at=created, actor=MANAGER
                )
            if opmon and not named:  # named once, un-named since
                self.add(
                    "contact_naming",
                    contact_id=contact_id,
                    named=False,
                    at=self.now - timedelta(days=100),
                    actor=MANAGER,
                )
            if named or not opmon:
                who.append((contact_id, email))
        return who

    def contracts(self, cid: int, pname: str, rank: int) -> list[_Window]:
        """The customer's contracts, and the spans in which its tickets may open.

        Rank 1 of each policy renewed its contract 120 days ago (the old one
        expired); rank 2 is overdue since 45 days (OpMon: its contract lapsed 60
        days ago) and opens no tickets since; rank 3 paid late once; ProgressSoft's
        rank 0 is under warranty since 40 days.
        """
        today, policy = self.today, self.policies[pname]
        look = LOOKS[pname]
        plan = self.rng.choices([p for p, _ in look.plans], [w for _, w in look.plans])[0]
        spans: list[tuple[date, date | None, str]] = []
        if pname == "progresssoft" and rank == 0:
            spans.append((today - timedelta(days=40), today + timedelta(days=50), "warranty"))
        elif rank == 1:
            spans.append((today - timedelta(days=800), today - timedelta(days=120), plan))
            spans.append((today - timedelta(days=119), None, plan))
        elif rank == 2 and pname == "opmon":
            spans.append((today - timedelta(days=700), today - timedelta(days=60), plan))
        else:
            spans.append((today - timedelta(days=self.rng.randrange(400, 1000)), None, plan))
        windows = []
        previous = None
        for start, end, plan_name in spans:
            activated = (
                start + timedelta(days=20) if policy.entitlement.require_activation else None
            )
            contract_id = self.add(
                "contract",
                customer_id=cid,
                policy=pname,
                plan=plan_name,
                start=start,
                end=end,
                activated=activated,
                license_issued=start if pname == "progresssoft" else None,
                renews=previous,
                consultancy_hours=policy.plans[plan_name].consultancy_hours or None,
                created_at=datetime(start.year, start.month, start.day, tzinfo=UTC),
            )
            for i, (pid, product, _, _) in enumerate(self.products[pname]):
                if i == 0 or product != "opmon-7" or rank % 2 == 0:
                    self.add("contract_product", contract_id=contract_id, product_id=pid)
            previous = contract_id
            last = _day_start(end) + DAY - 1 if end else _epoch(self.now)
            windows.append(_Window(_day_start(activated or start), last, contract_id, plan_name))
        if rank == 2 and pname != "opmon":
            self.standing(cid, today - timedelta(days=45), days_ago=40)
            for w in windows:  # support stopped when the account fell behind
                w.end = min(w.end, _epoch(self.now) - 40 * DAY)
        elif rank == 3:
            self.standing(cid, today - timedelta(days=200), days_ago=190)
            self.standing(cid, None, days_ago=150)
        horizon, latest = _epoch(self.now) - 365 * DAY, _epoch(self.now) - 5 * MINUTE
        for w in windows:
            w.start, w.end = max(w.start, horizon), min(w.end, latest)
        return [w for w in windows if w.end > w.start]

    def standing(self, cid: int, overdue_since: date | None, *, days_ago: int) -> None:
        self.add(
            "standing",
            customer_id=cid,
            overdue_since=overdue_since,
            at=self.now - timedelta(days=days_ago),
            actor=MANAGER,
            note="invoice overdue" if overdue_since else "paid up",
        )
