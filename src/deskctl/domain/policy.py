"""The policy model: a vendor's written support policy as plain data.

Every other domain module reads its rules from these dataclasses. The TOML
loader (``deskctl.domain.policy_file``) builds them and validates the file; the
store keeps the raw text of every loaded version, so a ticket is always judged
under the version it was opened with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from deskctl.domain.vocabulary import BILLING_MODES as BILLING_MODES
from deskctl.domain.vocabulary import CATEGORIES as CATEGORIES
from deskctl.domain.vocabulary import OUTCOMES as OUTCOMES
from deskctl.domain.vocabulary import STATES as STATES
from deskctl.errors import BadInput, NotFound

# Open interval inside a local day: (start, end) in seconds from local midnight;
# end may be 86400 ("24:00").
Interval = tuple[int, int]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

INTAKE_FIELDS = (
    "channel",
    "product",
    "version",
    "os",
    "server",
    "hardware",
    "task",
    "error",
    "description",
)


@dataclass(frozen=True)
class CalendarSpec:
    name: str
    timezone: str = "UTC"
    # weekday (0 = Monday ... 6 = Sunday) -> sorted, non-overlapping open intervals
    hours: dict[int, tuple[Interval, ...]] = field(default_factory=dict)
    holidays: tuple[str, ...] = ()  # "BR", "BR-SP", "IT", "US-NY": country[-subdivision]
    extra_holidays: tuple[date, ...] = ()
    closed_dates: tuple[date, ...] = ()
    always_open: bool = False


@dataclass(frozen=True)
class Target:
    """An SLA target in seconds of business time. A single target has goal == limit."""

    goal: int
    limit: int

    @property
    def is_range(self) -> bool:
        return self.goal != self.limit


@dataclass(frozen=True)
class MetricSpec:
    """When a metric's clock starts and which event kinds stop it.

    ``start`` is ``"clock"`` (the policy clock start: opened or info_complete)
    or an event kind such as ``"onsite_requested"`` / ``"report_requested"``.
    """

    name: str
    start: str = "clock"
    stop: tuple[str, ...] = ("responded",)


@dataclass(frozen=True)
class Plan:
    name: str
    calendar: str
    billing: str = "included"  # one of BILLING_MODES
    channels: tuple[str, ...] = ()  # empty: every channel of the policy
    services: tuple[str, ...] = ()  # service packages included (24x7 incident, onsite visit...)
    consultancy_hours: Decimal = Decimal("0")
    warranty: bool = False  # free assistance for ``warranty_days`` after licence issue
    # metric -> severity -> target
    sla: dict[str, dict[str, Target]] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class SeverityScheme:
    order: tuple[str, ...]  # most severe first
    levels: tuple[str, ...] = ()  # impact/urgency levels, e.g. ("high", "medium", "low")
    matrix: dict[tuple[str, str], str] = field(default_factory=dict)  # (impact, urgency) -> sev
    default: str | None = None  # severity of an untriaged ticket, when the policy gives one

    def rank(self, severity: str) -> int:
        """0 for the most severe."""
        return self.order.index(severity)


@dataclass(frozen=True)
class ClockRules:
    start: str = "opened"  # or "info_complete"
    pause_states: tuple[str, ...] = ("awaiting_customer", "awaiting_approval")
    at_risk_share: float = 0.25  # at risk when less than this share of the target is left
    # Reports: the share of judged metrics that must keep their contractual limit.
    compliance_target: float = 0.95
    # Proposing a solution answers the customer: a ticket resolved (or closed) with no
    # response recorded has its first response then. False: only `respond` counts.
    resolve_is_response: bool = True


@dataclass(frozen=True)
class ScopeRules:
    """Case types (topics) by scope category, docs/rules.md §4."""

    always_supported: tuple[str, ...] = ()
    out_of_scope: tuple[str, ...] = ()
    billable_services: tuple[str, ...] = ()
    misuse_refuse_repeat: bool = True  # a (contact, topic) redirected once is refused after
    requires_reproducible: bool = False  # seed 000: not reproducible -> may close cancelled


@dataclass(frozen=True)
class ProtocolStep:
    offset: int  # seconds after entering awaiting_verification
    action: str  # "contact" | "call" | "email" | "close"
    outcome: str | None = None  # for "close": the outcome (``accepted``)
    note: str = ""


@dataclass(frozen=True)
class ClosureProtocol:
    clock: str = "calendar"  # "calendar" (the contract's calendar) or "wall"
    steps: tuple[ProtocolStep, ...] = ()


@dataclass(frozen=True)
class InterventionRate:
    price: Decimal
    included_minutes: int


@dataclass(frozen=True)
class RateCard:
    currency: str = "EUR"
    vat_included: bool = False
    current: InterventionRate | None = None  # occasional intervention, current version
    previous: InterventionRate | None = None  # single intervention, previous version
    overtime_price: Decimal = Decimal("0")  # each further block, started
    overtime_block_minutes: int = 30
    hourly: dict[str, Decimal] = field(default_factory=dict)  # diagnosis, service, recovery...
    incident_price: Decimal | None = None  # pay-per-incident flat price
    default_vat_rate: Decimal = Decimal("0")


@dataclass(frozen=True)
class EntitlementRules:
    require_activation: bool = False  # seed 001: close-out signed and first invoice issued
    block_overdue: bool = True  # seeds 000, 001
    named_contacts_only: bool = False  # seed 003
    warranty_days: int = 0  # seed 004: free assistance after licence issue
    previous_version: str = "billable"  # "billable" | "refused" | "allowed"
    latest_release_only: bool = False  # seed 003: support only for the latest release
    eol_notice_days: int = 365  # seed 003: 12 months' notice


NOTIFICATIONS = ("acknowledgement", "response", "solution", "closure")


@dataclass(frozen=True)
class MailRules:
    """What the policy e-mails customers (``[mail]``); nothing unless it says so."""

    notify: tuple[str, ...] = ()  # of NOTIFICATIONS
    templates: str | None = None  # a folder of templates overriding the shipped ones
    address: str | None = None  # the support address: Reply-To of every message


@dataclass(frozen=True)
class VendorIdentity:
    """Who issues the documents: the seller block of an invoice, the header of a report.

    ``logo`` and ``templates`` are paths as written in the file; a relative one is
    relative to the policy file's folder (the store keeps where it was loaded from).
    """

    legal_name: str = ""
    address: tuple[str, ...] = ()
    vat_number: str = ""
    email: str = ""
    phone: str = ""
    logo: str | None = None
    templates: str | None = None
    payment_terms_days: int = 30
    country: str = ""  # two letters: the paper and language of internal reports
    locale: str = ""  # overrides the country's language (checked against deskctl.i18n)


@dataclass(frozen=True)
class Policy:
    name: str
    vendor: str
    calendars: dict[str, CalendarSpec]
    severities: SeverityScheme
    plans: dict[str, Plan]
    metrics: dict[str, MetricSpec] = field(
        default_factory=lambda: {"response": MetricSpec("response")}
    )
    clock: ClockRules = field(default_factory=ClockRules)
    channels: tuple[str, ...] = ("portal", "email", "phone")
    default_channel: str = ""  # a ticket opened without --channel; "" means channels[0]
    required_fields: tuple[str, ...] = ()  # intake fields a ticket needs to leave draft
    scope: ScopeRules = field(default_factory=ScopeRules)
    closure: ClosureProtocol | None = None
    rates: RateCard | None = None
    entitlement: EntitlementRules = field(default_factory=EntitlementRules)
    reopen_window: int | None = 14 * 86400  # seconds after closing; None: no limit
    description: str = ""
    mail: MailRules = field(default_factory=MailRules)
    identity: VendorIdentity = field(default_factory=VendorIdentity)

    @property
    def opening_channel(self) -> str:
        """The channel of a ticket opened without one: ``default_channel``, else the first."""
        return self.default_channel or self.channels[0]


def pick_policy_name(known: Sequence[str], name: str | None) -> str:
    """The policy a command means among those loaded: the one named, else the only one."""
    if name:
        if name not in known:
            raise NotFound(f"no policy named {name!r} (loaded: {', '.join(known) or 'none'})")
        return name
    if not known:
        raise NotFound("no policy loaded: run `deskctl policy load FILE`")
    if len(known) > 1:
        raise BadInput(f"several policies are loaded ({', '.join(known)}): name one with --policy")
    return known[0]
