"""Benchmark: one sweep over a store with many tickets awaiting verification.

The store is built with Core bulk inserts in the state a store has when the sweep
runs every few minutes: every ticket (IMEXHS policy, plan 8x5, Bogotá calendar)
entered awaiting_verification on Tuesday morning and its first step (the
contact at T+0) is done. At the sweep instant, Tuesday 12:00 Bogotá, the tickets
resolved before 09:00 have their first call (T+3h) due; the others have nothing
due yet. Figures:

- ``dry run``: the whole selection (batches on ``ix_ticket_status_id``, the
  pre-scan of every ticket, an exact look at each due one), nothing written;
- ``sweep``: the same plus one write transaction per due ticket;
- ``again``: a second sweep at the same instant, nothing left to do: the cost
  of a run over the whole store when nothing is due.

Usage::

    python benchmarks/bench_sweep.py [--tickets 100000] [--due 1000] [--db URL]

``--db`` takes an empty PostgreSQL database (``postgresql://user@host/db``);
the default is a fresh SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

BOGOTA = ZoneInfo("America/Bogota")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=BOGOTA).astimezone(UTC)
EARLY = datetime(2026, 3, 10, 8, 0, tzinfo=BOGOTA).astimezone(UTC)  # due by NOW: 08:00-09:00
LATE = datetime(2026, 3, 10, 9, 0, tzinfo=BOGOTA).astimezone(UTC)  # not yet: 09:00-12:00
ENGINEERS = [f"eng{i:02d}" for i in range(20)]
CHUNK = 5000


def build(engine: Any, tickets: int, due: int) -> None:
    from sqlalchemy import insert

    from deskctl.services import policies
    from deskctl.store import db
    from deskctl.store.models import Agent, Contact, Customer, SweepStep, Ticket, TicketEvent

    db.upgrade(engine)
    text = (ROOT / "examples" / "imexhs.toml").read_text()
    with db.session(engine, write=True) as s:
        loaded = policies.load(s, text, source="imexhs.toml", actor="bench", now=EARLY)
        s.execute(
            insert(Customer).values(
                id=1, key="clinic", name="Clinic", country="CO", created_at=EARLY
            )
        )
        s.execute(
            insert(Contact).values(
                id=1,
                customer_id=1,
                email="luis@clinic.example",
                name="Luis",
                named=True,
                created_at=EARLY,
            )
        )
        s.execute(
            insert(Agent),
            [{"login": e, "name": e, "role": "agent", "created_at": EARLY} for e in ENGINEERS],
        )
    for start in range(1, tickets + 1, CHUNK):
        ids = range(start, min(start + CHUNK, tickets + 1))
        rows, events, steps = [], [], []
        for tid in ids:
            resolved = _resolved_at(tid, tickets, due)
            rows.append(_ticket(tid, resolved, loaded.id))
            events.extend(_events(tid, resolved, loaded.version))
            steps.append(
                {
                    "key": f"protocol:{tid}:1:0",
                    "ticket_id": tid,
                    "action": "contact",
                    "due_at": resolved,
                    "done_at": resolved,
                    "data": {"round": 1},
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(Ticket.__table__), rows)
            conn.execute(insert(TicketEvent.__table__), events)
            conn.execute(insert(SweepStep.__table__), steps)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def _resolved_at(tid: int, tickets: int, due: int) -> datetime:
    """Spread evenly: ``due`` tickets in 08:00-09:00, the rest in 09:00-12:00."""
    if tid <= due:
        return EARLY + timedelta(seconds=3600 * tid // (due + 1))
    span = 3 * 3600 - 1
    return LATE + timedelta(seconds=1 + span * (tid - due) // (tickets - due + 1))


def _ticket(tid: int, resolved: datetime, policy_id: int) -> dict:
    return {
        "id": tid,
        "customer_id": 1,
        "contact_id": 1,
        "policy_version_id": policy_id,
        "plan": "8x5",
        "calendar": "bogota-8x5",
        "title": f"Ticket {tid}",
        "channel": "portal",
        "status": "awaiting_verification",
        "severity": "3",
        "category": "defect",
        "assignee": ENGINEERS[tid % len(ENGINEERS)],
        "opened_at": resolved - timedelta(days=1),
        "updated_at": resolved,
        "resolved_at": resolved,
        "rev": 4,
    }


def _events(tid: int, resolved: datetime, version: int) -> list[dict]:
    opened = resolved - timedelta(days=1)
    base = {"ticket_id": tid, "actor": "bench", "note": None}
    return [
        {
            **base,
            "seq": 1,
            "at": opened,
            "kind": "opened",
            "from_status": None,
            "to_status": "queued",
            "data": {
                "title": f"Ticket {tid}",
                "customer": "clinic",
                "contact": "luis@clinic.example",
                "plan": "8x5",
                "calendar": "bogota-8x5",
                "policy": "imexhs",
                "policy_version": version,
                "severity": "3",
                "category": "defect",
                "assignee": ENGINEERS[tid % len(ENGINEERS)],
                "fields": {},
            },
        },
        {
            **base,
            "seq": 2,
            "at": opened,
            "kind": "started",
            "from_status": "queued",
            "to_status": "in_progress",
            "data": None,
        },
        {
            **base,
            "seq": 3,
            "at": resolved,
            "kind": "resolved",
            "from_status": "in_progress",
            "to_status": "awaiting_verification",
            "data": {"solution": "patched"},
        },
        {
            **base,
            "seq": 4,
            "at": resolved,
            "kind": "protocol_step",
            "from_status": None,
            "to_status": None,
            "data": {"key": f"protocol:{tid}:1:0", "index": 0, "round": 1, "action": "contact"},
        },
    ]


def timed(label: str, work: Any) -> Any:
    """Run ``work``; print wall and CPU time (a loaded machine inflates only the first)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<8} {wall:7.2f} s wall {cpu:7.2f} s cpu", end="")
    return result, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000, help="tickets with a step due")
    parser.add_argument("--db", help="an empty PostgreSQL database URL; default: SQLite")
    args = parser.parse_args()
    os.environ.setdefault("DESKCTL_DATA_DIR", tempfile.mkdtemp(prefix="deskctl-bench-"))

    from deskctl.services import sweep
    from deskctl.store import db

    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='deskctl-bench-')) / 'b.db'}"
    engine = db.get_engine(url)
    print(
        f"store: {db.redacted(engine.url)}; {args.tickets} tickets awaiting verification, "
        f"{args.due} with a call due at {NOW.isoformat()}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    _, seconds = timed("build", lambda: build(engine, args.tickets, args.due))
    print(f"  ({args.tickets / seconds:,.0f} tickets/s with 4 events and 1 step each)")

    def run(dry: bool) -> Any:
        return sweep.run(engine, now=NOW, dry_run=dry)

    result, seconds = timed("dry run", lambda: run(True))
    print(f"  {len(result.actions)} actions listed")
    result, seconds = timed("sweep", lambda: run(False))
    done = len(result.actions)
    print(
        f"  {done} actions done, {done / seconds:,.0f} tickets/s overall, "
        f"{len(result.failures)} failures"
    )
    result, seconds = timed("again", lambda: run(False))
    print(
        f"  {len(result.actions)} actions: a full pass over {args.tickets} tickets "
        f"({args.tickets / seconds:,.0f} tickets/s)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
