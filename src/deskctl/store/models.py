"""The store's tables. Every change here comes with an Alembic revision in migrations/.

The ticket row is a projection of its events (``ticket_event``); it exists so
lists, queues and reports can filter and sort on indexed columns without
replaying histories.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import JSON, Column, Index, LargeBinary, Table, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from deskctl.store.reads.report import COUNTED_EVENTS, UNMEASURED
from deskctl.store.types import Cents, DecimalText, UTCDateTime


class _Stored(Protocol):
    @property
    def id(self) -> int | None: ...


def pk(row: _Stored) -> int:
    """The id of a stored row. SQLModel types ids ``int | None`` because a new row has none
    until the session flushes it; asking for it before then is a programming error."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id until the session flushes it")
    return row.id


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, typed: inserts and column expressions without the ORM's
    per-row bookkeeping (SQLModel does not declare ``__table__``)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def _at(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime, nullable=nullable, index=index))


class Meta(SQLModel, table=True):
    __tablename__ = "meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class PolicyVersion(SQLModel, table=True):
    __tablename__ = "policy_version"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, index=True)
    version: int
    digest: str = Field(max_length=64)
    source: str = Field(default="", max_length=500)
    text: str = Field(sa_column=Column(Text, nullable=False))
    loaded_at: datetime = _at()
    loaded_by: str = Field(default="", max_length=80)


class Agent(SQLModel, table=True):
    __tablename__ = "agent"
    login: str = Field(primary_key=True, max_length=80)
    name: str = Field(default="", max_length=200)
    role: str = Field(default="agent", max_length=20)  # domain.roles: readonly | agent | manager
    team: str | None = Field(default=None, max_length=80)
    email: str | None = Field(default=None, max_length=254)
    created_at: datetime = _at()
    # The PostgreSQL login this agent connects as; None: the login itself (0009).
    db_role: str | None = Field(default=None, max_length=80)


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=200)
    country: str = Field(max_length=2)
    vat_rate: Decimal | None = Field(default=None, sa_column=Column(DecimalText, nullable=True))
    policy: str | None = Field(default=None, max_length=80)  # policy name; None: the default
    locale: str | None = Field(default=None, max_length=10)  # None: from the country (0007)
    created_at: datetime = _at()
    billing_address: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    vat_id: str | None = Field(default=None, max_length=40)  # the buyer's VAT number


