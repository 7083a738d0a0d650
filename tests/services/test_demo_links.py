"""The demo's comeback links (``services.demo.links``): kept per (customer, topic) as
the tickets are made, sent between processes as arrays, and the same links the rule
gives each group (``domain.comebacks.links``)."""

from __future__ import annotations

import random

from deskctl.domain.comebacks import Member, links
from deskctl.services.demo.links import Linker, Links


def _made(rng: random.Random, first: int, count: int) -> tuple[Linker, list[tuple]]:
    """``count`` tickets from ``first`` in random groups; about one in four has no topic."""
    linker, made = Linker(first, count), []
    for ticket_id in range(first, first + count):
        if rng.random() < 0.25:
            continue
        customer, topic = rng.randrange(3), rng.choice(["backup", "login", "printing"])
        opened = rng.randrange(0, 10_000)
        closed = opened + rng.randrange(1, 3_000) if rng.random() < 0.7 else None
        outcome = rng.choice(["resolved", "accepted", "rejected", None]) if closed else None
        linker.add(customer, topic, ticket_id, opened, closed, outcome)
        made.append((customer, topic, Member(ticket_id, opened, closed, outcome)))
    return linker, made


def test_the_links_are_the_rules_for_each_group_and_tickets_without_a_topic_get_none() -> None:
    rng = random.Random(7)
    linker, made = _made(rng, 501, 400)
    expected: dict[int, tuple[int | None, int, int]] = {}
    for key in {(c, t) for c, t, _ in made}:
        expected.update(links(m for c, t, m in made if (c, t) == key))
    rows = list(Links.loads(linker.links().dumps()).rows())  # as the child sends them
    assert [r[3] for r in rows] == sorted(expected)  # in id order, only those with a topic
    assert {r[3]: r[:3] for r in rows} == expected
    assert any(r[0] is not None for r in rows) and any(r[0] is None for r in rows)
    assert len(linker.links()) == len(rows)
