"""The contract check (docs/rules.md §8): may this customer get support, and on what terms.

``check_entitlement`` judges every contract of a customer against the policy's
``EntitlementRules`` and answers with a ``Decision``: entitled or not, every
reason that applies, and the plan, calendar, SLA targets, channels and billing
mode of the contract it chose.

Choices where the seeds are silent (each one is tested):

- Day granularity. ``at`` is an instant; every rule compares ``at`` converted
  to UTC and taken as a date (``on``) against the contract and product dates.
  Contract ``start`` and ``end`` are both inclusive days.
- A contract whose start is still in the future is ``not_activated`` (the
  contract exists but is not in force yet); a contract past its end is
  ``expired``.
- Activation gate (seed 001): with ``require_activation`` the contract needs an
  ``activated`` date on or before ``on``.
- Overdue charges (seeds 000, 001): the account is overdue from
  ``overdue_since`` (inclusive). With ``block_overdue`` off the reason is still
  reported, as information.
- Warranty (seed 004): on a plan with ``warranty``, free assistance covers
  ``warranty_days`` calendar days counting the day of licence issue: issued
  2026-01-01 with 90 days covers up to and including 2026-03-31, and is over
  from 2026-04-01 (``license_issued + warranty_days``). ``days_left`` counts
  the covered days still ahead, today included (1 on the last day). A licence
  not issued yet (or issued in the future) is ``not_activated``.
- Named contacts (seed 003): a contact is named over ``[named_from,
  named_until)`` periods; ``named_until`` None is open-ended. A contact e-mail
  nobody registered is not named. No contact given: the rule is not judged.
- Products: names compare case-insensitively; an empty contract product list
  covers every product. A product name that is not registered is
  ``product_not_covered``.
- Versions: see ``domain.versions.parse_version``. Only major.minor matters: a version is
  current when its major.minor is the current release's or newer. An older one
  is ``version_not_current``: blocking when ``previous_version`` is
  ``"refused"`` or ``latest_release_only`` is set; otherwise informational
  (``"billable"``: billed at the previous-version rate, whatever the plan, also
  under warranty; ``"allowed"``: billed like a current version).
- End of life (seed 003): an EOL date set less than ``eol_notice_days`` after
  ``eol_announced`` is pushed to ``eol_announced + eol_notice_days`` (the
  promised notice); without an announcement date the EOL date stands. From the
  effective EOL on, support continues only up to the contract's end date (we
  keep no history of contract edits, so the end date on file is taken as the
  one agreed before the announcement); inside that period ``end_of_life`` is
  reported as information, past it (or with no end date) it blocks.
- Channels: the plan's channels, or every channel of the policy when the plan
  lists none; compared case-insensitively.
- Several contracts: an entitling contract wins (latest start, then highest
  id); when none entitles, the one in force by its dates wins, then the one
  with fewest blocking reasons, then latest start, then highest id. Reasons
  are those of the chosen contract only.
- One reason per code: when a code applies for two causes (a contract that
  starts in the future and is not activated), the messages are joined and the
  data merged.
- Billing mode, when entitled: ``per_intervention_previous`` for a billable
  previous version, else ``warranty`` while under warranty, else the plan's
  mode (``included``, ``per_intervention_current``, ``pay_per_incident``).
  ``None`` when not entitled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from deskctl.domain.policy import EntitlementRules, Plan, Policy, Target
from deskctl.domain.versions import is_current, parse_version
from deskctl.errors import BadInput

REASON_CODES = (
    "no_contract",
    "not_activated",
    "expired",
    "overdue",
    "contact_not_named",
    "product_not_covered",
    "version_not_current",
    "end_of_life",
    "channel_not_in_plan",
    "warranty",
)
DECISION_BILLING_MODES = (
    "included",
    "per_intervention_current",
    "per_intervention_previous",
    "pay_per_incident",
    "warranty",
)
PREVIOUS_VERSION_RULES = ("billable", "refused", "allowed")

_PLAN_BILLING = {
    "included": "included",
    "per_intervention": "per_intervention_current",
    "pay_per_incident": "pay_per_incident",
}


@dataclass(frozen=True)
class ContractFacts:
    id: int
    plan: str
    start: date
    end: date | None = None
    activated: date | None = None  # close-out signed and first invoice issued (seed 001)
    license_issued: date | None = None  # start of the warranty (seed 004)
    products: tuple[str, ...] = ()  # empty: every product


@dataclass(frozen=True)
class ProductFacts:
    name: str
    current: str  # current release, e.g. "6.2"
    eol: date | None = None
    eol_announced: date | None = None


@dataclass(frozen=True)
class ContactFacts:
    email: str
    # [named_from, named_until) periods; named_until None: still named
    named_periods: tuple[tuple[date, date | None], ...] = ()


@dataclass(frozen=True)
class Reason:
    code: str  # one of REASON_CODES
    message: str
    blocking: bool
    data: dict[str, Any] = field(default_factory=dict)  # JSON-ready values only

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "blocking": self.blocking,
            "data": dict(self.data),
        }


@dataclass(frozen=True)
class Decision:
    entitled: bool
    on: date  # the day judged (``at`` in UTC)
    reasons: tuple[Reason, ...]
    contract_id: int | None = None
    plan: str | None = None
    calendar: str | None = None
    billing_mode: str | None = None  # one of DECISION_BILLING_MODES; None when not entitled
    targets: dict[str, dict[str, Target]] = field(default_factory=dict)
    channels: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    warranty_days_left: int | None = None  # warranty plans once the licence is issued

    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {
            "entitled": self.entitled,
            "on": self.on.isoformat(),
            "contract_id": self.contract_id,
            "plan": self.plan,
            "calendar": self.calendar,
            "billing_mode": self.billing_mode,
            "warranty_days_left": self.warranty_days_left,
            "channels": list(self.channels),
            "services": list(self.services),
            "targets": {
                metric: {
                    severity: {"goal_seconds": target.goal, "limit_seconds": target.limit}
                    for severity, target in by_severity.items()
                }
                for metric, by_severity in self.targets.items()
            },
            "reasons": [reason.to_json() for reason in self.reasons],
        }


def effective_eol(product: ProductFacts, notice_days: int) -> date | None:
    """The EOL date once the promised notice is honoured (None: no EOL set)."""
    if product.eol is None:
        return None
    if product.eol_announced is None:
        return product.eol
    return max(product.eol, product.eol_announced + timedelta(days=notice_days))


def warranty_end(license_issued: date, warranty_days: int) -> date:
    """First day no longer under warranty (the issue day is the first covered day)."""
    return license_issued + timedelta(days=warranty_days)


def is_named(contact: ContactFacts, on: date) -> bool:
    return any(
        start <= on and (until is None or on < until) for start, until in contact.named_periods
    )


@dataclass(frozen=True)
class _Request:
    on: date
    overdue_since: date | None
    contact: ContactFacts | None
    contact_email: str | None
    product: ProductFacts | None
    product_name: str | None
    version: str | None
    older: bool | None  # version older than the product's current release; None: not judged
    channel: str | None


@dataclass(frozen=True)
class _Verdict:
    contract: ContractFacts
    plan: Plan
    reasons: tuple[Reason, ...]
    in_force: bool
    warranty_days_left: int | None
    under_warranty: bool

    @property
    def blocking(self) -> int:
        return sum(1 for reason in self.reasons if reason.blocking)

    @property
    def entitled(self) -> bool:
        return self.blocking == 0


def check_entitlement(
    policy: Policy,
    contracts: Sequence[ContractFacts],
    *,
    at: datetime,
    overdue_since: date | None = None,
    contact: ContactFacts | None = None,
    contact_email: str | None = None,
    product: ProductFacts | None = None,
    product_name: str | None = None,
    version: str | None = None,
    channel: str | None = None,
) -> Decision:
    """Judge a customer's contracts at ``at``; see the module docstring for the rules."""
    if at.tzinfo is None:
        raise BadInput("at: the instant has no UTC offset")
    rules = policy.entitlement
    if rules.previous_version not in PREVIOUS_VERSION_RULES:
        raise BadInput(
            f"entitlement.previous_version: {rules.previous_version!r} is not one of "
            + ", ".join(PREVIOUS_VERSION_RULES)
        )
    if version is not None and product is None and product_name is None:
        raise BadInput("version: give the product the version belongs to")
    older = None
    if version is not None and product is not None:
        older = not _current_for(version, product)
    request = _Request(
        on=at.astimezone(UTC).date(),
        overdue_since=overdue_since,
        contact=contact,
        contact_email=contact_email,
        product=product,
        product_name=product_name,
        version=version,
        older=older,
        channel=channel,
    )
    if not contracts:
        reason = Reason("no_contract", "the customer has no support contract", True)
        return Decision(entitled=False, on=request.on, reasons=(reason,))
    verdicts = [_judge(policy, contract, request) for contract in contracts]
    chosen = _choose(verdicts)
    return _decision(policy, chosen, request)


