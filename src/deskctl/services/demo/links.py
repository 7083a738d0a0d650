"""The demo's comeback links (``domain.comebacks``), from its tickets as they are made.

A link is cross-ticket (a ticket comes back to the latest earlier solved closing of its
customer and topic, and the demo makes its tickets in no time order), so it can be
computed only once every ticket is made. Reading them back out of the store for that
(``store.comebacks.fill_on``: a sort of every row by customer and topic) took about
11 s of the 1M demo's single writer. Instead the maker keeps each topic's tickets in
compact arrays as it makes them (about 30 bytes a ticket) and computes the links when
the last one is made: in the child that makes them aside, while the writer builds the
indexes that do not hold the links (``services.demo.build_demo``).

The links travel as three arrays indexed by ticket id (``Links``): the demo's ids run
without a gap from its first ticket.
"""

from __future__ import annotations

import marshal
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from deskctl.domain.comebacks import Member, links

_NO_TOPIC = -1  # the gap of a ticket without a topic: not linked (as ``fill`` leaves it)


@dataclass(frozen=True)
class Links:
    """The links of the tickets ``first`` .. ``first + len(gap) - 1``: per ticket, the
    ticket it comes back to (0: none), the gap and the next gap (``domain.comebacks``)."""

    first: int
    link: array[int]
    gap: array[int]
    next: array[int]

    def rows(self) -> Iterator[tuple[int | None, int, int, int]]:
        """(comeback_id, gap, next, id) of each ticket with a topic, in id order."""
        first = self.first
        for pos, (link, gap, nxt) in enumerate(zip(self.link, self.gap, self.next, strict=True)):
            if gap != _NO_TOPIC:
                yield (link or None, gap, nxt, first + pos)

    def __len__(self) -> int:
        return sum(1 for gap in self.gap if gap != _NO_TOPIC)

    def dumps(self) -> bytes:
        return marshal.dumps(
            (self.first, self.link.tobytes(), self.gap.tobytes(), self.next.tobytes())
        )

    @classmethod
    def loads(cls, payload: bytes) -> Links:
        first, *columns = marshal.loads(payload)
        link, gap, nxt = (array("q", column) for column in columns)
        return cls(first, link, gap, nxt)


class Linker:
    """Each (customer, topic) group's tickets: ids, opening and closing seconds
    (-1: open), outcomes."""

    def __init__(self, first: int, count: int) -> None:
        self.first, self.count = first, count
        self.groups: dict[
            tuple[int, str], tuple[array[int], array[int], array[int], list[str | None]]
        ] = {}

    def add(
        self, customer_id: int, topic: str, ticket_id: int, opened: int, closed: int | None,
        outcome: str | None,
    ) -> None:  # fmt: skip
        group = self.groups.get((customer_id, topic))
        if group is None:
            group = self.groups[(customer_id, topic)] = (array("q"), array("q"), array("q"), [])
        ids, opens, closes, outcomes = group
        ids.append(ticket_id)
        opens.append(opened)
        closes.append(-1 if closed is None else closed)
        outcomes.append(outcome)

    def links(self) -> Links:
        link, gap, nxt = (array("q", [value]) * self.count for value in (0, _NO_TOPIC, 0))
        first = self.first
        for ids, opens, closes, outcomes in self.groups.values():
            members = (
                Member(i, o, None if c < 0 else c, out)
                for i, o, c, out in zip(ids, opens, closes, outcomes, strict=True)
            )
            for ticket_id, (to, g, n) in links(members).items():
                pos = ticket_id - first
                link[pos], gap[pos], nxt[pos] = to or 0, g, n
        return Links(first, link, gap, nxt)