class Contact(SQLModel, table=True):
    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("customer_id", "email"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    email: str = Field(max_length=254, index=True)
    name: str = Field(default="", max_length=200)
    named: bool = False  # current naming; the history is in contact_naming
    locale: str | None = Field(default=None, max_length=10)  # None: the customer's (0007)
    created_at: datetime = _at()


class ContactNaming(SQLModel, table=True):
    """Each time a contact is named or un-named as a support contact (seed 003)."""

    __tablename__ = "contact_naming"
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    named: bool
    at: datetime = _at()
    actor: str = Field(default="", max_length=80)


class Product(SQLModel, table=True):
    __tablename__ = "product"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    current_version: str = Field(max_length=40)
    eol: date | None = None
    eol_announced: date | None = None
    created_at: datetime = _at()


class Contract(SQLModel, table=True):
    __tablename__ = "contract"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    policy: str = Field(max_length=80)
    plan: str = Field(max_length=80)
    start: date
    end: date | None = None
    activated: date | None = None  # close-out signed and first invoice issued (seed 001)
    license_issued: date | None = None  # warranty start (seed 004)
    renews: int | None = Field(default=None, foreign_key="contract.id")
    consultancy_hours: Decimal | None = Field(
        default=None, sa_column=Column(DecimalText, nullable=True)
    )
    created_at: datetime = _at()


class ContractHours(SQLModel, table=True):
    """Consultancy hours drawn from a contract (PREMIUM, seed 003): the ledger behind the balance.

    ``contract.consultancy_hours`` is what was bought; the balance is that minus
    the sum of this ledger. Hours are kept exactly, in hundredths (the Cents type).
    """

    __tablename__ = "contract_hours"
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    at: datetime = _at()
    hours: Decimal = Field(sa_column=Column(Cents, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    actor: str = Field(default="", max_length=80)
    recorded_at: datetime = _at()


class ContractProduct(SQLModel, table=True):
    __tablename__ = "contract_product"
    contract_id: int = Field(foreign_key="contract.id", primary_key=True)
    product_id: int = Field(foreign_key="product.id", primary_key=True)


class Standing(SQLModel, table=True):
    """Account standing changes; the latest row is the current standing."""

    __tablename__ = "standing"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    overdue_since: date | None = None  # None: paid up
    at: datetime = _at()
    actor: str = Field(default="", max_length=80)
    note: str = Field(default="", max_length=500)


def _partial(name: str, columns: tuple[str, ...], where: str) -> Index:
    """An index over the rows ``where`` holds, on both backends. SQLite uses a partial
    index only for a query whose WHERE has the same terms, and SQLAlchemy writes a
    boolean there as 0/1: so does the SQLite condition."""
    lite = where.replace("= false", "= 0").replace("= true", "= 1")
    return Index(name, *columns, sqlite_where=text(lite), postgresql_where=text(where))


# The SLA reports' indexes (0011, ``services.cohort``): what a tally groups by first,
# then the period and the facts' window; the running ones period first, then what
# their state CASE compares.
TICKET_SETTLED = (
    "severity", "customer_id", "policy_version_id", "sla_settled",
    "opened_at", "sla_computed_at", "sla_stale_at",
)  # fmt: skip
TICKET_RUNNING = (
    "opened_at", "sla_computed_at", "sla_stale_at", "severity", "customer_id",
    "policy_version_id", "sla_settled", "sla_limit_at", "sla_goal_at", "sla_risk_at",
)  # fmt: skip
FACT_SETTLED = (
    "severity", "customer_id", "metric", "state", "opened_at", "computed_at", "stale_at",
)  # fmt: skip
FACT_RUNNING = (
    "opened_at", "computed_at", "stale_at", "severity", "customer_id", "metric",
    "due_at", "goal_at", "risk_at", "state", "stopped_at", "ticket_id",
)  # fmt: skip
WAIT_COHORT = ("opened_at", "customer_id", "product")  # the overview's filters (0014)
# The overview's volume scan (0012, built again by 0015): what it groups by, the
# tallies it also groups by (few values: it then adds up no tally per row), then the
# period and filters, then what it counts.
VOLUME = (
    "channel", "category", "severity", "product", "version",
    "solutions_proposed", "solutions_rejected", "reopens",
    "opened_at", "customer_id", "closed_at",
    "response_business_seconds", "resolution_business_seconds",
)  # fmt: skip
FACT_BREACHED = ("opened_at", "computed_at", "stale_at", "ticket_id", "due_at", "stopped_at")


class Ticket(SQLModel, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_status_severity", "status", "severity"),
        Index("ix_ticket_customer_status", "customer_id", "status"),
        Index("ix_ticket_assignee_status", "assignee", "status"),
        Index("ix_ticket_status_opened", "status", "opened_at"),
        Index("ix_ticket_status_due", "status", "sla_due_at"),
        Index("ix_ticket_opened_at", "opened_at"),
        Index("ix_ticket_status_id", "status", "id"),  # the sweep's batches (0005)
        Index("ix_ticket_sla_state", "sla_state"),  # SLA notices (0005)
        # The SLA reports' replay check and the overview's days read this index alone (0010).
        Index(
            "ix_ticket_sla_cohort",
            "opened_at",
            "sla_computed_at",
            "sla_stale_at",
            "severity",
            "customer_id",
            "policy_version_id",
            "sla_settled",
            "sla_limit_at",
            "sla_goal_at",
            "sla_risk_at",
        ),
        # The reports' ticket tallies (0011): settled tickets in GROUP BY order, so
        # SQLite streams the groups instead of sorting a million rows; the few
        # tickets with a running clock in a small index of their own.
        _partial("ix_ticket_sla_settled", TICKET_SETTLED, "sla_limit_at IS NULL"),
        _partial("ix_ticket_sla_running", TICKET_RUNNING, "sla_limit_at IS NOT NULL"),
        # report overview (0012): each scan reads one index alone, led by what it
        # groups by (in order: no sort), then the period and the filters; the volume
        # scan also adds up what the quality rates and the business-time counts need
        # (0015), so no other pass reads the cohort for them.
        Index("ix_ticket_volume", *VOLUME),
        # topic, agent and customer in one pass (0015: a few thousand groups a year)
        Index("ix_ticket_dims", "topic", "assignee", "customer_id", "opened_at", "product"),
        Index("ix_ticket_customer_opened", "customer_id", "opened_at", "product"),
        # its business times (0014): the stored seconds in order, per severity and
        # overall, so a percentile is an OFFSET into an index range, not a sort
        *(
            Index(f"ix_ticket_{metric}_{lead}", *keys, *WAIT_COHORT)
            for metric in ("response", "resolution")
            for lead, keys in (
                ("severity", ("severity", f"{metric}_business_seconds")),
                ("seconds", (f"{metric}_business_seconds",)),
            )
        ),
        *(
            _partial(f"ix_ticket_{metric}_unmeasured", WAIT_COHORT, where)
            for metric, where in UNMEASURED.items()
        ),
        # report findings (0013): its GROUP BYs read these alone; the recurrences
        # too, from the stored comeback links at the end (0016)
        Index(
            "ix_ticket_findings_opened",
            "opened_at",
            "category",
            "customer_id",
            "topic",
            "product",
            "version",
            "hardware",
            "os",
            "contact_id",
            *("comeback_gap", "comeback_id", "closed_at", "comeback_next"),
        ),
        Index(
            "ix_ticket_findings_closed",
            *("closed_at", "outcome", "customer_id", "topic", "product"),
            *("opened_at", "comeback_next"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    contract_id: int | None = Field(default=None, foreign_key="contract.id")
    policy_version_id: int | None = Field(default=None, foreign_key="policy_version.id")
    parent_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    plan: str | None = Field(default=None, max_length=80)
    calendar: str | None = Field(default=None, max_length=80)
    title: str = Field(max_length=300)
    channel: str = Field(default="portal", max_length=20)
    product: str | None = Field(default=None, max_length=120)
    version: str | None = Field(default=None, max_length=40)
    os: str | None = Field(default=None, max_length=120)
    server: str | None = Field(default=None, max_length=120)
    hardware: str | None = Field(default=None, max_length=120)
    task: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default="draft", max_length=30)
    outcome: str | None = Field(default=None, max_length=20)
    severity: str | None = Field(default=None, max_length=20)
    category: str | None = Field(default=None, max_length=30)
    topic: str | None = Field(default=None, max_length=80)
    assignee: str | None = Field(default=None, max_length=80)
    team: str | None = Field(default=None, max_length=80)
    billing_mode: str | None = Field(default=None, max_length=40)
    entitlement: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    opened_at: datetime = _at()
    updated_at: datetime = _at()
    info_complete_at: datetime | None = _at(nullable=True)
    responded_at: datetime | None = _at(nullable=True)
    resolved_at: datetime | None = _at(nullable=True)
    closed_at: datetime | None = _at(nullable=True, index=True)
    sla_state: str | None = Field(default=None, max_length=20)
    sla_due_at: datetime | None = _at(nullable=True)
    # When the ticket's rows in ``sla_fact`` were computed (None: never, e.g. a store
    # upgraded from 0009) and the first event dated after that, which they do not count.
    sla_computed_at: datetime | None = _at(nullable=True)
    sla_stale_at: datetime | None = _at(nullable=True)
    # The ticket-level state at any instant those facts tell, without a GROUP BY per
    # ticket: the worst stored state of the clocks not running, and the earliest
    # at-risk, goal and limit instants of the running ones (domain.sla_facts.settled).
    sla_settled: str | None = Field(default=None, max_length=20)
    sla_risk_at: datetime | None = _at(nullable=True)
    sla_goal_at: datetime | None = _at(nullable=True)
    sla_limit_at: datetime | None = _at(nullable=True)
    rev: int = 0  # number of events: the compare-and-set guard of every move
    # Business seconds to first response and to resolution as the overview measures
    # them (domain.waits), written with the SLA columns; None: not answered yet (or a
    # store upgraded from 0013 before ``sla refresh --all``).
    response_business_seconds: int | None = None
    resolution_business_seconds: int | None = None
    # How many solutions were proposed and rejected, how many reopens (domain.tallies),
    # written with the SLA columns; None: not counted yet (a store upgraded from 0014
    # before ``sla refresh --all``).
    solutions_proposed: int | None = None
    solutions_rejected: int | None = None
    reopens: int | None = None
    # the ticket this one comes back to, the seconds since it closed, and the gap of
    # the first that comes back to this one (0016, domain.comebacks; store.comebacks
    # keeps them): 0 none, NULL not linked yet
    comeback_id: int | None = None
    comeback_gap: int | None = None
    comeback_next: int | None = None


class SlaFact(SQLModel, table=True):
    """One ticket's clock of one owed metric as of ``computed_at`` (domain.sla_facts).

    Written with the ticket row by every change, by ``sla refresh`` and by ``demo``.
    The ticket's opening, customer, severity and policy version are repeated here so
    a report is a GROUP BY over this one table (0010).
    """

    __tablename__ = "sla_fact"
    # The reports' metric tallies and breach list (0011, see TICKET_SETTLED).
    __table_args__ = (
        _partial("ix_sla_fact_settled", FACT_SETTLED, "running = false"),
        _partial("ix_sla_fact_running", FACT_RUNNING, "running = true"),
        _partial("ix_sla_fact_breached", FACT_BREACHED, "running = false AND state = 'breached'"),
    )
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    metric: str = Field(primary_key=True, max_length=40)
    state: str = Field(max_length=20)  # at computed_at
    running: bool = False  # the clock ticks: its state turns at risk_at, goal_at, due_at
    goal_at: datetime | None = _at(nullable=True)
    due_at: datetime | None = _at(nullable=True)  # the limit
    risk_at: datetime | None = _at(nullable=True)
    stopped_at: datetime | None = _at(nullable=True)
    elapsed_seconds: int = 0  # business seconds used, pauses excluded
    paused_seconds: int = 0  # business seconds the clock stood still
    computed_at: datetime = _at()
    stale_at: datetime | None = _at(nullable=True)
    opened_at: datetime = _at()
    customer_id: int = Field(foreign_key="customer.id")
    severity: str | None = Field(default=None, max_length=20)
    policy_version_id: int | None = Field(default=None, foreign_key="policy_version.id")


class TicketEvent(SQLModel, table=True):
    """The append-only history. Rows are inserted, never updated or deleted."""

    __tablename__ = "ticket_event"
    __table_args__ = (
        UniqueConstraint("ticket_id", "seq"),
        # the events the tallies count (0017): the reopens of findings, the tallies of
        # tickets without them
        _partial("ix_event_kind_at_ticket", ("kind", "at", "ticket_id"), COUNTED_EVENTS),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    seq: int
    at: datetime = _at()
    kind: str = Field(max_length=30)
    actor: str = Field(default="", max_length=80)
    from_status: str | None = Field(default=None, max_length=30)
    to_status: str | None = Field(default=None, max_length=30)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    data: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Attachment(SQLModel, table=True):
    __tablename__ = "attachment"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    filename: str = Field(max_length=255)
    stored_path: str = Field(max_length=1000)
    size: int
    sha256: str = Field(max_length=64, index=True)
    content_type: str | None = Field(default=None, max_length=120)
    added_at: datetime = _at()


class AttachmentBlob(SQLModel, table=True):
    """Attachment content, once per sha256 however many tickets carry it (0009)."""

    __tablename__ = "attachment_blob"
    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class WorkLog(SQLModel, table=True):
    """Billable time; mirrors the ``worklog`` events so billing can query it in SQL."""

    __tablename__ = "worklog"
    __table_args__ = (
        Index("ix_worklog_ticket_at", "ticket_id", "at"),
        # the overview's minutes per kind, read in kind order without the rows (0015)
        Index("ix_worklog_kind_at", "kind", "at", "minutes"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    event_seq: int
    at: datetime = _at()
    minutes: int
    kind: str = Field(default="connection", max_length=20)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    actor: str = Field(default="", max_length=80)
    invoice_line_id: int | None = Field(default=None, foreign_key="invoice_line.id", index=True)


class KbArticle(SQLModel, table=True):
    __tablename__ = "kb_article"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True)
    title: str = Field(max_length=300)
    url: str | None = Field(default=None, max_length=1000)
    topic: str | None = Field(default=None, max_length=80, index=True)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _at()


class SweepStep(SQLModel, table=True):
    """One step the sweep performed; the unique key makes every step happen once."""

    __tablename__ = "sweep_step"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    action: str = Field(max_length=40)
    due_at: datetime = _at()
    done_at: datetime = _at()
    data: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_recipient_read", "recipient", "read_at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    recipient: str = Field(max_length=254)
    kind: str = Field(max_length=40)
    message: str = Field(sa_column=Column(Text, nullable=False))
    due_at: datetime = _at()
    created_at: datetime = _at()
    read_at: datetime | None = _at(nullable=True)


class OutboxMessage(SQLModel, table=True):
    """E-mail to send; a failed send stays here and is retried, never lost or doubled."""

    __tablename__ = "outbox_message"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _at()
    sent_at: datetime | None = _at(nullable=True, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # A sending sweep's lease: nobody else sends the message until it expires (0005).
    claimed_at: datetime | None = _at(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=80)
    # Threading (0007): the Message-ID it is sent with, the message it answers, the
    # thread's References, the Reply-To, an HTML part, RFC 3834 Auto-Submitted.
    message_id: str | None = Field(default=None, max_length=250, index=True)
    in_reply_to: str | None = Field(default=None, max_length=250)
    thread_refs: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reply_to: str | None = Field(default=None, max_length=254)
    html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    automatic: bool = False


class MailMessage(SQLModel, table=True):
    """Every fetched message, once: the unique key is recorded with the message's effect."""

    __tablename__ = "mail_message"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=250, unique=True)  # Message-ID, or "sha256:<digest>"
    message_id: str | None = Field(default=None, max_length=250, index=True)
    mailbox: str = Field(max_length=80)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    effect: str = Field(max_length=30)
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sender: str = Field(default="", max_length=254)
    subject: str = Field(default="", max_length=300)
    received_at: datetime = _at()


class MailQuarantine(SQLModel, table=True):
    """Mail nobody could be matched to, kept whole until opened as a ticket or discarded."""

    __tablename__ = "mail_quarantine"
    __table_args__ = (Index("ix_mail_quarantine_status", "status", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    message_key: str = Field(max_length=250, unique=True)
    mailbox: str = Field(max_length=80)
    sender: str = Field(default="", max_length=254)
    subject: str = Field(default="", max_length=300)
    reason: str = Field(default="", max_length=300)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: datetime = _at()
    status: str = Field(default="held", max_length=12)  # held | opened | discarded
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    settled_at: datetime | None = _at(nullable=True)
    settled_by: str | None = Field(default=None, max_length=80)


class Invoice(SQLModel, table=True):
    __tablename__ = "invoice"
    id: int | None = Field(default=None, primary_key=True)
    number: str | None = Field(default=None, max_length=40, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    period_from: date
    period_to: date
    status: str = Field(default="draft", max_length=10)  # draft | final | void
    currency: str = Field(default="EUR", max_length=3)
    subtotal: Decimal = Field(default=Decimal("0"), sa_column=Column(Cents, nullable=False))
    vat_rate: Decimal = Field(default=Decimal("0"), sa_column=Column(DecimalText, nullable=False))
    vat: Decimal = Field(default=Decimal("0"), sa_column=Column(Cents, nullable=False))
    total: Decimal = Field(default=Decimal("0"), sa_column=Column(Cents, nullable=False))
    created_at: datetime = _at()
    finalized_at: datetime | None = _at(nullable=True)
    voided_at: datetime | None = _at(nullable=True)
    void_reason: str | None = Field(default=None, max_length=500)
    actor: str = Field(default="", max_length=80)


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=40)
    description: str = Field(default="", max_length=500)
    minutes: int
    base: Decimal = Field(sa_column=Column(Cents, nullable=False))
    extra_half_hours: int = 0
    amount: Decimal = Field(sa_column=Column(Cents, nullable=False))


class InvoiceCounter(SQLModel, table=True):
    """The last number given per series; bumped in the finalising transaction."""

    __tablename__ = "invoice_counter"
    series: str = Field(primary_key=True, max_length=20)
    last: int = 0
