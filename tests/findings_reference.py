"""The findings rules as first written, over every ticket in Python: the oracle the
SQL evidence of ``services.findings`` is held to (``tests/store/test_findings_sql.py``).

One change from the first version: among predecessors closed in the same second,
the one come back to is the lowest id (it was the first in query order).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from typing import NamedTuple

from deskctl.domain.analysis import (
    SOLVED_OUTCOMES,
    Finding,
    Thresholds,
    ordered,
    period_key,
    periods,
    slope,
)
from deskctl.domain.numbers import percent


class TicketFacts(NamedTuple):
    """One ticket as the findings rules see it (a row of the report query)."""

    id: int
    customer: str
    contact: str | None
    product: str | None
    version: str | None
    os: str | None
    hardware: str | None
    category: str | None
    topic: str | None
    opened_at: datetime
    closed_at: datetime | None
    outcome: str | None
    reopens: int = 0


def findings(
    rows: Iterable[TicketFacts],
    start: datetime,
    end: datetime,
    thresholds: Thresholds | None = None,
) -> list[Finding]:
    """Every finding for tickets opened in [start, end).

    ``rows`` may hold earlier tickets too: they serve only as the resolved
    predecessors of the root-cause rule.
    """
    t = thresholds or Thresholds()
    t.check()
    everything = list(rows)
    cohort = [r for r in everything if start <= r.opened_at < end]
    months = [key for key, _ in periods(start.date(), (end - timedelta(seconds=1)).date(), "month")]
    found = [
        *training_needs(cohort, t),
        *updates_needed(cohort, months, t),
        *equipment_to_replace(cohort, t),
        *root_causes(everything, start, end, t),
    ]
    return ordered(found)


def training_needs(rows: Iterable[TicketFacts], t: Thresholds) -> list[Finding]:
    """Customers (or one contact) with repeated misuse tickets on a topic."""
    groups: dict[tuple[str, str], list[TicketFacts]] = defaultdict(list)
    for r in rows:
        if r.category == "misuse" and r.topic:
            groups[(r.customer, r.topic)].append(r)
    out = []
    for (customer, topic), group in groups.items():
        if len(group) < t.misuse_repeats:
            continue
        contacts = Counter(r.contact or "(unknown)" for r in group)
        who = (
            f"contact {next(iter(contacts))} of {customer}"
            if len(contacts) == 1
            else f"customer {customer}"
        )
        out.append(
            Finding(
                kind="training_need",
                subject=f"{who}, topic {topic}",
                message=(
                    f"{len(group)} misuse tickets on {topic!r} from {who}: "
                    "users need training on it (send the knowledge-base guide, plan a session)"
                ),
                evidence={
                    "customer": customer,
                    "topic": topic,
                    "misuse_tickets": len(group),
                    "contacts": dict(sorted(contacts.items())),
                    "threshold": t.misuse_repeats,
                },
                tickets=_ids(group),
            )
        )
    return out


def updates_needed(
    rows: Iterable[TicketFacts], months: Sequence[str], t: Thresholds
) -> list[Finding]:
    """Product versions whose defect tickets rise month on month, or run well above average."""
    by_product: dict[str, list[TicketFacts]] = defaultdict(list)
    for r in rows:
        if r.product and r.version:
            by_product[r.product].append(r)
    out = []
    for product, tickets in by_product.items():
        product_defects = sum(1 for r in tickets if r.category == "defect")
        versions: dict[str, list[TicketFacts]] = defaultdict(list)
        for r in tickets:
            versions[r.version or ""].append(r)
        for version, group in versions.items():
            finding = _version_finding(
                product, version, group, len(tickets), product_defects, len(versions), months, t
            )
            if finding is not None:
                out.append(finding)
    return out


def _version_finding(
    product: str,
    version: str,
    group: Sequence[TicketFacts],
    product_tickets: int,
    product_defects: int,
    version_count: int,
    months: Sequence[str],
    t: Thresholds,
) -> Finding | None:
    defects = [r for r in group if r.category == "defect"]
    if len(defects) < t.min_defects:
        return None
    monthly = Counter(period_key(r.opened_at.date(), "month") for r in defects)
    series = [monthly.get(m, 0) for m in months]
    trend = slope(series)
    share = Fraction(len(defects), len(group))
    average = Fraction(product_defects, product_tickets)
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
            f"{percent(share)} of its tickets are defects against {percent(average)} for {product}"
        )
    return Finding(
        kind="update_needed",
        subject=f"{product} {version}",
        message=f"{'; '.join(said)}: plan an update or a fix release",
        evidence={
            "product": product,
            "version": version,
            "reasons": reasons,
            "defect_tickets": len(defects),
            "tickets": len(group),
            "defect_share": round(float(share), 4),
            "product_defect_share": round(float(average), 4),
            "monthly_defects": dict(zip(months, series, strict=True)),
            "slope_per_month": round(float(trend), 4),
        },
        tickets=_ids(defects),
    )


def equipment_to_replace(rows: Iterable[TicketFacts], t: Thresholds) -> list[Finding]:
    """Hardware models and OS versions over-represented in defect tickets."""
    rows = list(rows)
    out = []
    for attribute, label in (("hardware", "hardware"), ("os", "OS")):
        recorded = [r for r in rows if getattr(r, attribute)]
        all_defects = [r for r in recorded if r.category == "defect"]
        if not all_defects:
            continue
        counts = Counter(getattr(r, attribute) for r in recorded)
        defects_by: dict[str, list[TicketFacts]] = defaultdict(list)
        for r in all_defects:
            defects_by[getattr(r, attribute)].append(r)
        for value, defects in defects_by.items():
            defect_share = Fraction(len(defects), len(all_defects))
            ticket_share = Fraction(counts[value], len(recorded))
            if len(defects) < t.min_defects or defect_share < ticket_share * Fraction(
                t.share_ratio
            ):
                continue
            out.append(
                Finding(
                    kind="equipment_replace",
                    subject=f"{label} {value}",
                    message=(
                        f"{label} {value!r} is behind {percent(defect_share)} of defect tickets "
                        f"({len(defects)} of {len(all_defects)}) but {percent(ticket_share)} of "
                        f"all tickets: check whether it needs updating or replacing"
                    ),
                    evidence={
                        "attribute": attribute,
                        "value": value,
                        "defect_tickets": len(defects),
                        "all_defect_tickets": len(all_defects),
                        "tickets": counts[value],
                        "all_tickets": len(recorded),
                        "defect_share": round(float(defect_share), 4),
                        "ticket_share": round(float(ticket_share), 4),
                        "ratio": round(float(defect_share / ticket_share), 2),
                    },
                    tickets=_ids(defects),
                )
            )
    return out


def root_causes(
    rows: Iterable[TicketFacts], start: datetime, end: datetime, t: Thresholds
) -> list[Finding]:
    """Topics that keep coming back after a solution: reopened, or asked again soon after.

    A comeback is a reopening of a ticket opened in [start, end), or a ticket
    opened in [start, end) by the same customer on the same topic within
    ``recur_days`` after an earlier ticket closed ``resolved``/``accepted``.
    """
    rows = [r for r in rows if r.topic]
    window = timedelta(days=t.recur_days)
    by_key: dict[tuple[str, str], list[TicketFacts]] = defaultdict(list)
    for r in rows:
        by_key[(r.customer, r.topic or "")].append(r)
    reopened: dict[str, list[TicketFacts]] = defaultdict(list)
    recurrences: dict[str, list[tuple[TicketFacts, TicketFacts]]] = defaultdict(list)
    for (_, topic), group in by_key.items():
        solved = _Solved(group)
        for r in group:
            if not start <= r.opened_at < end:
                continue
            if r.reopens:
                reopened[topic].append(r)
            before = solved.before(r, window)
            if before is not None:
                recurrences[topic].append((before, r))
    out = []
    for topic in sorted(set(reopened) | set(recurrences)):
        reopen_count = sum(r.reopens for r in reopened[topic])
        pairs = sorted(recurrences[topic], key=lambda pair: (pair[1].id, pair[0].id))
        comebacks = reopen_count + len(pairs)
        if comebacks < t.min_comebacks:
            continue
        involved = [*reopened[topic], *(p for pair in pairs for p in pair)]
        customers = Counter(r.customer for r in involved)
        out.append(
            Finding(
                kind="root_cause",
                subject=f"topic {topic}",
                message=(
                    f"{topic!r} keeps coming back after a solution: {reopen_count} reopening(s), "
                    f"{len(pairs)} new ticket(s) within {t.recur_days} days of a resolved one; "
                    "look for the root cause"
                ),
                evidence={
                    "topic": topic,
                    "reopens": reopen_count,
                    "reopened_tickets": sorted(r.id for r in reopened[topic]),
                    "reopened_tickets_total": len(reopened[topic]),
                    "recurrences": [{"resolved": a.id, "again": b.id} for a, b in pairs],
                    "recurrences_total": len(pairs),
                    "customers": dict(sorted(customers.items())),
                    "recur_days": t.recur_days,
                },
                tickets=_ids(involved),
            )
        )
    return out


class _Solved:
    """The tickets of a (customer, topic) group closed solved, by closing instant: the
    one a new ticket comes back to is found by bisection, not by a scan per ticket."""

    def __init__(self, group: Sequence[TicketFacts]) -> None:
        closed = [
            (p.closed_at, p.id, p)
            for p in group
            if p.outcome in SOLVED_OUTCOMES and p.closed_at is not None
        ]
        closed.sort(key=lambda c: (c[0], c[1]))
        self.entries = closed
        self.instants = [c[0] for c in closed]

    def before(self, r: TicketFacts, window: timedelta) -> TicketFacts | None:
        """The latest other ticket closed solved within ``window`` before ``r`` opened
        (among equal closing instants, the lowest id)."""
        i = bisect_left(self.instants, r.opened_at) - 1
        while i >= 0:
            closed_at = self.instants[i]
            if r.opened_at > closed_at + window:
                return None
            j = i  # the lowest id among equal closing instants
            while j > 0 and self.instants[j - 1] == closed_at:
                j -= 1
            found = next((p for _, _, p in self.entries[j : i + 1] if p.id != r.id), None)
            if found is not None:
                return found
            i = j - 1
        return None


def _ids(rows: Iterable[TicketFacts]) -> tuple[int, ...]:
    return tuple(sorted({r.id for r in rows}))
