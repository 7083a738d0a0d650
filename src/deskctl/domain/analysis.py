"""Helpdesk call analysis (seed 004): figures and the findings drawn from them.

ProgressSoft analyses its helpdesk calls to find where users need more
training and where equipment or software need updating or replacing. This
module holds the arithmetic of the reports and the rules that turn figures
into named findings, over plain row tuples, so it is tested without a store.

Decisions on points the spec leaves open:

- Percentiles are nearest-rank: the p-th percentile of n values is the
  ceil(p/100 * n)-th smallest. The median is the 50th percentile, so for an
  even count it is the lower middle value. Every figure shown is then a time
  some ticket actually took (no interpolated half-seconds).
- Report periods are UTC days; weeks are ISO weeks (Monday first, ``2026-W10``),
  months are calendar months (``2026-03``). A period only partly inside the
  report range is kept and not scaled.
- SLA compliance counts decided tickets only (``met``, ``late``, ``breached``):
  ``late`` is past the goal but inside the contractual limit (``due_at`` is the
  limit), so it complies; ``met_rate`` is the stricter share inside the goal.
  Running, paused and at-risk tickets are ``open``; a NULL or unknown state is
  ``unknown``; neither enters the rate.
- Findings (the decisions at the end of this module, on the tallies
  ``services.findings`` gathers in SQL): training needs group misuse tickets by
  customer and topic (the repeat refusal of seed 001 stops a *contact* from
  repeating a topic, so repeats show up across the contacts of one customer);
  the subject is the contact when a single contact is behind them all. Tickets
  without a topic are not grouped into training or root-cause findings. Shares
  for equipment are taken over the tickets that record the attribute. A ticket
  comes back to the latest one closed solved before it opened (among equal
  closing seconds, the lowest id). A finding lists its first ``--limit`` tickets
  (lowest ids) and says how many there are (``tickets_total``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from deskctl.domain.numbers import percent
from deskctl.errors import BadInput

PERIODS = ("week", "month")
DECIDED = ("met", "late", "breached")
OPEN_SLA = ("running", "paused", "at_risk", "pending")  # as ``sla report`` counts them
# Wall-clock age of an open ticket: (label, from days, to days or None)
BACKLOG_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("< 1 day", 0, 1),
    ("1-3 days", 1, 3),
    ("3-7 days", 3, 7),
    ("7-30 days", 7, 30),
    ("30+ days", 30, None),
)
SOLVED_OUTCOMES = ("resolved", "accepted")
FINDING_KINDS = ("training_need", "update_needed", "equipment_replace", "root_cause")


# -- figures ---------------------------------------------------------------------------


def percentile(values: Iterable[int], pct: int) -> int | None:
    """Nearest-rank percentile; None for no values."""
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in 1..100, not {pct}")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = math.ceil(pct * len(ordered) / 100)
    return ordered[rank - 1]


def median(values: Iterable[int]) -> int | None:
    return percentile(values, 50)


def rate(part: int, whole: int) -> float | None:
    """A share in 0..1 rounded to 4 places; None when there is nothing to share."""
    if whole <= 0:
        return None
    return round(part / whole, 4)


def period_key(day: date, by: str) -> str:
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if by == "month":
        return f"{day.year}-{day.month:02d}"
    raise BadInput(f"--by: {by!r} is not one of {', '.join(PERIODS)}")


def periods(first: date, last: date, by: str) -> list[tuple[str, date]]:
    """Every period (key, first day in range) from ``first`` to ``last`` inclusive, in order."""
    out: list[tuple[str, date]] = []
    day = first
    while day <= last:
        key = period_key(day, by)
        if not out or out[-1][0] != key:
            out.append((key, day))
        day = _next_period_start(day, by)
    return out


def _next_period_start(day: date, by: str) -> date:
    if by == "week":
        return day + timedelta(days=7 - day.weekday())
    if day.month == 12:
        return date(day.year + 1, 1, 1)
    return date(day.year, day.month + 1, 1)


def sla_bucket(state: str | None) -> str:
    if state in DECIDED:
        return state
    if state in OPEN_SLA:
        return "open"
    return "unknown"


@dataclass(frozen=True)
class SlaPeriod:
    period: str
    start: date
    met: int = 0
    late: int = 0
    breached: int = 0
    open: int = 0
    unknown: int = 0

    @property
    def decided(self) -> int:
        return self.met + self.late + self.breached

    @property
    def compliance(self) -> float | None:
        return rate(self.met + self.late, self.decided)

    @property
    def met_rate(self) -> float | None:
        return rate(self.met, self.decided)

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "start": self.start,
            "tickets": self.decided + self.open + self.unknown,
            "met": self.met,
            "late": self.late,
            "breached": self.breached,
            "open": self.open,
            "unknown": self.unknown,
            "decided": self.decided,
            "compliance": self.compliance,
            "met_rate": self.met_rate,
        }


def sla_trend(
    day_counts: Iterable[tuple[date, str | None, int]], first: date, last: date, by: str
) -> list[SlaPeriod]:
    """Fold (day opened, sla_state, tickets) counts into every period of the range."""
    slots = periods(first, last, by)
    tallies: dict[str, Counter[str]] = {key: Counter() for key, _ in slots}
    for day, state, n in day_counts:
        key = period_key(day, by)
        if key in tallies:
            tallies[key][sla_bucket(state)] += n
    return [
        SlaPeriod(
            period=key,
            start=start,
            met=tallies[key]["met"],
            late=tallies[key]["late"],
            breached=tallies[key]["breached"],
            open=tallies[key]["open"],
            unknown=tallies[key]["unknown"],
        )
        for key, start in slots
    ]


def overall_sla(trend: Sequence[SlaPeriod]) -> SlaPeriod:
    return SlaPeriod(
        period="all",
        start=trend[0].start if trend else date.min,
        met=sum(p.met for p in trend),
        late=sum(p.late for p in trend),
        breached=sum(p.breached for p in trend),
        open=sum(p.open for p in trend),
        unknown=sum(p.unknown for p in trend),
    )


def backlog_bucket(age: timedelta) -> str:
    """The age bucket of an open ticket (wall-clock time since it was opened)."""
    days = age.total_seconds() / 86400
    for label, low, high in BACKLOG_BUCKETS:
        if days >= low and (high is None or days < high):
            return label
    return BACKLOG_BUCKETS[0][0]  # opened after the report instant: the youngest bucket


@dataclass(frozen=True)
class TimeStats:
    tickets: int
    median: int | None
    p90: int | None


def time_stats(seconds: Iterable[int]) -> TimeStats:
    values = sorted(seconds)
    return TimeStats(len(values), median(values), percentile(values, 90))


class IntervalTable:
    """Business seconds between epoch instants, from a calendar's open intervals over a span.

    Built once per calendar from ``BusinessCalendar.open_intervals`` over the
    span of a report's tickets, it answers each ticket with two binary searches
    on integers: the figures of thousands of tickets cost next to nothing.
    Instants are whole UTC epoch seconds inside the span the table was built for.
    """

    def __init__(self, intervals: Iterable[tuple[int, int]]) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._before: list[int] = []  # business seconds before each start
        total = 0
        for start, end in sorted(intervals):
            if end <= start:
                continue
            if self._ends and start <= self._ends[-1]:  # touching or overlapping: merge
                if end > self._ends[-1]:
                    total += end - self._ends[-1]
                    self._ends[-1] = end
                continue
            self._starts.append(start)
            self._ends.append(end)
            self._before.append(total)
            total += end - start

    def elapsed(self, start: int, end: int) -> int:
        """Business seconds in [start, end); 0 when end is not after start."""
        if end <= start:
            return 0
        return self._upto(end) - self._upto(start)

    def elapsed_many(self, starts: Sequence[int], ends: Sequence[int]) -> list[int]:
        """``elapsed`` for each (start, end) pair, in one tight loop."""
        ups, upe = self._upto_many(starts), self._upto_many(ends)
        return [b - a if e > s else 0 for s, e, a, b in zip(starts, ends, ups, upe, strict=True)]

    def _upto_many(self, instants: Sequence[int]) -> list[int]:
        """``_upto`` of each instant, inlined: a call per instant costs more than the search."""
        starts, ends, before = self._starts, self._ends, self._before
        return [
            0
            if (i := bisect_right(starts, t) - 1) < 0
            else before[i] + (t if t < ends[i] else ends[i]) - starts[i]
            for t in instants
        ]

    def _upto(self, t: int) -> int:
        i = bisect_right(self._starts, t) - 1
        if i < 0:
            return 0
        return self._before[i] + min(t, self._ends[i]) - self._starts[i]


# -- findings --------------------------------------------------------------------------
#
# The store gathers each rule's evidence (GROUP BYs, ``services.findings``); the
# functions below make the decisions on those tallies. Each finding names at most
# ``limit`` tickets (and evidence lists) and says how many there are in all.


@dataclass(frozen=True)
class Thresholds:
    """The knobs of the findings rules (CLI options)."""

    misuse_repeats: int = 2  # misuse tickets on one topic from one customer
    min_defects: int = 3  # defect tickets before a version or a model is named
    share_ratio: float = 1.5  # "well above": this many times the average share
    recur_days: int = 30  # a new ticket this soon after a resolved one comes back
    min_comebacks: int = 2  # reopens + recurrences before a topic is a root cause

    def check(self) -> None:
        for name in ("misuse_repeats", "min_defects", "min_comebacks"):
            if getattr(self, name) < 1:
                raise BadInput(f"{_option(name)} must be 1 or more")
        if self.recur_days < 1:
            raise BadInput("--recur-days must be 1 or more")
        if not self.share_ratio > 1:
            raise BadInput("--share-ratio must be more than 1")


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


@dataclass(frozen=True)
class Finding:
    """A named finding; ``tickets`` may be the first of ``tickets_total`` (None: all)."""

    kind: str
    subject: str
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    tickets: tuple[int, ...] = ()
    tickets_total: int | None = None

    @property
    def total(self) -> int:
        return len(self.tickets) if self.tickets_total is None else self.tickets_total

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "message": self.message,
            "evidence": dict(self.evidence),
            "tickets": list(self.tickets),
            "tickets_total": self.total,
        }


def ordered(found: Iterable[Finding]) -> list[Finding]:
    """Kind by kind, the findings with most tickets first."""
    order = {kind: i for i, kind in enumerate(FINDING_KINDS)}
    return sorted(found, key=lambda f: (order[f.kind], -f.total, f.subject))


def report_months(start: datetime, end: datetime) -> list[str]:
    """The month keys of [start, end): the x axis of the monthly defect series."""
    return [key for key, _ in periods(start.date(), (end - timedelta(seconds=1)).date(), "month")]


def training_need(
    customer: str, topic: str, contacts: Mapping[str, int], t: Thresholds
) -> Finding | None:
    """A customer's (or one contact's) misuse tickets on a topic; ``contacts`` counts
    them per contact e-mail (``(unknown)`` without a contact)."""
    misuse = sum(contacts.values())
    if misuse < t.misuse_repeats:
        return None
    who = (
        f"contact {next(iter(contacts))} of {customer}"
        if len(contacts) == 1
        else f"customer {customer}"
    )
    return Finding(
        kind="training_need",
        subject=f"{who}, topic {topic}",
        message=(
            f"{misuse} misuse tickets on {topic!r} from {who}: "
            "users need training on it (send the knowledge-base guide, plan a session)"
        ),
        evidence={
            "customer": customer,
            "topic": topic,
            "misuse_tickets": misuse,
            "contacts": dict(sorted(contacts.items())),
            "threshold": t.misuse_repeats,
        },
        tickets_total=misuse,
    )


@dataclass(frozen=True)
class VersionTally:
    """Cohort tickets of one product version: all of them, and defects per month."""

    product: str
    version: str
    tickets: int
    monthly_defects: Mapping[str, int]

    @property
    def defects(self) -> int:
        return sum(self.monthly_defects.values())


def updates_needed(
    versions: Iterable[VersionTally], months: Sequence[str], t: Thresholds
) -> list[Finding]:
    """Product versions whose defect tickets rise month on month, or run well above average."""
    by_product: dict[str, list[VersionTally]] = defaultdict(list)
    for v in versions:
        by_product[v.product].append(v)
    out = []
    for tallies in by_product.values():
        tickets = sum(v.tickets for v in tallies)
        average = Fraction(sum(v.defects for v in tallies), tickets)
        for v in tallies:
            finding = _version_finding(v, average, len(tallies), months, t)
            if finding is not None:
                out.append(finding)
    return out


def _version_finding(
    v: VersionTally, average: Fraction, version_count: int, months: Sequence[str], t: Thresholds
) -> Finding | None:
    if v.defects < t.min_defects:
        return None
    series = [v.monthly_defects.get(m, 0) for m in months]
    trend = slope(series)
    share = Fraction(v.defects, v.tickets)
    reasons = []
    if len(series) >= 2 and trend > 0:
        reasons.append("rising")
    if version_count >= 2 and share >= average * Fraction(t.share_ratio):
        reasons.append("above_average")
    if not reasons:
        return None
    said = []
    if "rising" in reasons:
        said.append(f"defect tickets per month rising ({' → '.join(map(str, series))})")
    if "above_average" in reasons:
        said.append(
            f"{percent(share)} of its tickets are defects against {percent(average)} "
            f"for {v.product}"
        )
    return Finding(
        kind="update_needed",
        subject=f"{v.product} {v.version}",
        message=f"{'; '.join(said)}: plan an update or a fix release",
        evidence={
            "product": v.product,
            "version": v.version,
            "reasons": reasons,
            "defect_tickets": v.defects,
            "tickets": v.tickets,
            "defect_share": round(float(share), 4),
            "product_defect_share": round(float(average), 4),
            "monthly_defects": dict(zip(months, series, strict=True)),
            "slope_per_month": round(float(trend), 4),
        },
        tickets_total=v.defects,
    )


def slope(series: Sequence[int]) -> Fraction:
    """Least-squares slope of a series against 0, 1, 2...; 0 for fewer than two points."""
    n = len(series)
    if n < 2:
        return Fraction(0)
    mean_x = Fraction(n - 1, 2)
    mean_y = Fraction(sum(series), n)
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(series))
    den = sum((x - mean_x) ** 2 for x in range(n))
    return Fraction(num) / den


EQUIPMENT = (("hardware", "hardware"), ("os", "OS"))  # (ticket attribute, label)


def equipment_to_replace(
    attribute: str, label: str, tallies: Mapping[str, tuple[int, int]], t: Thresholds
) -> list[Finding]:
    """Values of a hardware/OS attribute over-represented in defect tickets; ``tallies``
    holds (tickets, defect tickets) per value, over the tickets that record it."""
    recorded = sum(n for n, _ in tallies.values())
    all_defects = sum(d for _, d in tallies.values())
    out = []
    for value, (tickets, defects) in tallies.items():
        if not defects:
            continue
        defect_share = Fraction(defects, all_defects)
        ticket_share = Fraction(tickets, recorded)
        if defects < t.min_defects or defect_share < ticket_share * Fraction(t.share_ratio):
            continue
        out.append(
            Finding(
                kind="equipment_replace",
                subject=f"{label} {value}",
                message=(
                    f"{label} {value!r} is behind {percent(defect_share)} of defect tickets "
                    f"({defects} of {all_defects}) but {percent(ticket_share)} of "
                    f"all tickets: check whether it needs updating or replacing"
                ),
                evidence={
                    "attribute": attribute,
                    "value": value,
                    "defect_tickets": defects,
                    "all_defect_tickets": all_defects,
                    "tickets": tickets,
                    "all_tickets": recorded,
                    "defect_share": round(float(defect_share), 4),
                    "ticket_share": round(float(ticket_share), 4),
                    "ratio": round(float(defect_share / ticket_share), 2),
                },
                tickets_total=defects,
            )
        )
    return out


@dataclass(frozen=True)
class Comebacks:
    """What came back on one topic (``services.findings`` gathers it).

    ``reopened`` and ``recurrences`` (resolved, again) are the first of their totals,
    by ticket id; ``customers`` counts each customer's share as the tickets named
    (a recurrence names two); ``tickets_total`` counts the distinct tickets involved.
    """

    topic: str
    reopens: int
    reopened: tuple[int, ...]
    reopened_total: int
    recurrences: tuple[tuple[int, int], ...]
    recurrences_total: int
    customers: Mapping[str, int]
    tickets_total: int


def root_cause(c: Comebacks, t: Thresholds) -> Finding | None:
    """A topic that keeps coming back after a solution: reopened, or asked again soon after.

    A comeback is a reopening of a ticket opened in the report's range, or a ticket
    opened in the range by the same customer on the same topic within
    ``recur_days`` after an earlier ticket closed ``resolved``/``accepted`` (the
    latest such; among equal closing seconds, the lowest id).
    """
    if c.reopens + c.recurrences_total < t.min_comebacks:
        return None
    return Finding(
        kind="root_cause",
        subject=f"topic {c.topic}",
        message=(
            f"{c.topic!r} keeps coming back after a solution: {c.reopens} reopening(s), "
            f"{c.recurrences_total} new ticket(s) within {t.recur_days} days of a resolved one; "
            "look for the root cause"
        ),
        evidence={
            "topic": c.topic,
            "reopens": c.reopens,
            "reopened_tickets": list(c.reopened),
            "reopened_tickets_total": c.reopened_total,
            "recurrences": [{"resolved": a, "again": b} for a, b in c.recurrences],
            "recurrences_total": c.recurrences_total,
            "customers": dict(sorted(c.customers.items())),
            "recur_days": t.recur_days,
        },
        tickets_total=c.tickets_total,
    )
