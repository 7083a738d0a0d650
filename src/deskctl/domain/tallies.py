"""How many times a ticket's solution was proposed and rejected, and how many times it
was reopened, as ``report overview``'s quality rates count them (pure: no store).

Stored on the ticket row (``solutions_proposed``, ``solutions_rejected``,
``reopens``, migration 0015) by every writer of the SLA columns, so the overview
adds them up in its volume scan instead of looking up the ticket of each event:

- ``solutions_proposed``: the ticket's ``resolved`` events (a solution proposed);
- ``solutions_rejected``: its ``solution_rejected`` events;
- ``reopens``: its ``reopened`` events (a ticket is "reopened" when this is > 0).

Every event of the ticket counts, whenever it happened (the overview counts the
events of its cohort known when it runs). NULL on a row: not counted yet (a store
upgraded from 0014 before ``sla refresh --all``); the overview then counts that
ticket's events itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from deskctl.domain import events as ev

COLUMNS = ("solutions_proposed", "solutions_rejected", "reopens")
# the event kind each column counts
COLUMN_OF = {
    ev.RESOLVED: "solutions_proposed",
    ev.SOLUTION_REJECTED: "solutions_rejected",
    ev.REOPENED: "reopens",
}
KINDS = tuple(COLUMN_OF)


def tallies(kinds: Iterable[str]) -> dict[str, int]:
    """The three stored columns for a ticket whose events are of these ``kinds``."""
    return of_counts(Counter(kinds))


def of_events(events: Iterable[ev.Event]) -> dict[str, int]:
    """``tallies`` of a ticket's whole history (every writer holds it)."""
    return tallies(e.kind for e in events)


def of_counts(per_kind: Mapping[str, int]) -> dict[str, int]:
    """``tallies`` from a ticket's number of events per kind (a fill that counts them in
    SQL); kinds not given count 0."""
    out = dict.fromkeys(COLUMNS, 0)
    for kind, n in per_kind.items():
        column = COLUMN_OF.get(kind)
        if column is not None:
            out[column] += n
    return out
