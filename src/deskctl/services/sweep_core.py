"""What every part of the sweep shares (services.sweep runs them): the action a step
reports, the per-run context (policy versions, calendars, managers), the row lock, and
the reminder row an agent reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select
from sqlmodel import Session, col

from deskctl.clock import iso_z
from deskctl.domain.policy import ClosureProtocol, Policy
from deskctl.services import policies
from deskctl.store.models import Agent, Notification, Ticket, table_of

ACTOR = "sweep"
AV = "awaiting_verification"
SUPPORT = "support"  # recipient of reminders while a ticket has no engineer
BATCH = 500


@dataclass(frozen=True)
class Action:
    ticket: int
    action: str  # contact | call | email | close | sla_at_risk | sla_breached
    at: datetime  # the scheduled instant
    key: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "ticket": self.ticket,
            "action": self.action,
            "at": iso_z(self.at),
            "key": self.key,
            "detail": self.detail,
        }

    def line(self) -> str:
        return f"{iso_z(self.at)} #{self.ticket} {self.action}: {self.detail}"


StepHook = Callable[[Action], None]


class Skip(Exception):
    """Another sweep holds or already did this ticket's step: leave the ticket."""


# -- clocks ---------------------------------------------------------------------------


class WallClock:
    """A calendar that is always open: wall-clock protocols and tickets without a plan."""

    timezone = "UTC"

    def due(self, start: datetime, seconds: int) -> datetime:
        return (start + timedelta(seconds=seconds)).astimezone(UTC)

    def elapsed(self, start: datetime, end: datetime) -> int:
        return max(0, int((end - start).total_seconds()))

    def is_open(self, at: datetime) -> bool:
        return True

    def next_open(self, at: datetime) -> datetime:
        return at.astimezone(UTC)

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        return [(start, end)] if end > start else []


class Context:
    """Per-run caches: policy versions, calendars, managers."""

    def __init__(self, engine: Engine, now: datetime, actor: str) -> None:
        self.engine = engine
        self.now = now
        self.actor = actor
        self._policies: dict[int, Policy | None] = {}
        self._managers: list[tuple[str, str | None]] | None = None
        # keyed by id(): policies are cached above for the whole run, so ids stay valid
        self._calendars: dict[tuple[int, str | None], Any] = {}
        self._orders: dict[int, list[int]] = {}

    def policy(self, session: Session, version_id: int | None) -> Policy | None:
        if version_id is None:
            return None
        if version_id not in self._policies:
            self._policies[version_id] = policies.by_version_id(session, version_id)[1]
        return self._policies[version_id]

    def calendar(self, policy: Policy, name: str | None) -> Any:
        key = (id(policy), name)
        found = self._calendars.get(key)
        if found is None:
            if not name or name not in policy.calendars:
                found = WallClock()
            else:
                from deskctl.domain.calendar import calendar_from_policy

                found = calendar_from_policy(policy, name)
            self._calendars[key] = found
        return found

    def step_order(self, protocol: ClosureProtocol) -> list[int]:
        """Step indexes in the order they fall due: (offset, index)."""
        key = id(protocol)
        if key not in self._orders:
            steps = protocol.steps
            self._orders[key] = sorted(range(len(steps)), key=lambda i: (steps[i].offset, i))
        return self._orders[key]

    def protocol_clock(self, policy: Policy, calendar_name: str | None) -> Any:
        protocol = policy.closure
        if protocol is not None and protocol.clock == "wall":
            return WallClock()
        return self.calendar(policy, calendar_name)

    def zone(self, policy: Policy, calendar_name: str | None) -> ZoneInfo:
        spec = policy.calendars.get(calendar_name or "")
        return ZoneInfo(spec.timezone if spec else "UTC")

    def managers(self, session: Session) -> list[tuple[str, str | None]]:
        if self._managers is None:
            stmt = select(col(Agent.login), col(Agent.email)).where(col(Agent.role) == "manager")
            self._managers = [
                (r.login, r.email) for r in session.execute(stmt.order_by(Agent.login))
            ]
        return self._managers


def protocol_of(policy: Policy | None) -> ClosureProtocol | None:
    if policy is None or policy.closure is None or not policy.closure.steps:
        return None
    return policy.closure


def lock(session: Session, ticket_id: int, dry_run: bool) -> None:
    """PostgreSQL: lock the ticket row or leave it to the sweep holding it."""
    if dry_run or session.get_bind().dialect.name != "postgresql":
        return
    row = session.execute(
        select(col(Ticket.id)).where(col(Ticket.id) == ticket_id).with_for_update(skip_locked=True)
    ).first()
    if row is None:
        raise Skip()


def notify_agent(
    session: Session,
    key: str,
    ticket_id: int,
    recipient: str,
    kind: str,
    message: str,
    due_at: datetime,
    now: datetime,
) -> None:
    session.execute(
        insert(table_of(Notification)).values(
            key=f"{key}:{recipient}",
            ticket_id=ticket_id,
            recipient=recipient,
            kind=kind,
            message=message,
            due_at=due_at,
            created_at=now,
        )
    )


def agent_email(session: Session, login: str | None) -> str | None:
    if not login:
        return None
    agent = session.get(Agent, login)
    return agent.email if agent is not None else None
