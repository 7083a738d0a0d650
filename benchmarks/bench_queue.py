"""Time `ticket list --limit 50` and `queue` over a large store, as a user runs them.

    python benchmarks/bench_queue.py                  # 100,000 tickets on a fresh SQLite file
    python benchmarks/bench_queue.py --db postgresql+psycopg://user@host/db --tickets 100000

The store is built with Core bulk inserts (tickets and their opening events):
about 85 % closed, the rest spread over the open states, three severities,
twenty agents in four teams, two years of history, SLA columns filled on open
tickets. Each command then runs as its own process (``python -m deskctl``,
output piped) several times; the best and median wall times are reported, next
to the bare start-up time of the program (``deskctl --version``) and the time
the same query takes inside one process (the store's share).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

OPEN = {
    "draft": 2,
    "queued": 4,
    "in_progress": 4,
    "awaiting_customer": 2,
    "forwarded": 1,
    "awaiting_approval": 1,
    "awaiting_verification": 1,
}
CUSTOMERS = 200
AGENTS = [f"agent{i:02d}" for i in range(20)]
TEAMS = ["pacs", "ris", "infra", "billing"]
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def build(url: str, count: int, seed: int) -> None:
    from sqlalchemy import insert, select

    from deskctl.services import masterdata, policies
    from deskctl.store import db
    from deskctl.store.models import Ticket, TicketEvent

    engine = db.get_engine(url)
    db.upgrade(engine)
    with db.session(engine, write=True) as s:
        text = (ROOT / "examples" / "imexhs.toml").read_text()
        policies.load(s, text, source="imexhs.toml", actor="bench", now=NOW)
        for n in range(CUSTOMERS):
            masterdata.add_customer(
                s,
                f"cust{n:03d}",
                name=f"Customer {n}",
                country="CO",
                vat_rate=None,
                policy=None,
                now=NOW,
            )
            masterdata.add_contact(
                s,
                f"cust{n:03d}",
                f"user@cust{n:03d}.example",
                name="User",
                named=True,
                now=NOW,
                actor="bench",
            )
        version_id = s.execute(select(policies.PolicyVersion.id)).scalar_one()
    rng = random.Random(seed)
    states = [st for st, weight in OPEN.items() for _ in range(weight)]
    start = NOW - timedelta(days=730)
    for first in range(0, count, 10_000):
        tickets, events = [], []
        for i in range(first + 1, min(count, first + 10_000) + 1):
            opened = start + timedelta(seconds=rng.randrange(730 * 86400))
            status = "closed" if rng.random() < 0.85 else rng.choice(states)
            closed = status == "closed"
            customer = rng.randrange(CUSTOMERS) + 1
            tickets.append(
                {
                    "id": i,
                    "customer_id": customer,
                    "contact_id": customer,
                    "policy_version_id": version_id,
                    "plan": "8x5",
                    "calendar": "bogota-8x5",
                    "title": f"Ticket {i}",
                    "channel": "portal",
                    "status": status,
                    "outcome": "resolved" if closed else None,
                    "severity": None if status == "draft" else rng.choice("123"),
                    "category": None if status == "draft" else "defect",
                    "assignee": rng.choice(AGENTS) if status != "draft" else None,
                    "team": rng.choice(TEAMS),
                    "opened_at": opened,
                    "updated_at": opened,
                    "closed_at": opened + timedelta(days=2) if closed else None,
                    "sla_state": None if closed else rng.choice(["met", "at_risk", "breached"]),
                    "sla_due_at": None
                    if closed
                    else opened + timedelta(hours=rng.randrange(5, 72)),
                    "rev": 1,
                }
            )
            events.append(
                {
                    "ticket_id": i,
                    "seq": 1,
                    "at": opened,
                    "kind": "opened",
                    "actor": "bench",
                    "to_status": "draft",
                    "data": {"title": f"T{i}"},
                }
            )
        with engine.begin() as conn:  # Core executemany, not the ORM's bulk path
            conn.execute(insert(Ticket.__table__), tickets)
            conn.execute(insert(TicketEvent.__table__), events)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    db.dispose_all()


def run(args: list[str], env: dict[str, str], runs: int) -> tuple[float, float, float, int]:
    """(best wall, median wall, best CPU, output lines) of ``python -m deskctl ARGS``.

    CPU time (user + system of the child) is what the command costs the machine;
    on a loaded machine it is a steadier figure than the wall time.
    """
    walls, cpus, lines = [], [], 0
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "deskctl", *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        lines = len(done.stdout.splitlines())
    return min(walls), statistics.median(walls), min(cpus), lines


def in_process(url: str, runs: int) -> dict[str, float]:
    """The query alone, in a warm process: what the store contributes."""
    from deskctl.services import flow, tickets
    from deskctl.store import db

    engine = db.get_engine(url)
    out = {}
    for name, call in (
        ("ticket list --limit 50", lambda s: tickets.list_tickets(s, tickets.ListFilter(limit=50))),
        ("queue", lambda s: flow.queue(s, flow.QueueFilter())),
        ("queue --mine", lambda s: flow.queue(s, flow.QueueFilter(assignee="agent03"))),
    ):
        best = float("inf")
        for _ in range(runs):
            t0 = time.perf_counter()
            with db.session(engine) as s:
                call(s)
            best = min(best, time.perf_counter() - t0)
        out[name] = best
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--db", help="store URL (default: a new SQLite file)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the SQLite store afterwards")
    opts = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="deskctl-bench-queue-")
    try:
        measure(opts, tmp)
    finally:
        if opts.keep:
            print(f"store kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def measure(opts: argparse.Namespace, tmp: str) -> None:
    url = opts.db or f"sqlite:///{tmp}/bench.db"

    t0 = time.perf_counter()
    build(url, opts.tickets, opts.seed)
    print(
        f"built {opts.tickets:,} tickets in {time.perf_counter() - t0:.1f} s ({url.split(':')[0]})"
    )

    env = dict(
        os.environ,
        DESKCTL_DB=url,
        DESKCTL_DATA_DIR=tmp,
        DESKCTL_USER="agent03",
        DESKCTL_NOW="2026-03-02T14:00:00Z",
        PYTHONPATH=str(ROOT / "src"),
        NO_COLOR="1",
    )
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    best, median, cpu, _ = run(["--version"], env, opts.runs)
    label = "deskctl --version (start-up only)"
    print(f"{label:34} wall best {best:.3f} s  median {median:.3f} s  cpu {cpu:.3f} s")
    for args in (
        ["ticket", "list", "--limit", "50"],
        ["queue"],
        ["queue", "--mine"],
        ["queue", "--json"],
    ):
        best, median, cpu, lines = run(args, env, opts.runs)
        label = "deskctl " + " ".join(args)
        print(
            f"{label:34} wall best {best:.3f} s  median {median:.3f} s  cpu {cpu:.3f} s"
            f"  ({lines} lines)"
        )
    for name, seconds in in_process(url, opts.runs).items():
        print(f"{'  in-process: ' + name:34} best {seconds * 1000:.1f} ms")


if __name__ == "__main__":
    main()
