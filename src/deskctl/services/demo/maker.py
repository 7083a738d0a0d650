"""Demo tickets as rows: one story instance (a ticket, or a split family) at a time,
shifted to its own opening instant, with its own customer, contact and values.
"""

from __future__ import annotations

import bisect
import json
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from deskctl.domain.events import TRIAGED, Event
from deskctl.domain.policy import STATES, Policy
from deskctl.domain.sla_facts import Derived, derive
from deskctl.domain.waits import waits_epoch
from deskctl.services.demo import sla_fast
from deskctl.services.demo.catalog import (
    AGENTS,
    DAY,
    DEFECT_TOPICS,
    DESCRIPTIONS,
    HOUR,
    LOOKS,
    MANAGER,
    MINUTE,
    MISUSE_TOPICS,
    WORK_MINUTES,
    _PolicyLook,
    _words,
)
from deskctl.services.demo.links import Linker, Links
from deskctl.services.demo.master import _EPOCH_ORDINAL, _Customer, _epoch, _Window
from deskctl.services.demo.sla_fast import Shape, shape_of
from deskctl.services.demo.stories import (
    _CHILD_SUBST,
    _PARENT,
    _TIME_COLUMNS,
    _Member,
    _Step,
    _Story,
    build_stories,
)

CHUNK_EVENTS = 20_000  # events per batch written (with their tickets, work log, facts)
_ROLES = ("opener", "manager", "agent", "customer", "system")  # who an event's actor is

# Final status mix by age (days): young tickets are still being worked on.
_AGE_MIX: tuple[tuple[float, tuple[float, ...]], ...] = (
    # age below (days), then the weight of each state in STATES order: draft,
    # awaiting_approval, queued, in_progress, awaiting_customer, awaiting_subticket,
    # forwarded, awaiting_verification, closed
    (2, (30, 4, 25, 18, 8, 1, 3, 5, 6)),
    (14, (4, 4, 8, 16, 7, 3, 6, 12, 40)),
    (60, (0, 1.5, 1, 3, 1.5, 1, 3, 0.5, 88.5)),
    (float("inf"), (0, 0, 0, 0.2, 0.1, 0, 0.3, 0, 99.4)),
)
# Likelihood of opening a ticket at each local hour, 0 to 23.
_HOUR_WEIGHT = tuple(
    float(w)
    for w in _words(
        "0.03 0.02 0.02 0.02 0.02 0.04 0.1 0.35 0.9 1 1 1 "
        "0.6 0.8 1 1 0.9 0.7 0.3 0.15 0.1 0.08 0.05 0.04",
        None,
    )
)


