"""The demo's SLA fast path (``services.demo.sla_fast``) writes exactly what replaying
each ticket's events through ``domain.sla_facts.derive`` writes."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest


def _maker(seed: int, now: datetime, *, fast: bool, customers: int = 60) -> Any:
    from deskctl.domain.policy_file import parse_policy
    from deskctl.services.demo import POLICY_FILES, examples_dir
    from deskctl.services.demo.maker import TicketMaker, _Clock, _policy_run
    from deskctl.services.demo.master import _ID_TABLES, MasterData

    rng = random.Random(seed)
    runs = {}
    for i, name in enumerate(POLICY_FILES):
        text = (examples_dir() / f"{name}.toml").read_text(encoding="utf-8")
        runs[name] = _policy_run(name, parse_policy(text), i + 1, 1, rng)
    master = MasterData(
        rng, now, dict.fromkeys(_ID_TABLES, 1), {n: r.policy for n, r in runs.items()}
    )
    master.build(customers)
    maker = TicketMaker(rng, now, master.customers, runs, master.kb, _Clock(".000000"))
    maker.fast = fast
    return maker


def _rows(maker: Any, tickets: int) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for batch in maker.batches(tickets, 1):
        out += [("t", *r) for r in batch.tickets] + [("f", *r) for r in batch.facts]
    return out


@pytest.mark.parametrize(
    ("seed", "now"),
    [
        (1, datetime(2026, 11, 30, 12, tzinfo=UTC)),
        (7, datetime(2026, 3, 29, 1, 30, 17, tzinfo=UTC)),  # a DST weekend in Europe
    ],
)
def test_fast_facts_equal_the_replay_of_every_ticket(seed: int, now: datetime) -> None:
    fast = _maker(seed, now, fast=True)
    slow = _maker(seed, now, fast=False)
    tickets = 4000
    fast_rows, slow_rows = _rows(fast, tickets), _rows(slow, tickets)
    assert len(fast_rows) == len(slow_rows)
    for a, b in zip(fast_rows, slow_rows, strict=True):
        assert a == b
    assert sum(1 for r in fast_rows if r[0] == "f") > tickets  # facts were compared
    # the fast path did the work: one shape per story member, plan and severity
    assert len(fast.shapes) > 100
    states = {r[3] for r in fast_rows if r[0] == "f"}
    assert {"met", "late", "breached", "running", "paused", "pending"} <= states