def _current_for(version: str, product: ProductFacts) -> bool:
    parse_version(version)  # a bad version is the user's input: report it first
    try:
        parse_version(product.current)
    except BadInput:
        raise BadInput(
            f"product {product.name}: current release {product.current!r} is not a version"
        ) from None
    return is_current(version, product.current)


def _choose(verdicts: list[_Verdict]) -> _Verdict:
    entitling = [v for v in verdicts if v.entitled]
    if entitling:
        return max(entitling, key=lambda v: (v.contract.start, v.contract.id))
    return max(
        verdicts,
        key=lambda v: (v.in_force, -v.blocking, v.contract.start, v.contract.id),
    )


def _decision(policy: Policy, verdict: _Verdict, request: _Request) -> Decision:
    plan = verdict.plan
    return Decision(
        entitled=verdict.entitled,
        on=request.on,
        reasons=verdict.reasons,
        contract_id=verdict.contract.id,
        plan=plan.name,
        calendar=plan.calendar,
        billing_mode=_billing_mode(policy.entitlement, verdict, request)
        if verdict.entitled
        else None,
        targets={metric: dict(by_severity) for metric, by_severity in plan.sla.items()},
        channels=_plan_channels(policy, plan),
        services=plan.services,
        warranty_days_left=verdict.warranty_days_left,
    )


