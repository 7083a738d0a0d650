"""Which earlier ticket a ticket comes back to (the findings report's recurrences).

Within one (customer, topic) group, a ticket comes back to the latest ticket of
the group that closed solved (``analysis.SOLVED_OUTCOMES``) in an earlier whole
second than it opened; when several closed in that second, the lowest id. The
gap is the whole seconds between that closing and the opening. A recurrence is a
ticket whose gap is at most ``--recur-days`` (``services.findings``). The link, the
gap and the gap of the first ticket that comes back to this one are stored per
ticket (migration 0016), so the report reads one row per ticket instead of running
a window over every group's history.

Instants here are whole UTC epoch seconds, as the store's SQL computes them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from deskctl.domain.analysis import SOLVED_OUTCOMES

NONE = 0  # the stored gap of a ticket that comes back to no earlier one (a gap is >= 1)


@dataclass(frozen=True)
class Member:
    """One ticket of a (customer, topic) group."""

    id: int
    opened: int
    closed: int | None
    outcome: str | None


def links(group: Iterable[Member]) -> Mapping[int, tuple[int | None, int, int]]:
    """Each member's (ticket it comes back to, gap, next): (None, ``NONE``) when it comes
    back to none; ``next`` is the gap of the first ticket that comes back to it
    (``NONE``: none does), which says whether any does within ``--recur-days``."""
    members = list(group)
    closings = sorted(
        (m.closed, m.id) for m in members if m.closed is not None and m.outcome in SOLVED_OUTCOMES
    )
    back: dict[int, tuple[int | None, int]] = {}
    first: dict[int, int] = {}
    for m in members:
        before = bisect_left(closings, (m.opened, -1))  # closings in an earlier second
        if not before:
            back[m.id] = (None, NONE)
            continue
        second = closings[before - 1][0]
        link = closings[bisect_left(closings, (second, -1))][1]  # lowest id of that second
        gap = m.opened - second
        back[m.id] = (link, gap)
        first[link] = min(first.get(link, gap), gap)
    return {i: (link, gap, first.get(i, NONE)) for i, (link, gap) in back.items()}