class _Picker:
    """Weighted choice by bisection over cumulative weights (random.choices is slower)."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


@dataclass
class _PolicyRun:
    """Everything ticket generation needs to know about one policy."""

    name: str
    policy: Policy
    version_id: int
    required: tuple[str, ...]
    look: _PolicyLook
    stories: dict[str, _Picker]  # final status -> stories
    singles: dict[str, _Picker]  # the same, one-ticket stories only
    severity: _Picker
    levels: _Picker | None  # impact/urgency, when severity comes from the matrix
    channels: dict[str, _Picker]  # plan -> channels
    previous_ok: bool


def _policy_run(
    name: str, policy: Policy, version_id: int, version: int, rng: random.Random
) -> _PolicyRun:
    stories = build_stories(policy, version, rng)
    by_status: dict[str, list[_Story]] = {}
    for story in stories:
        by_status.setdefault(story.status, []).append(story)

    def picker(items: list[_Story]) -> _Picker:
        return _Picker(items, [s.weight for s in items])

    order = policy.severities.order
    shape = {2: (1, 3), 3: (1, 3.5, 5.5), 4: (0.5, 2, 4, 3.5)}.get(len(order), [1] * len(order))
    levels = None
    if policy.severities.matrix:
        names = policy.severities.levels
        levels = _Picker(names, [1, 3, 4][: len(names)])
    channels = {}
    for plan_name, plan in policy.plans.items():
        allowed = plan.channels or policy.channels
        channels[plan_name] = _Picker(allowed, [3, *([1] * (len(allowed) - 1))])
    return _PolicyRun(
        name,
        policy,
        version_id,
        tuple(f for f in policy.required_fields if f != "channel"),
        LOOKS[name],
        {k: picker(v) for k, v in by_status.items()},
        {
            k: picker([s for s in v if s.size == 1])
            for k, v in by_status.items()
            if any(s.size == 1 for s in v)
        },
        _Picker(order, shape),
        levels,
        channels,
        policy.entitlement.previous_version != "refused",
    )


class _Days(dict[int, str]):
    """Epoch day -> its date as the store writes it, made on first use."""

    def __missing__(self, day: int) -> str:
        text = self[day] = date.fromordinal(_EPOCH_ORDINAL + day).isoformat() + " "
        return text


class _Clock:
    """Epoch seconds to the store's text form: a day and a second of the day, both cached."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.days = _Days()
        self.seconds = [
            f"{h:02d}:{m:02d}:{sec:02d}{suffix}"
            for h in range(24)
            for m in range(60)
            for sec in range(60)
        ]

    def exact(self, at: datetime) -> str:
        """An instant with its microseconds (never from the demo's own whole seconds)."""
        text = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return text + ("+00" if self.suffix == "+00" else "")

    def __call__(self, t: int) -> str:
        return self.days[t // DAY] + self.seconds[t % DAY]

    def texts(self, times: Sequence[int]) -> list[str]:
        days, seconds = self.days, self.seconds
        return [days[t // DAY] + seconds[t % DAY] for t in times]

    def maybe(self, t: int | None) -> str | None:
        return None if t is None else self.days[t // DAY] + self.seconds[t % DAY]


@dataclass
class Batch:
    """Rows of about CHUNK_EVENTS events. The tickets and facts are made with the batch;
    the events and work log are spelled out from ``recipes`` by ``TicketMaker.spell``
    (in the writing process when the batch is made aside: that balances the two)."""

    tickets: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    worklog: list[tuple[Any, ...]] = field(default_factory=list)
    facts: list[tuple[Any, ...]] = field(default_factory=list)
    # per story instance, in order: (story number, its instants as text, the work-log
    # minutes, the context of ``_context``): all its events and work log need
    recipes: list[tuple[Any, ...]] = field(default_factory=list)
    n_events: int = 0  # events of the batch, spelled out or not

    def fields(self) -> tuple[Any, ...]:
        """The batch as plain values (``marshal`` sends them between processes)."""
        return (self.tickets, self.events, self.worklog, self.facts, self.recipes, self.n_events)


class TicketMaker:
    """Turns stories into rows: one story instance (a ticket, or a split family) at a time."""

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        customers: list[_Customer],
        runs: Mapping[str, _PolicyRun],
        kb: Mapping[str, str],
        clock: _Clock,
    ) -> None:
        self.rng = rng
        self.now = _epoch(now)
        self.now_at = now
        self.now_text = clock(self.now)
        self.moments: dict[int, datetime] = {}
        self.customers = _Picker(
            [c for c in customers if c.windows], [c.weight for c in customers if c.windows]
        )
        self.runs = runs
        self.kb = kb
        self.ts = clock
        self.age_mix = [(limit, _Picker(STATES, weights)) for limit, weights in _AGE_MIX]
        self.agents: dict[str, list[str]] = {}
        for login, _, role, team in AGENTS:
            if role == "agent":
                self.agents.setdefault(team, []).append(login)
        self.redirected: set[tuple[int, str]] = set()
        self.linker = Linker(0, 0)  # the tickets' links, as ``batches`` makes them
        self.json_cache: dict[Any, str] = {}
        self.fast = True  # SLA facts from each story's shape (sla_fast); False: derive
        self.shapes: dict[tuple[Any, ...], Shape] = {}
        # every story by number: a recipe names its story by number (any process that
        # forked from this one, or built the same runs, has the same numbering)
        self.stories: list[_Story] = []
        self.story_no: dict[int, int] = {}
        for r in runs.values():
            for pickers in (r.stories, r.singles):
                for p in pickers.values():
                    for st in p.items:
                        if id(st) not in self.story_no:
                            self.story_no[id(st)] = len(self.stories)
                            self.stories.append(st)
        self.n_worklog = [sum(step[2] == "worklog" for step in st.compiled) for st in self.stories]

    def batches(self, count: int, first_id: int) -> Iterator[Batch]:
        """Rows for ``count`` tickets, in batches of about CHUNK_EVENTS events."""
        made, next_id = 0, first_id
        self.linker = Linker(first_id, count)
        batch = Batch()
        while made < count:
            size = self.story_into(batch, next_id, count - made)
            made += size
            next_id += size
            if batch.n_events >= CHUNK_EVENTS:
                yield batch
                batch = Batch()
        if batch.tickets:
            yield batch

    def links(self) -> Links:
        """The comeback links of every ticket ``batches`` made (once it is exhausted)."""
        return self.linker.links()

    def _opened_at(self, customer: _Customer, look: _PolicyLook) -> tuple[int, _Window]:
        rng = self.rng
        windows = customer.windows
        window = windows[0]
        if len(windows) > 1:
            window = _Picker(windows, [w.end - w.start for w in windows])(rng)
        span = window.end - window.start
        offset = look.tz_hours * HOUR
        t = window.start
        for _ in range(12):  # mostly on working days and hours, local time
            t = window.start + int(rng.random() * span)
            local = t + offset
            weekday = (local // DAY + 3) % 7  # 1970-01-01 was a Thursday
            odds = _HOUR_WEIGHT[(local % DAY) // HOUR]
            if weekday in look.weekend:
                odds *= 0.12
            if rng.random() < odds:
                break
        return t, window

    def story_into(self, batch: Batch, first_id: int, room: int) -> int:
        rng = self.rng
        customer: _Customer = self.customers(rng)
        run = self.runs[customer.policy]
        opened, window = self._opened_at(customer, run.look)
        age_days = (self.now - opened) / DAY
        mix = next(p for limit, p in self.age_mix if age_days < limit)
        status = mix(rng)
        story: _Story = run.stories[status](rng)
        if story.size > room:
            story = run.singles.get(status, run.singles["in_progress"])(rng)
        offsets = story.offsets[int(rng.random() * len(story.offsets))]
        total = offsets[-1]
        scale = 0.5 + rng.random()
        room_s = self.now - opened - MINUTE
        if total * scale > room_s:
            scale = max(room_s, 0) / total
        times = [opened + int(o * scale) for o in offsets]
        ids = [first_id + i for i in range(story.size)]
        ctx = self._context(run, customer, window, story, opened, ids)
        ats = self.ts.texts(times)
        no = self.story_no[id(story)]
        rnd, n = self.rng.random, len(WORK_MINUTES)  # drawn in the order spell reads them
        minutes = [WORK_MINUTES[int(rnd() * n)] for _ in range(self.n_worklog[no])]
        batch.recipes.append((no, ats, minutes, ctx))
        batch.n_events += len(story.compiled)
        self._emit(batch, story, times, ats, ctx, customer, window, run)
        return story.size

    def _context(
        self,
        run: _PolicyRun,
        customer: _Customer,
        window: _Window,
        story: _Story,
        opened: int,
        ids: list[int],
    ) -> dict[str, Any]:
        rnd = self.rng.random

        def pick(items: Sequence[Any]) -> Any:
            return items[int(rnd() * len(items))]

        contact_id, email = pick(customer.contacts)
        plan = run.policy.plans[window.plan]
        channel = run.channels[window.plan](self.rng)
        agent = pick(self.agents[customer.team])
        live = [p for p in customer.products if p[2] is None or p[2] > opened]
        product, current, _ = pick(live)
        version = current
        if run.previous_ok and rnd() < 0.15:
            major, _, minor = current.partition(".")
            version = f"{major}.{max(int(minor or 0) - 1, 0)}"
        look = run.look
        full: dict[str, str] = {
            "product": product,
            "version": version,
            "description": pick(DESCRIPTIONS),
        }
        for name, values in look.fields.items():
            if name in run.required or rnd() < 0.4:
                full[name] = pick(values)
        opened_fields, update = full, {}
        if story.incomplete:
            missing = (run.required[-1], pick(run.required))
            opened_fields = {k: v for k, v in full.items() if k not in missing}
            update = {k: v for k, v in full.items() if k in missing}
        severity, impact, urgency = self._severity(run)
        topic = self._topic(run, story.category, contact_id)
        kb = None
        if story.category == "misuse":
            kb = self.kb.get(topic or "") or self.kb[pick(MISUSE_TOPICS)]
        return {
            "customer": customer.key,
            "team": customer.team,
            "contact_id": contact_id,
            "email": email,
            "channel": channel,
            "plan": plan.name,
            "calendar": plan.calendar,
            "billing": plan.billing,
            "agent": agent,
            "title": pick(look.titles),
            "fields": opened_fields,
            "update": update,
            "full": full,
            "severity": severity,
            "impact": impact,
            "urgency": urgency,
            "topic": topic,
            "kb": kb,
            "vendor": pick(look.vendors) if story.vendor else None,
            "ids": ids,
            # the actor of each role, in _ROLES order
            "actors": (agent if channel == "phone" else email, MANAGER, agent, email, "deskctl"),
        }

    def _severity(self, run: _PolicyRun) -> tuple[str, str | None, str | None]:
        if run.levels is None:
            return run.severity(self.rng), None, None
        impact, urgency = run.levels(self.rng), run.levels(self.rng)
        return run.policy.severities.matrix[(impact, urgency)], impact, urgency

    def _topic(self, run: _PolicyRun, category: str | None, contact_id: int) -> str | None:
        rng = self.rng
        scope = run.policy.scope
        if category == "misuse":
            return self._misuse_topic(run, contact_id)
        pool: tuple[str, ...] = {
            "always_supported": scope.always_supported,
            "out_of_scope": scope.out_of_scope,
            "billable_service": scope.billable_services,
        }.get(category or "", DEFECT_TOPICS)
        if not pool or (category == "defect" and rng.random() < 0.3):
            return None
        return pool[rng.randrange(len(pool))]

    def _misuse_topic(self, run: _PolicyRun, contact_id: int) -> str | None:
        """Where the policy refuses a repeat, each contact is redirected once per topic."""
        rng = self.rng
        topic = MISUSE_TOPICS[rng.randrange(len(MISUSE_TOPICS))]
        if not run.policy.scope.misuse_refuse_repeat:
            return topic
        for _ in range(4):
            if (contact_id, topic) not in self.redirected:
                self.redirected.add((contact_id, topic))
                return topic
            topic = MISUSE_TOPICS[rng.randrange(len(MISUSE_TOPICS))]
        return None

    def spell(self, batch: Batch) -> None:
        """The events and work log of the batch's recipes, in order (no random draws)."""
        stories, add_event, add_work = self.stories, batch.events.append, batch.worklog.append
        cached, fill = self._cached, self._fill
        for no, ats, minutes, ctx in batch.recipes:
            roles, ids = dict(zip(_ROLES, ctx["actors"], strict=True)), ctx["ids"]
            spent_of = iter(minutes)
            for (who, role, slot, f, step), at in zip(stories[no].compiled, ats, strict=True):
                ticket_id = ids[who]
                actor = roles[role]
                if slot is None:  # most events: only who and when change
                    add_event((ticket_id, f[0], at, f[1], actor, f[2], f[3], f[4], f[5]))
                    continue
                if slot == "worklog":
                    spent = next(spent_of)
                    kind = step.data.get("kind") or "connection"
                    data = cached(("worklog", spent, kind), step.data, {"minutes": spent})
                    add_work((ticket_id, step.seq, at, spent, kind, step.note, actor))
                else:
                    data = fill(step, ctx)
                add_event((ticket_id, f[0], at, f[1], actor, f[2], f[3], f[4], data))
        batch.recipes = []

    def _emit(
        self,
        batch: Batch,
        story: _Story,
        times: list[int],
        ats: list[str],
        ctx: dict[str, Any],
        customer: _Customer,
        window: _Window,
        run: _PolicyRun,
    ) -> None:
        """The story's ticket rows and SLA facts (its events wait in the recipe)."""
        for m, member in enumerate(story.members):
            columns, facts = self._sla(story, m, times, ctx, run)
            batch.tickets.append(
                self._ticket_row(member, m, story, ats, ctx, customer, window, run, columns, times)
            )
            if ctx["topic"] and member.state.topic is not None:  # the row's topic column
                closed = member.times["closed_at"]
                self.linker.add(
                    customer.id, ctx["topic"], ctx["ids"][m], times[member.first],
                    None if closed is None else times[closed], member.state.outcome,
                )  # fmt: skip
            self._facts(
                batch,
                columns[3],
                facts,
                ctx["ids"][m],
                ats[member.first],
                customer,
                run,
                ctx,
                member,
            )

    def _moment(self, t: int) -> datetime:
        at = self.moments.get(t)
        if at is None:
            if len(self.moments) > 200_000:
                self.moments.clear()
            at = self.moments[t] = datetime.fromtimestamp(t, UTC)
        return at

    def _sla(
        self, story: _Story, m: int, times: list[int], ctx: dict[str, Any], run: _PolicyRun
    ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        """The ticket's SLA columns and facts at the demo's now, from its own events, in
        the store's text form: (the row's SLA columns, each fact's computed columns)."""
        if self.fast:
            key = (id(story), m, ctx["plan"], ctx["calendar"], ctx["severity"])
            shape = self.shapes.get(key)
            if shape is None:
                events = self._events(story, m, None, ctx)
                order = [i for i, step in enumerate(story.steps) if step.member == m]
                shape = self.shapes[key] = shape_of(run.policy, events, order, ctx["calendar"])
            if shape.in_order and times[-1] <= self.now:
                return self._fast_sla(shape, times)
        derived = derive(run.policy, self._events(story, m, times, ctx), self.now_at)
        text = self._text
        facts = [
            (
                f.metric,
                f.state,
                f.running,
                text(f.goal_at),
                text(f.due_at),
                text(f.risk_at),
                text(f.stopped_at),
                f.elapsed_seconds,
                f.paused_seconds,
            )
            for f in derived.facts
        ]
        return self._sla_columns(derived), facts

    def _fast_sla(
        self, shape: Shape, times: list[int]
    ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        (state, due, settled, risk, goal, limit), rows = sla_fast.facts(shape, times, self.now)
        ts = self.ts.maybe
        columns = (state, ts(due), self.now_text, None, settled, ts(risk), ts(goal), ts(limit))
        facts = [
            (metric, st, running, ts(g), ts(d), ts(r), ts(stop), elapsed, paused)
            for metric, st, running, g, d, r, stop, elapsed, paused in rows
        ]
        return columns, facts

    def _events(
        self, story: _Story, m: int, times: list[int] | None, ctx: dict[str, Any]
    ) -> list[Event]:
        """The member's events as the SLA engine reads them (template instants without
        ``times``): the opening's plan and calendar, the triage's severity."""
        events = []
        for i, step in enumerate(story.steps):
            if step.member != m:
                continue
            e = step.event
            data: dict[str, Any] = e.data
            if step.slot in ("opened", "child_opened"):
                data = {"plan": ctx["plan"], "calendar": ctx["calendar"]}
            elif e.kind == TRIAGED:
                data = {"severity": ctx["severity"]}
            at = e.at if times is None else self._moment(times[i])
            events.append(Event(e.seq, at, e.kind, "", e.from_status, e.to_status, data))
        return events

    def _text(self, at: datetime | None) -> str | None:
        """An instant in the store's text form (the engine's are whole seconds)."""
        if at is None:
            return None
        if at.microsecond:
            return self.ts.exact(at)
        return self.ts(int(at.timestamp()))

    def _sla_columns(self, sla: Derived) -> tuple[Any, ...]:
        """The ticket row's SLA columns, in the table's order (sla_state ... sla_limit_at)."""
        c, text = sla.columns, self._text
        return (
            c["sla_state"],
            text(c["sla_due_at"]),
            self.now_text,
            text(c["sla_stale_at"]),
            c["sla_settled"],
            text(c["sla_risk_at"]),
            text(c["sla_goal_at"]),
            text(c["sla_limit_at"]),
        )

    def _facts(
        self,
        batch: Batch,
        stale: str | None,
        facts: list[tuple[Any, ...]],
        ticket_id: int,
        opened: str,
        customer: _Customer,
        run: _PolicyRun,
        ctx: dict[str, Any],
        member: _Member,
    ) -> None:
        severity = ctx["severity"] if member.state.severity is not None else None
        tail = (self.now_text, stale, opened, customer.id, severity, run.version_id)
        add = batch.facts.append
        for f in facts:
            add((ticket_id, *f, *tail))

    def _cached(
        self, key: tuple[Any, ...], data: Mapping[str, Any], values: Mapping[str, Any]
    ) -> str:
        text = self.json_cache.get(key)
        if text is None:
            text = self.json_cache[key] = json.dumps({**data, **values})
        return text

    def _fill(self, step: _Step, ctx: dict[str, Any]) -> str:
        """The event's data with this ticket's values in place of the placeholders."""
        slot = step.slot
        data = step.data
        if slot == "opened":
            data = {
                **data,
                "title": ctx["title"],
                "customer": ctx["customer"],
                "contact": ctx["email"],
                "fields": ctx["fields"],
                "channel": ctx["channel"],
                "plan": ctx["plan"],
                "calendar": ctx["calendar"],
            }
            return json.dumps(data)
        if slot == "child_opened":
            data = {
                **data,
                "title": f"{ctx['title']} (part {step.member})",
                "customer": ctx["customer"],
                "contact": ctx["email"],
                "fields": ctx["full"],
                "plan": ctx["plan"],
                "calendar": ctx["calendar"],
                "parent_id": ctx["ids"][0],
            }
            for key in _CHILD_SUBST:
                if ctx[key] is None:
                    data.pop(key, None)
                else:
                    data[key] = ctx[key]
            return json.dumps(data)
        if slot == "updated":
            return json.dumps({**data, "fields": ctx["update"]})
        if slot == "split":
            return json.dumps({**data, "children": ctx["ids"][1:]})
        if slot == "child_closed":
            return json.dumps({**data, "child": ctx["ids"][data["child"] - _PARENT]})
        if slot == "triaged":
            triage = tuple(ctx[k] for k in _CHILD_SUBST)
            values = dict(zip(_CHILD_SUBST, triage, strict=True))
            return self._cached((slot, data["category"], *triage), data, values)
        if slot == "assigned":
            return self._cached(
                (slot, ctx["agent"], ctx["team"]),
                data,
                {"assignee": ctx["agent"], "team": ctx["team"]},
            )
        if slot == "vendor":
            return self._cached((slot, ctx["vendor"]), data, {"vendor": ctx["vendor"]})
        if slot == "redirected":
            return self._cached((slot, ctx["kb"]), data, {"kb_article": ctx["kb"]})
        raise ValueError(f"unknown story slot {slot!r}")

    @staticmethod
    def _waits(
        member: _Member, times: list[int], ctx: dict[str, Any], run: _PolicyRun
    ) -> tuple[int | None, int | None]:
        """The business seconds the overview reads (``domain.waits``), from the epochs."""
        col = member.times

        def at(name: str) -> int | None:
            i = col[name]
            return None if i is None else times[i]

        instants = (
            times[member.first],
            at("info_complete_at"),
            at("responded_at"),
            at("resolved_at"),
            at("closed_at"),
        )
        return waits_epoch(run.policy, ctx["calendar"], instants, member.state.outcome)

    def _ticket_row(
        self,
        member: _Member,
        m: int,
        story: _Story,
        ats: list[str],
        ctx: dict[str, Any],
        customer: _Customer,
        window: _Window,
        run: _PolicyRun,
        sla_columns: tuple[Any, ...],
        times: list[int],
    ) -> tuple[Any, ...]:
        state = member.state
        if m == 0:
            fields = {**ctx["fields"], **ctx["update"]} if story.supplied else ctx["fields"]
            title = ctx["title"]
        else:
            fields, title = ctx["full"], f"{ctx['title']} (part {m})"
        col = member.times
        at = {
            name: None if col[name] is None else ats[col[name]]  # type: ignore[index]
            for name in _TIME_COLUMNS
        }
        triaged = state.severity is not None
        assigned = state.assignee is not None
        return (
            ctx["ids"][m],
            customer.id,
            ctx["contact_id"],
            window.contract_id,
            run.version_id,
            ctx["ids"][0] if m else None,
            ctx["plan"],
            ctx["calendar"],
            title,
            ctx["channel"],
            fields.get("product"),
            fields.get("version"),
            fields.get("os"),
            fields.get("server"),
            fields.get("hardware"),
            fields.get("task"),
            fields.get("error"),
            fields.get("description"),
            state.status,
            state.outcome,
            ctx["severity"] if triaged else None,
            state.category,
            ctx["topic"] if state.topic is not None else None,
            ctx["agent"] if assigned else None,
            customer.team if assigned else None,
            ctx["billing"],
            ats[member.first],
            ats[member.last],
            at["info_complete_at"],
            at["responded_at"],
            at["resolved_at"],
            at["closed_at"],
            *sla_columns,
            member.n_events,
            *self._waits(member, times, ctx, run),
            *member.tallies,
        )
