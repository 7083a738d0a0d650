"""The contract check against the store: gather the facts, let the domain decide.

``check`` reads what docs/rules.md §8 judges — the customer's contracts with their
products, the account standing in force at ``at``, the contact's naming
periods, the product's release and end of life, the policy — and returns a
:class:`Check`: the domain's ``Decision`` plus the policy version it was taken
under. ``accept`` turns a check into the terms a ticket is opened on (or a
refusal).

Choices where the seeds are silent:

- The policy: a customer's contracts are judged under each contract's own
  policy (latest loaded version), one group per policy; an entitling group
  wins, the customer's policy first, then the policy of the latest contract.
  A customer without contracts is judged under its policy (or the only one
  loaded) and gets ``no_contract``.
- Naming periods are days, like every other rule of the check: a contact named
  at some instant is named from that UTC day on; un-named at some instant, it
  is no longer named from that day on. A contact marked named with no history
  (loaded before histories were kept) counts as named since ever.
- Standing: the one recorded by ``at`` (``masterdata.current_overdue_since``).
- Opening a ticket that is not entitled: a topic of ``scope.always_supported``
  is accepted whatever the contract says, billed ``included`` (download,
  defective media, installation/activation problems are the vendor's); a
  manager's ``--override`` takes the billable path: previous-version rate for
  an older version when the rate card has one, else the current-version
  intervention rate, else the pay-per-incident price, else ``included`` (the
  manager waived the charge).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from deskctl.clock import iso_z
from deskctl.domain.entitlement import (
    ContactFacts,
    ContractFacts,
    Decision,
    ProductFacts,
    Reason,
    check_entitlement,
)
from deskctl.domain.policy import Policy
from deskctl.domain.roles import Act
from deskctl.errors import BadInput, Refused
from deskctl.store.dbapi import Reader
from deskctl.store.reads import masterdata as md


@dataclass(frozen=True)
class Request:
    """What is asked: support for this contact, product/version, channel, at this instant."""

    at: datetime
    contact: str | None = None
    product: str | None = None
    version: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Check:
    customer: str
    request: Request
    policy_row: Any  # the policy_version row: id, name, version
    policy: Policy
    decision: Decision

    @property
    def entitled(self) -> bool:
        return self.decision.entitled

    def blocking(self) -> list[Reason]:
        return [r for r in self.decision.reasons if r.blocking]

    def to_json(self) -> dict[str, Any]:
        """rules §8 ``contract check --json``: the decision, what was asked, under which policy."""
        return {
            "customer": self.customer,
            "at": iso_z(self.request.at),
            "contact": self.request.contact,
            "product": self.request.product,
            "version": self.request.version,
            "channel": self.request.channel,
            "policy": self.policy_row.name,
            "policy_version": self.policy_row.version,
            **self.decision.to_json(),
        }


def check(r: Reader, customer_key: str, request: Request) -> Check:
    """The contract check of docs/rules.md §8 for a customer key (NotFound when unknown)."""
    return check_customer(r, md.customer_by_key(r, customer_key), request)


def check_customer(r: Reader, customer: Any, request: Request) -> Check:
    """The check for a customer row (an ORM ``Customer`` or a read row: id, key, policy).

    Reads through ``r``: a DBAPI reader for ``contract check``, ``Reader.over(session)``
    inside the transaction that opens a ticket.
    """
    assert customer.id is not None
    contracts = md.contracts_of(r, customer.id)
    overdue_since = md.current_overdue_since(r, customer.id, request.at)
    contact = contact_facts(r, customer.id, request.contact) if request.contact else None
    product = product_facts(r, request.product) if request.product else None
    checks = []
    for name in _policy_order(r, customer, contracts):
        row, policy = md.latest_policy(r, name)
        decision = check_entitlement(
            policy,
            contract_facts(r, [c for c in contracts if c.policy == name]),
            at=request.at,
            overdue_since=overdue_since,
            contact=contact,
            contact_email=request.contact,
            product=product,
            product_name=request.product,
            version=request.version,
            channel=request.channel,
        )
        checks.append(Check(customer.key, request, row, policy, decision))
    return next((c for c in checks if c.entitled), checks[0])


def _policy_order(r: Reader, customer: Any, contracts: Sequence[Any]) -> list[str]:
    """Policies to judge under, preferred first (see the module docstring)."""
    names = list(dict.fromkeys(c.policy for c in reversed(contracts)))  # latest contract first
    if customer.policy in names:
        names.remove(customer.policy)
        names.insert(0, customer.policy)
    return names or [md.resolve_policy_name(r, customer.policy)]


def contract_facts(r: Reader, contracts: Sequence[Any]) -> list[ContractFacts]:
    ids = [c.id for c in contracts if c.id is not None]
    covered: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for contract_id, name in md.contract_products(r, ids):
            covered[contract_id].append(name)
    return [
        ContractFacts(
            id=c.id,
            plan=c.plan,
            start=c.start,
            end=c.end,
            activated=c.activated,
            license_issued=c.license_issued,
            products=tuple(covered[c.id]),
        )
        for c in contracts
        if c.id is not None
    ]


def contact_facts(r: Reader, customer_id: int, email: str) -> ContactFacts | None:
    """The contact's naming periods; None when the customer has no such contact."""
    contact = md.contact(r, customer_id, email.strip().lower())
    if contact is None or contact.id is None:
        return None
    history = md.naming_history(r, contact.id)
    return ContactFacts(contact.email, naming_periods(history, named_now=contact.named))


