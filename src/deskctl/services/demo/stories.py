"""Story templates: each way a ticket ends up in its status, played once through the
lifecycle builders (``deskctl.domain.lifecycle.plan_*``) on placeholder values, then
replayed per demo ticket with its own instants and values.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from deskctl.domain import lifecycle, tallies
from deskctl.domain.events import Event
from deskctl.domain.lifecycle import TicketState
from deskctl.domain.policy import Policy
from deskctl.services.demo.catalog import DAY, HOUR, MINUTE

_T0 = datetime(2000, 1, 3, tzinfo=UTC)  # template time origin; tickets are shifted
_PARENT = 1000  # placeholder ids inside split stories
_CHILD = 1001
_CHILD_SUBST = ("severity", "topic", "impact", "urgency")
_TIME_COLUMNS = ("info_complete_at", "responded_at", "resolved_at", "closed_at")


@dataclass
class _Step:
    """One event of a story: which ticket of the story, when, and what to fill in."""

    member: int
    offset: int  # seconds since the story started
    event: Event
    role: str  # whose name goes in ``actor``: opener, manager, agent, customer, system
    slot: str | None  # per-ticket data to substitute (see ``_fill``)
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # seq, kind, from, to, note and the data as stored (None when filled in per ticket):
    # the tail of every event row, ready-made since the ticket loop reads it a million times
    fixed: tuple[Any, ...] = ()

    @property
    def seq(self) -> int:
        return self.event.seq


@dataclass
class _Member:
    """A ticket of a story: its final template state and where its columns come from."""

    state: TicketState
    first: int  # index of its first step
    last: int
    times: dict[str, int | None]  # time column -> index of the step that set it
    n_events: int
    tallies: tuple[int, ...] = ()  # domain.tallies.COLUMNS, from its story's events


@dataclass
class _Story:
    name: str
    status: str  # the first ticket's final status
    category: str | None
    weight: float
    incomplete: bool  # opens without every required field
    supplied: bool  # ... and the customer sends them later
    vendor: bool  # forwarded to a third party at some point
    steps: list[_Step]
    members: list[_Member]
    offsets: list[list[int]]  # a few timing variants: cumulative seconds per step
    # per step: (member, role, slot, fixed, step), what the ticket loop reads of it
    compiled: list[tuple[int, str, str | None, tuple[Any, ...], _Step]] = field(
        default_factory=list
    )

    def __post_init__(self) -> None:
        self.compiled = [(s.member, s.role, s.slot, s.fixed, s) for s in self.steps]
        for i, member in enumerate(self.members):
            counted = tallies.tallies(s.event.kind for s in self.steps if s.member == i)
            member.tallies = tuple(counted[c] for c in tallies.COLUMNS)

    @property
    def size(self) -> int:
        return len(self.members)


class _Script:
    """Plays a story through the builders with placeholder names and values."""

    def __init__(self, policy: Policy, version: int, required: tuple[str, ...]) -> None:
        self.policy = policy
        self.version = version
        self.required = required
        self.t = 0
        self.steps: list[_Step] = []
        self.logs: dict[int, list[Event]] = {}
        self.incomplete = False  # opened without every required field

    def state(self, member: int = 0) -> TicketState:
        return lifecycle.project(self.logs[member])

    def _now(self, gap: int) -> datetime:
        self.t += gap
        return _T0 + timedelta(seconds=self.t)

    def _add(
        self, member: int, events: Event | Sequence[Event], role: str, slot: str | None = None
    ) -> None:
        for i, event in enumerate([events] if isinstance(events, Event) else events):
            self.logs.setdefault(member, []).append(event)
            self.steps.append(_Step(member, self.t, event, role, slot if i == 0 else None))

    def _fields(self, complete: bool) -> dict[str, str]:
        names = ["product", "version", "description", *self.required]
        fields = {name: f"@{name}" for name in dict.fromkeys(names)}
        if not complete:
            fields.pop(self.required[-1])
        return fields

    # -- the moves a story is made of ------------------------------------------------

    def open(self, gap: int = 0, *, complete: bool = True) -> None:
        self.incomplete = not complete
        events = lifecycle.plan_open(
            now=self._now(gap),
            actor="@opener",
            title="@title",
            customer="@customer",
            contact="@contact",
            fields=self._fields(complete),
            required=self.required,
            data={
                "channel": "@channel",
                "policy": self.policy.name,
                "policy_version": self.version,
                "plan": "@plan",
                "calendar": "@calendar",
                "parent_id": None,
            },
        )
        self._add(0, events[0], "opener", "opened")
        self._add(0, events[1:], "opener")

    def triage(self, gap: int, category: str, member: int = 0) -> None:
        misuse = category == "misuse"
        events = lifecycle.plan_triage(
            self.state(member),
            now=self._now(gap),
            actor="@manager",
            scheme=self.policy.severities,
            category=category,
            severity=self.policy.severities.order[0],
            topic="@topic",
            kb_article="@kb" if misuse else None,
            refuse_repeat=False,
            required=self.required,
        )
        self._add(member, events[0], "manager", "triaged")
        self._add(member, events[1:], "manager", "redirected" if misuse else None)

    def assign(self, gap: int, member: int = 0) -> None:
        event = lifecycle.plan_assign(
            self.state(member),
            now=self._now(gap),
            actor="@manager",
            assignee="@agent",
            team="@team",
        )
        self._add(member, event, "manager", "assigned")

    def respond(self, gap: int, member: int = 0) -> None:
        event = lifecycle.plan_respond(
            self.state(member),
            now=self._now(gap),
            actor="@agent",
            note="first answer sent to the customer",
        )
        self._add(member, event, "agent")

    def start(self, gap: int, member: int = 0, note: str | None = None) -> None:
        event = lifecycle.plan_start(
            self.state(member),
            now=self._now(gap),
            actor="@agent",
            note=note,
            required=self.required,
        )
        self._add(member, event, "agent")

    def take_up(self, gap: int, member: int = 0) -> None:
        """First response to a queued ticket; like `ticket respond`, it starts the work."""
        self.respond(gap, member)
        self.start(0, member, note="first response")

    def work(self, gap: int, kind: str = "connection", member: int = 0) -> None:
        event = lifecycle.plan_worklog(
            self.state(member),
            30,
            now=self._now(gap),
            actor="@agent",
            kind=kind,
            note="remote session",
        )
        self._add(member, event, "agent", "worklog")

    def wait(self, gap: int, on: str, member: int = 0) -> None:
        vendor = "@vendor" if on == "third-party" else None
        note = "waiting for the vendor's fix" if vendor else "asked the customer for details"
        event = lifecycle.plan_wait(
            self.state(member), on, now=self._now(gap), actor="@agent", vendor=vendor, note=note
        )
        self._add(member, event, "agent", "vendor" if vendor else None)

    def resume(self, gap: int, member: int = 0) -> None:
        event = lifecycle.plan_resume(
            self.state(member), now=self._now(gap), actor="@agent", required=self.required
        )
        self._add(member, event, "agent")

    def supply(self, gap: int) -> None:
        """The customer sends the missing required field(s)."""
        events = lifecycle.plan_update(
            self.state(),
            {self.required[-1]: "@missing"},
            now=self._now(gap),
            actor="@customer",
            required=self.required,
        )
        self._add(0, events[0], "customer", "updated")
        self._add(0, events[1:], "customer")

    def resolve(self, gap: int, member: int = 0) -> None:
        event = lifecycle.plan_resolve(
            self.state(member),
            now=self._now(gap),
            actor="@agent",
            solution="fix applied; please verify",
        )
        self._add(member, event, "agent")

    def confirm(self, gap: int, member: int = 0) -> None:
        event = lifecycle.plan_confirm(self.state(member), now=self._now(gap), actor="@customer")
        self._add(member, event, "customer")

    def reject_solution(self, gap: int) -> None:
        event = lifecycle.plan_reject_solution(
            self.state(), now=self._now(gap), actor="@customer", note="still happens"
        )
        self._add(0, event, "customer")

    def close(
        self, gap: int, outcome: str, *, reason: str | None = None, by_protocol: bool = False
    ) -> None:
        role = "system" if by_protocol else "agent"
        event = lifecycle.plan_close(
            self.state(),
            outcome,
            now=self._now(gap),
            actor=f"@{role}",
            reason=reason,
            by_protocol=by_protocol,
        )
        self._add(0, event, role)

    def approve(self, gap: int) -> None:
        event = lifecycle.plan_approve(
            self.state(), now=self._now(gap), actor="@customer", required=self.required
        )
        self._add(0, event, "customer")

    def decline(self, gap: int) -> None:
        event = lifecycle.plan_decline(self.state(), now=self._now(gap), actor="@customer")
        self._add(0, event, "customer")

    def reopen(self, gap: int) -> None:
        event = lifecycle.plan_reopen(
            self.state(),
            now=self._now(gap),
            actor="@agent",
            window_seconds=self.policy.reopen_window,
            note="the problem came back",
        )
        self._add(0, event, "agent")

    def split(self, gap: int, parts: int) -> None:
        children = [_CHILD + i for i in range(parts)]
        self._add(
            0,
            lifecycle.plan_split(
                self.state(), children, now=self._now(gap), actor="@agent", note="several problems"
            ),
            "agent",
            "split",
        )
        parent = self.state()
        for i in range(parts):
            events = lifecycle.plan_child_open(
                parent, parent_id=_PARENT, title="@title", now=self._now(0), actor="@agent"
            )
            self._add(i + 1, events[0], "agent", "child_opened")
            self._add(i + 1, events[1:], "agent")

    def child_closed(self, gap: int, child: int) -> None:
        events = lifecycle.on_child_closed(
            self.state(), _CHILD + child - 1, self._now(gap), actor="@system"
        )
        self._add(0, events, "system", "child_closed")

    def intake(self, category: str = "defect") -> None:
        self.open()
        self.triage(30 * MINUTE, category)
        self.assign(10 * MINUTE)

    def work_through(self, member: int = 0) -> None:
        """Assign, start, work and resolve a sub-ticket, and have it confirmed."""
        self.assign(20 * MINUTE, member)
        self.take_up(2 * HOUR, member)
        self.work(3 * HOUR, member=member)
        self.resolve(2 * HOUR, member)
        self.confirm(DAY, member)


def _s_new(s: _Script) -> None:
    s.open()


def _s_new_incomplete(s: _Script) -> None:
    s.open(complete=False)


def _s_asked_details(s: _Script) -> None:
    s.open(complete=not s.required)
    s.wait(HOUR, "customer")


def _s_waiting_customer(s: _Script) -> None:
    s.intake()
    s.take_up(3 * HOUR)
    s.work(2 * HOUR)
    s.wait(HOUR, "customer")


def _s_quote_pending(s: _Script) -> None:
    s.open()
    s.triage(HOUR, "billable_service")
    s.respond(HOUR)


def _s_queued_fresh(s: _Script) -> None:
    s.open()
    s.triage(30 * MINUTE, "defect")


def _s_queued_assigned(s: _Script) -> None:
    s.intake()


def _s_info_supplied(s: _Script) -> None:
    s.open(complete=False)
    s.wait(HOUR, "customer")
    s.supply(DAY)
    s.resume(10 * MINUTE)
    s.triage(30 * MINUTE, "defect")
    s.assign(10 * MINUTE)


def _s_working(s: _Script) -> None:
    s.intake()
    s.take_up(3 * HOUR)
    s.work(2 * HOUR)


def _s_solution_rejected(s: _Script) -> None:
    _s_working(s)
    s.resolve(4 * HOUR)
    s.reject_solution(DAY)
    s.work(3 * HOUR)


def _s_back_from_vendor(s: _Script) -> None:
    s.intake()
    s.take_up(3 * HOUR)
    s.wait(2 * HOUR, "third-party")
    s.resume(2 * DAY)
    s.work(3 * HOUR)


def _s_forwarded(s: _Script) -> None:
    _s_working(s)
    s.wait(2 * HOUR, "third-party")


def _s_split_waiting(s: _Script) -> None:
    _s_working(s)
    s.split(HOUR, 2)
    s.work_through(1)
    s.child_closed(0, 1)
    s.assign(20 * MINUTE, 2)
    s.take_up(3 * HOUR, 2)


def _s_verifying(s: _Script) -> None:
    _s_working(s)
    s.resolve(4 * HOUR)


def _s_resolved(s: _Script) -> None:
    _s_verifying(s)
    s.confirm(DAY)


def _s_resolved_long(s: _Script) -> None:
    _s_working(s)
    s.work(DAY, "diagnosis")
    s.resolve(4 * HOUR)
    s.confirm(DAY)


def _s_always_supported(s: _Script) -> None:
    s.intake("always_supported")
    s.take_up(2 * HOUR)
    s.work(HOUR)
    s.resolve(HOUR)
    s.confirm(DAY)


def _s_accepted(s: _Script) -> None:
    _s_verifying(s)
    s.close(36 * HOUR, "accepted", by_protocol=True)


def _s_redirected(s: _Script) -> None:
    s.open()
    s.triage(HOUR, "misuse")


def _s_out_of_scope(s: _Script) -> None:
    s.open()
    s.triage(HOUR, "out_of_scope")


def _s_quote_declined(s: _Script) -> None:
    _s_quote_pending(s)
    s.decline(2 * DAY)


def _s_billable_done(s: _Script) -> None:
    _s_quote_pending(s)
    s.approve(DAY)
    s.assign(HOUR)
    s.start(3 * HOUR)
    s.work(HOUR, "service")
    s.work(DAY, "service")
    s.resolve(2 * HOUR)
    s.confirm(DAY)


def _s_unresolved(s: _Script) -> None:
    _s_working(s)
    s.work(DAY, "diagnosis")
    s.close(4 * HOUR, "unresolved", reason="no solution found")


def _s_not_reproducible(s: _Script) -> None:
    _s_working(s)
    s.close(DAY, "cancelled", reason="not reproducible")


def _s_duplicate(s: _Script) -> None:
    s.open()
    s.close(2 * HOUR, "cancelled", reason="duplicate")


def _s_reopened(s: _Script) -> None:
    _s_resolved(s)
    s.reopen(2 * DAY)
    s.work(2 * HOUR)
    s.resolve(3 * HOUR)
    s.confirm(DAY)


def _s_vendor_fix(s: _Script) -> None:
    _s_back_from_vendor(s)
    s.resolve(2 * HOUR)
    s.confirm(DAY)


def _s_split_done(s: _Script) -> None:
    _s_working(s)
    s.split(HOUR, 2)
    s.work_through(1)
    s.child_closed(0, 1)
    s.work_through(2)
    s.child_closed(0, 2)
    s.resolve(HOUR)
    s.confirm(DAY)


def _s_info_then_resolved(s: _Script) -> None:
    _s_info_supplied(s)
    s.take_up(2 * HOUR)
    s.work(2 * HOUR)
    s.resolve(3 * HOUR)
    s.confirm(DAY)


# name, builder, category of the first ticket, weight, needs required fields, only for
_STORIES: tuple[tuple[str, Callable[[_Script], None], str | None, float, bool, str], ...] = (
    ("new", _s_new, None, 3, False, ""),
    ("new_incomplete", _s_new_incomplete, None, 2, True, ""),
    ("asked_details", _s_asked_details, None, 3, False, ""),
    ("waiting_customer", _s_waiting_customer, "defect", 3, False, ""),
    ("quote_pending", _s_quote_pending, "billable_service", 1, False, ""),
    ("queued_fresh", _s_queued_fresh, "defect", 2, False, ""),
    ("queued_assigned", _s_queued_assigned, "defect", 3, False, ""),
    ("info_supplied", _s_info_supplied, "defect", 1, True, ""),
    ("working", _s_working, "defect", 4, False, ""),
    ("solution_rejected", _s_solution_rejected, "defect", 1, False, ""),
    ("back_from_vendor", _s_back_from_vendor, "defect", 1, False, ""),
    ("forwarded", _s_forwarded, "defect", 1, False, ""),
    ("split_waiting", _s_split_waiting, "defect", 1, False, ""),
    ("verifying", _s_verifying, "defect", 1, False, ""),
    ("resolved", _s_resolved, "defect", 40, False, ""),
    ("resolved_long", _s_resolved_long, "defect", 10, False, ""),
    ("always_supported", _s_always_supported, "always_supported", 10, False, "dms"),
    ("accepted", _s_accepted, "defect", 25, False, "imexhs"),
    ("redirected", _s_redirected, "misuse", 5, False, ""),
    ("out_of_scope", _s_out_of_scope, "out_of_scope", 4, False, ""),
    ("quote_declined", _s_quote_declined, "billable_service", 2, False, ""),
    ("billable_done", _s_billable_done, "billable_service", 4, False, ""),
    ("unresolved", _s_unresolved, "defect", 3, False, ""),
    ("unresolved_dms", _s_unresolved, "defect", 6, False, "dms"),
    ("not_reproducible", _s_not_reproducible, "defect", 1, False, ""),
    ("not_reproducible_medisoft", _s_not_reproducible, "defect", 5, False, "medisoft"),
    ("duplicate", _s_duplicate, None, 2, False, ""),
    ("reopened", _s_reopened, "defect", 3, False, ""),
    ("vendor_fix", _s_vendor_fix, "defect", 3, False, ""),
    ("split_done", _s_split_done, "defect", 2, False, ""),
    ("info_then_resolved", _s_info_then_resolved, "defect", 8, True, ""),
)


def build_stories(policy: Policy, version: int, rng: random.Random) -> list[_Story]:
    """Every story that fits this policy, played through the lifecycle builders."""
    required = tuple(f for f in policy.required_fields if f != "channel")
    stories = []
    for name, play, category, weight, needs_required, only in _STORIES:
        if (needs_required and not required) or (only and only != policy.name):
            continue
        script = _Script(policy, version, required)
        play(script)
        stories.append(_finish(name, category, weight, script, rng))
    return stories


def _finish(
    name: str, category: str | None, weight: float, script: _Script, rng: random.Random
) -> _Story:
    steps = script.steps
    for step in steps:
        step.data = dict(step.event.data)
        step.note = step.data.pop("note", None)
        static = json.dumps(step.data) if step.slot is None and step.data else None
        event = step.event
        step.fixed = (event.seq, event.kind, event.from_status, event.to_status, step.note, static)
    members = [_member(script, steps, m) for m in sorted(script.logs)]
    base = [s.offset for s in steps]
    gaps = [b - a for a, b in zip([0, *base], base, strict=False)]
    offsets = [base]
    for _ in range(3):  # a few other paces of the same story
        total, variant = 0, []
        for gap in gaps:
            total += int(gap * rng.uniform(0.4, 2.0))
            variant.append(total)
        offsets.append(variant)
    supplied = any(s.slot == "updated" for s in steps)
    vendor = any(s.slot == "vendor" for s in steps)
    return _Story(
        name,
        members[0].state.status,
        category,
        weight,
        script.incomplete,
        supplied,
        vendor,
        steps,
        members,
        offsets,
    )


def _member(script: _Script, steps: list[_Step], member: int) -> _Member:
    """Which step sets each time column: replay with every step one second apart."""
    indices = [i for i, s in enumerate(steps) if s.member == member]
    probe = [replace(steps[i].event, at=_T0 + timedelta(seconds=i)) for i in indices]
    state = lifecycle.project(probe)
    times: dict[str, int | None] = {}
    for column in _TIME_COLUMNS:
        value = getattr(state, column)
        times[column] = None if value is None else int((value - _T0).total_seconds())
    return _Member(
        lifecycle.project(script.logs[member]), indices[0], indices[-1], times, len(indices)
    )