def _billing_mode(rules: EntitlementRules, verdict: _Verdict, request: _Request) -> str:
    if request.older and rules.previous_version == "billable" and not rules.latest_release_only:
        return "per_intervention_previous"
    if verdict.under_warranty:
        return "warranty"
    mode = _PLAN_BILLING.get(verdict.plan.billing)
    if mode is None:
        raise BadInput(
            f"plans.{verdict.plan.name}.billing: {verdict.plan.billing!r} is not one of "
            + ", ".join(_PLAN_BILLING)
        )
    return mode


def _plan_channels(policy: Policy, plan: Plan) -> tuple[str, ...]:
    return plan.channels or policy.channels


def _judge(policy: Policy, contract: ContractFacts, request: _Request) -> _Verdict:
    plan = policy.plans.get(contract.plan)
    if plan is None:
        raise BadInput(
            f"contract #{contract.id}: plan {contract.plan!r} is not in policy {policy.name!r}"
        )
    rules = policy.entitlement
    on = request.on
    reasons = [
        *_contract_dates(contract, on),
        *_activation(rules, contract, on),
        *_overdue(rules, request.overdue_since, on),
        *_contact(rules, request),
        *_product(contract, request),
        *_version(rules, request),
        *_end_of_life(rules, contract, request),
        *_channel(policy, plan, request.channel),
    ]
    days_left = None
    under_warranty = False
    if plan.warranty:
        reasons += _warranty(rules, plan, contract, on)
        if contract.license_issued is not None and contract.license_issued <= on:
            end = warranty_end(contract.license_issued, rules.warranty_days)
            days_left = max(0, (end - on).days)
            under_warranty = days_left > 0
    in_force = contract.start <= on and (contract.end is None or on <= contract.end)
    return _Verdict(
        contract=contract,
        plan=plan,
        reasons=_merge(reasons),
        in_force=in_force,
        warranty_days_left=days_left,
        under_warranty=under_warranty,
    )


def _merge(reasons: list[Reason]) -> tuple[Reason, ...]:
    """One reason per code, in the order of REASON_CODES."""
    merged: dict[str, Reason] = {}
    for reason in reasons:
        seen = merged.get(reason.code)
        if seen is None:
            merged[reason.code] = reason
            continue
        merged[reason.code] = Reason(
            reason.code,
            f"{seen.message}; {reason.message}",
            seen.blocking or reason.blocking,
            {**seen.data, **reason.data},
        )
    return tuple(sorted(merged.values(), key=lambda r: REASON_CODES.index(r.code)))


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _contract_dates(contract: ContractFacts, on: date) -> list[Reason]:
    found = []
    if on < contract.start:
        found.append(
            Reason(
                "not_activated",
                f"contract #{contract.id} starts on {contract.start}",
                True,
                {"starts": _iso(contract.start)},
            )
        )
    if contract.end is not None and on > contract.end:
        found.append(
            Reason(
                "expired",
                f"contract #{contract.id} ended on {contract.end}",
                True,
                {"ended": _iso(contract.end)},
            )
        )
    return found


def _activation(rules: EntitlementRules, contract: ContractFacts, on: date) -> list[Reason]:
    if not rules.require_activation:
        return []
    if contract.activated is None:
        message = (
            "support is not activated: implementation close-out not signed "
            "or first invoice not issued"
        )
    elif contract.activated > on:
        message = f"support is activated from {contract.activated}"
    else:
        return []
    return [Reason("not_activated", message, True, {"activated": _iso(contract.activated)})]