def naming_periods(
    history: Sequence[Any], *, named_now: bool
) -> tuple[tuple[date, date | None], ...]:
    """[named_from, named_until) day periods from the naming history (oldest first)."""
    if not history:
        return ((date.min, None),) if named_now else ()
    periods: list[tuple[date, date | None]] = []
    since: date | None = None
    for row in history:
        day = row.at.date()
        if row.named and since is None:
            since = day
        elif not row.named and since is not None:
            if day > since:
                periods.append((since, day))
            since = None
    if since is not None:
        periods.append((since, None))
    return tuple(periods)


def product_facts(r: Reader, name: str) -> ProductFacts | None:
    """The registered product (names compare case-insensitively); None when unknown."""
    row = md.product_by_name(r, name)
    if row is None:
        folded = name.casefold()
        row = next((p for p in md.products(r) if p.name.casefold() == folded), None)
    if row is None:
        return None
    return ProductFacts(row.name, row.current_version, row.eol, row.eol_announced)


# -- opening a ticket ------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    """The terms a ticket is opened on."""

    accepted_by: str  # "entitled" | "always_supported" | "override"
    billing_mode: str | None
    override: str | None = None  # the manager's reason
    override_by: str | None = None
    topic: str | None = None

    def to_json(self, chk: Check) -> dict[str, Any]:
        return {
            **chk.to_json(),
            "accepted_by": self.accepted_by,
            "ticket_billing_mode": self.billing_mode,
            "override": self.override,
            "override_by": self.override_by,
            "topic": self.topic,
        }


def check_override(session: Any, reason: str | None, actor: str) -> str | None:
    """The override reason, once the acting user is known to be a manager (domain.roles)."""
    if reason is None:
        return None
    if not reason.strip():
        raise BadInput("--override needs a reason")
    from deskctl.store import identity  # SQLAlchemy: only a write that overrides needs it

    identity.require(session, Act.OVERRIDE)
    return reason.strip()


def accept(chk: Check, *, topic: str | None, override: str | None, actor: str) -> Acceptance:
    """Entitled, or accepted anyway (always-supported topic, manager override), or Refused."""
    if chk.entitled:
        return Acceptance("entitled", chk.decision.billing_mode, topic=topic)
    if topic and topic in chk.policy.scope.always_supported:
        return Acceptance("always_supported", "included", topic=topic)
    if override:
        mode = billable_path(chk.policy, chk.decision)
        return Acceptance("override", mode, override=override, override_by=actor, topic=topic)
    reasons = "; ".join(f"{r.code}: {r.message}" for r in chk.blocking())
    raise Refused(
        f"{chk.customer} is not entitled: {reasons} (a manager may open it with --override REASON)"
    )


def billable_path(policy: Policy, decision: Decision) -> str:
    """How an out-of-contract request a manager lets in is billed (module docstring)."""
    rates = policy.rates
    if rates is None:
        return "included"
    if rates.previous is not None and "version_not_current" in decision.codes():
        return "per_intervention_previous"
    if rates.current is not None:
        return "per_intervention_current"
    if rates.incident_price is not None:
        return "pay_per_incident"
    return "included"


def open_notes(doc: dict[str, Any]) -> list[str]:
    """What the agent should know about the terms a ticket was opened on (for stderr)."""
    if not doc:
        return []
    notes = []
    blocking = [r["code"] for r in doc["reasons"] if r["blocking"]]
    if doc["accepted_by"] == "override":
        notes.append(
            f"opened by override of {doc['override_by']} ({doc['override']}); "
            f"not entitled: {', '.join(blocking)}"
        )
    elif doc["accepted_by"] == "always_supported":
        notes.append(
            f"{doc['topic']} is always supported: opened although not entitled "
            f"({', '.join(blocking)})"
        )
    notes += [r["message"] for r in doc["reasons"] if not r["blocking"]]
    mode = doc["ticket_billing_mode"]
    if mode == "per_intervention_previous":
        notes.append("billed per intervention at the previous-version rate")
    elif doc["accepted_by"] != "entitled" and mode != "included":
        notes.append(f"billed as {mode.replace('_', ' ')}")
    return notes
