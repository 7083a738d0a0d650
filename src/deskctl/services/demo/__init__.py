"""A realistic demo store: the five example policies, master data and N tickets.

Speed is the point (docs/rules.md §10: "fast even at 1M"), so tickets are not opened
one by one through the ticket service. Instead, for each policy a small set of
*stories* (one per way a ticket ends up in its status: resolved, redirected to
the knowledge base, waiting on a vendor, split into sub-tickets...) is played
once through the real lifecycle builders (``deskctl.domain.lifecycle.plan_*``)
on placeholder values. Every demo ticket is one of those stories, shifted to
its own opening instant, stretched or compressed to end before now, and with
its own customer, contact, severity, assignee and fields substituted into the
event data. Replaying any ticket's events with ``lifecycle.project`` gives
exactly the row the demo writes; ``tests/cli/test_demo.py`` checks that for
every ticket.

The package: ``catalog`` (invented names and looks), ``stories`` (the templates),
``master`` (master data rows), ``maker`` (ticket, event and work-log rows), ``sla_fast``
(each ticket's SLA facts from its story's shape instead of a full replay), ``aside``
(large demos: the tickets and facts made in a forked child while this process
spells out their events from the child's recipes and writes them), ``links`` (the
comeback links, from the tickets as they are made),
``bulk`` (writing them around SQLAlchemy's per-row type processing, all tickets in
one transaction), and here the whole run.

Decisions:

- The demo writes only into a store without tickets, customers, products or
  knowledge-base articles (Refused otherwise): it never mixes invented
  customers into real data. There is no ``--force``; point ``DESKCTL_DB`` at a
  new file instead.
- Times are whole seconds, relative to ``clock.now()``: tickets open over the
  last 365 days, mostly on the local working days and hours of the policy's
  calendar; the younger a ticket, the likelier it is still open.
- Every ticket's SLA columns and facts (``sla_fact``), closed ones included, are
  computed from its own events as the ticket is made (``domain.sla_facts.derive``, as
  every change does), so reports need no refresh after a demo.
- The same seed, ticket count and ``now`` give the same store, row for row, whether
  the tickets are made in this process or aside (the child runs the same generator;
  nothing depends on the CPU count).
- All tickets are written in one transaction: a demo that fails or is killed while
  writing them leaves none (the policies and master data, written first, stay; the
  CLI's own demo.db is built in a new file and only renamed into place when whole).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deskctl.domain.policy import STATES
from deskctl.errors import NotFound
from deskctl.services.demo.aside import MadeAside, without_gc
from deskctl.services.demo.bulk import (
    _after_load,
    _first_ids,
    _insert_master,
    _write_batch,
    check_empty,
    loading,
    release,
)
from deskctl.services.demo.maker import TicketMaker, _Clock, _policy_run
from deskctl.services.demo.master import MasterData

POLICY_FILES = ("medisoft", "imexhs", "dms", "opmon", "progresssoft")
# From this size the tickets are made in a child process while this one writes them.
ASIDE_TICKETS = 20_000


def examples_dir() -> Path:
    """The example policies shipped inside the package."""
    from importlib.resources import files

    return Path(str(files("deskctl") / "examples"))


def read_examples() -> dict[str, str]:
    folder = examples_dir()
    missing = [f"{n}.toml" for n in POLICY_FILES if not (folder / f"{n}.toml").is_file()]
    if missing:
        raise NotFound(
            f"demo needs the example policies in {folder}; missing: {', '.join(missing)}"
        )
    return {n: (folder / f"{n}.toml").read_text(encoding="utf-8") for n in POLICY_FILES}


@dataclass(frozen=True)
class DemoResult:
    tickets: int
    events: int
    worklog: int
    first_ticket: int
    last_ticket: int


def build_demo(engine: Any, *, tickets: int, seed: int, now: datetime, actor: str) -> DemoResult:
    """Create the schema if needed and fill an empty store with a demo (see module doc)."""
    from deskctl.services import policies
    from deskctl.store import comebacks, db

    texts = read_examples()
    if db.current_revision(engine) is not None:  # refuse before upgrading someone's store
        with db.session(engine) as s:
            check_empty(s)
    db.upgrade(engine)
    now = now.astimezone(UTC).replace(microsecond=0)
    rng = random.Random(seed)
    with db.session(engine, write=True, act_as=True) as s:  # history in the team's names
        check_empty(s)
        runs = {}
        for name, text in texts.items():
            loaded = policies.load(
                s, text, source=str(examples_dir() / f"{name}.toml"), actor=actor, now=now
            )
            row, policy = policies.latest(s, name)
            runs[name] = _policy_run(name, policy, loaded.id, row.version, rng)
        n_customers = max(15, min(300, tickets // 150))
        master = MasterData(rng, now, _first_ids(s), {n: r.policy for n, r in runs.items()})
        _insert_master(s, master.build(n_customers))
    suffix = "+00" if engine.dialect.name == "postgresql" else ".000000"
    maker = TicketMaker(rng, now, master.customers, runs, master.kb, _Clock(suffix))
    first = master.next_id["ticket"]
    n_events = n_work = 0
    batches = maker.batches(tickets, first)
    aside = None
    with without_gc():
        if tickets >= ASIDE_TICKETS:
            release(engine)  # the child gets no connection of the parent's
            aside = MadeAside(batches, maker.links)
        try:
            with loading(engine, tickets) as load:
                for batch in aside or batches:
                    maker.spell(batch)
                    _write_batch(load, batch)
                    n_events += len(batch.events)
                    n_work += len(batch.worklog)
                # while the child computes the links (cross-ticket: once every ticket
                # is made), the indexes that do not hold them. Not on PostgreSQL: there
                # an UPDATE writes a new row version, and an entry for it into every
                # index of the table (COPY leaves no room on a page for a HOT update)
                if load.dialect == "sqlite":
                    load.build_indexes(but=comebacks.INDEXES)
                links = aside.links() if aside is not None else maker.links()
                comebacks.store_on(
                    comebacks.Dbapi(load.dialect, load.dbapi), links.rows(), len(links)
                )
        finally:
            if aside is not None:
                aside.close()
    _after_load(engine)
    return DemoResult(tickets, n_events, n_work, first, first + tickets - 1)


def _lifecycle_order(item: tuple[str, int]) -> int:
    return STATES.index(item[0]) if item[0] in STATES else len(STATES)


def summary(session: Any) -> dict[str, Any]:
    """Counts of what the store holds, for the demo's report."""
    from sqlalchemy import func, select

    from deskctl.store.models import (
        Agent,
        Contact,
        Contract,
        Customer,
        KbArticle,
        PolicyVersion,
        Product,
        Ticket,
        TicketEvent,
        WorkLog,
    )

    def count(model: Any) -> int:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())

    def by(column: Any) -> dict[str, int]:
        stmt = select(column, func.count()).group_by(column).order_by(column)
        return {str(k): int(n) for k, n in session.execute(stmt) if k is not None}

    return {
        "counts": {
            "policies": count(PolicyVersion),
            "agents": count(Agent),
            "customers": count(Customer),
            "contacts": count(Contact),
            "products": count(Product),
            "contracts": count(Contract),
            "kb_articles": count(KbArticle),
            "tickets": count(Ticket),
            "events": count(TicketEvent),
            "worklog": count(WorkLog),
        },
        "by_status": dict(sorted(by(Ticket.status).items(), key=_lifecycle_order)),
        "by_outcome": by(Ticket.outcome),
        "by_severity": by(Ticket.severity),
        "by_category": by(Ticket.category),
        "by_channel": by(Ticket.channel),
    }