def _overdue(rules: EntitlementRules, overdue_since: date | None, on: date) -> list[Reason]:
    if overdue_since is None or overdue_since > on:
        return []
    return [
        Reason(
            "overdue",
            f"the account has overdue charges since {overdue_since}",
            rules.block_overdue,
            {"overdue_since": _iso(overdue_since)},
        )
    ]


def _warranty(
    rules: EntitlementRules, plan: Plan, contract: ContractFacts, on: date
) -> list[Reason]:
    if rules.warranty_days <= 0:
        raise BadInput(
            f"entitlement.warranty_days must be positive: plan {plan.name!r} is a warranty plan"
        )
    issued = contract.license_issued
    if issued is None:
        return [
            Reason(
                "not_activated",
                "the licence is not issued yet: the warranty starts at licence issue",
                True,
                {"license_issued": None},
            )
        ]
    if on < issued:
        return [
            Reason(
                "not_activated",
                f"the warranty starts at licence issue on {issued}",
                True,
                {"license_issued": _iso(issued)},
            )
        ]
    end = warranty_end(issued, rules.warranty_days)
    last_day = end - timedelta(days=1)
    if on >= end:
        return [
            Reason(
                "expired",
                f"the warranty ended on {last_day}",
                True,
                {"warranty_last_day": _iso(last_day)},
            )
        ]
    days_left = (end - on).days
    return [
        Reason(
            "warranty",
            f"under warranty until {last_day} ({days_left} days left)",
            False,
            {"days_left": days_left, "last_day": _iso(last_day), "license_issued": _iso(issued)},
        )
    ]


def _contact(rules: EntitlementRules, request: _Request) -> list[Reason]:
    if not rules.named_contacts_only:
        return []
    contact = request.contact
    if contact is None:
        if request.contact_email is None:
            return []  # no contact given: nothing to judge
        return [
            Reason(
                "contact_not_named",
                f"{request.contact_email} is not a registered support contact",
                True,
                {"contact": request.contact_email},
            )
        ]
    if is_named(contact, request.on):
        return []
    return [
        Reason(
            "contact_not_named",
            f"{contact.email} is not a named support contact on {request.on}",
            True,
            {"contact": contact.email},
        )
    ]


def _product(contract: ContractFacts, request: _Request) -> list[Reason]:
    if request.product is None:
        if request.product_name is None:
            return []
        return [
            Reason(
                "product_not_covered",
                f"product {request.product_name!r} is not registered "
                "(register it with `deskctl product add`)",
                True,
                {"product": request.product_name},
            )
        ]
    name = request.product.name
    covered = {p.casefold() for p in contract.products}
    if not covered or name.casefold() in covered:
        return []
    return [
        Reason(
            "product_not_covered",
            f"contract #{contract.id} does not cover {name}",
            True,
            {"product": name, "covered": list(contract.products)},
        )
    ]


def _version(rules: EntitlementRules, request: _Request) -> list[Reason]:
    product = request.product
    if not request.older or product is None:
        return []
    if rules.latest_release_only:
        terms, blocking = "only the latest release is supported", True
    elif rules.previous_version == "refused":
        terms, blocking = "previous versions are not supported", True
    elif rules.previous_version == "billable":
        terms, blocking = "billed at the previous-version rate", False
    else:
        terms, blocking = "supported like the current release", False
    return [
        Reason(
            "version_not_current",
            f"{product.name} {request.version} is older than the current release "
            f"{product.current}: {terms}",
            blocking,
            {"product": product.name, "version": request.version, "current": product.current},
        )
    ]


def _end_of_life(
    rules: EntitlementRules, contract: ContractFacts, request: _Request
) -> list[Reason]:
    product = request.product
    if product is None:
        return []
    eol = effective_eol(product, rules.eol_notice_days)
    if eol is None or request.on < eol:
        return []
    data = {
        "product": product.name,
        "eol": _iso(product.eol),
        "effective_eol": _iso(eol),
        "supported_until": _iso(contract.end),
    }
    if contract.end is not None and request.on <= contract.end:
        message = (
            f"{product.name} reached end of life on {eol}; "
            f"supported until the contract ends on {contract.end}"
        )
        return [Reason("end_of_life", message, False, data)]
    message = f"{product.name} reached end of life on {eol}"
    return [Reason("end_of_life", message, True, data)]


def _channel(policy: Policy, plan: Plan, channel: str | None) -> list[Reason]:
    if channel is None:
        return []
    allowed = _plan_channels(policy, plan)
    if channel.casefold() in {c.casefold() for c in allowed}:
        return []
    return [
        Reason(
            "channel_not_in_plan",
            f"channel {channel!r} is not in plan {plan.name} ({', '.join(allowed)})",
            True,
            {"channel": channel, "allowed": list(allowed)},
        )
    ]
