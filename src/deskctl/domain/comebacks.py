"""Which earlier ticket a ticket comes back to (the findings report's recurrences).

Within one (customer, topic) group, a ticket comes back to the latest ticket of
the group that closed solved (``analysis.SOLVED_OUTCOMES``) in an earlier whole
second than it opened; when several closed in that second, the lowest id. The
gap is the whole seconds between that closing and the opening. A recurrence is a
ticket whose gap is at most ``--recur-days`` (``services.findings``); the link and
the gap are stored per ticket (migration 0015) so the report reads one row per
ticket instead of running a window over every group's history.

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


def links(group: Iterable[Member]) -> Mapping[int, tuple[int | None, int]]:
    """Each member's (ticket it comes back to, gap); (None, ``NONE``) when there is none."""
    members = list(group)
    closings = sorted(
        (m.closed, m.id) for m in members if m.closed is not None and m.outcome in SOLVED_OUTCOMES
    )
    out: dict[int, tuple[int | None, int]] = {}
    for m in members:
        before = bisect_left(closings, (m.opened, -1))  # closings in an earlier second
        if not before:
            out[m.id] = (None, NONE)
            continue
        second = closings[before - 1][0]
        first = closings[bisect_left(closings, (second, -1))]  # lowest id of that second
        out[m.id] = (first[1], m.opened - second)
    return out
