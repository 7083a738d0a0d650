"""Benchmark `deskctl sla report` (and `sla refresh`) on a generated store.

    python benchmarks/bench_sla.py [--tickets 100000] [--seed 2026] [--db URL_OR_PATH]
                                   [--no-replay] [--keep]

Generates a Medisoft store (examples/medisoft.toml, 200 customers) with Core bulk
inserts: ``--tickets`` tickets opened over 2026, each with a realistic history
(opened, info complete, triaged, responded, started, sometimes a wait on the
customer, resolved, confirmed; about 10 % still open), about 7 events per ticket.
The rows are written without SLA snapshots, the way a bulk import would leave them.

Then it times, as a user runs them (a fresh ``deskctl`` process each, output to a
pipe that is drained and counted):

1. ``sla report --json`` over the year with no snapshots: every history replayed,
   in batches (skip with --no-replay: about a minute per 100k tickets);
2. ``sla refresh --all``: replays every history once and stores the snapshots;
3. ``sla report --json`` / ``--csv`` / plain / ``--breached-only --json`` reading the
   stored snapshots (the normal case: every ticket change stores its snapshot).

DESKCTL_NOW is fixed at 2026-12-31T12:00:00Z so runs are comparable.

Measured on the 2-CPU CI box (SQLite, 100,000 tickets, 710,174 events): report
from snapshots 4.3 s (--json, 19 MB) against 14.8 s replaying every history;
refresh --all 17.0 s; --breached-only 3.0 s; start-up 0.16 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

NOW = "2026-12-31T12:00:00Z"
CUSTOMERS = 200
CHUNK = 20_000
SEVERITIES = ("high", "medium", "low")


def prepare(url: str) -> dict[str, Any]:
    """Schema, the Medisoft policy, customers with a named contact and a contract each."""
    from sqlalchemy import insert, select

    from deskctl.services import policies
    from deskctl.store import db
    from deskctl.store.models import Contact, Contract, Customer, PolicyVersion

    engine = db.get_engine(url)
    db.upgrade(engine)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    text = (ROOT / "examples" / "medisoft.toml").read_text(encoding="utf-8")
    with db.session(engine, write=True) as s:
        loaded = policies.load(s, text, source="medisoft.toml", actor="bench", now=now)
        s.execute(
            insert(Customer),
            [
                {"key": f"c{i:04d}", "name": f"Customer {i}", "country": "BR", "created_at": now}
                for i in range(CUSTOMERS)
            ],
        )
        customers = dict(s.execute(select(Customer.key, Customer.id)).all())
        s.execute(
            insert(Contact),
            [
                {"customer_id": cid, "email": f"it@{key}.example", "name": "IT", "named": True,
                 "created_at": now}
                for key, cid in customers.items()
            ],
        )  # fmt: skip
        s.execute(
            insert(Contract),
            [
                {"customer_id": cid, "policy": "medisoft", "plan": "maintenance",
                 "start": now.date(), "created_at": now}
                for cid in customers.values()
            ],
        )  # fmt: skip
        contacts = dict(s.execute(select(Contact.customer_id, Contact.id)).all())
        contracts = dict(s.execute(select(Contract.customer_id, Contract.id)).all())
        version = s.get(PolicyVersion, loaded.id)
        assert version is not None
    return {
        "engine": engine,
        "policy_version_id": loaded.id,
        "customers": [(key, cid, contacts[cid], contracts[cid]) for key, cid in customers.items()],
    }


def _history(rng: random.Random, opened: datetime, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Event rows of one ticket (without ticket_id), consistent with the lifecycle."""
    rows: list[dict[str, Any]] = []
    status: str | None = None

    def add(at: datetime, kind: str, to: str | None = None, data: Any = None) -> None:
        nonlocal status
        rows.append(
            {"seq": len(rows) + 1, "at": at, "kind": kind, "actor": "bench",
             "from_status": status if to else None, "to_status": to, "note": None, "data": data}
        )  # fmt: skip
        if to:
            status = to

    add(opened, "opened", "draft", {**meta, "fields": {}})
    add(opened, "info_complete")
    at = opened + timedelta(minutes=rng.randint(1, 90))
    add(at, "triaged", "queued", {"severity": meta["severity"], "category": "defect"})
    if rng.random() < 0.04:
        return rows  # waiting for an answer
    at += timedelta(minutes=rng.randint(5, 40 * 60))  # some answered late, over nights
    add(at, "responded")
    at += timedelta(minutes=rng.randint(1, 120))
    add(at, "started", "in_progress")
    if rng.random() < 0.2:
        at += timedelta(hours=rng.randint(1, 30))
        add(at, "waiting", "awaiting_customer", {"on": "customer"})
        at += timedelta(hours=rng.randint(1, 72))
        add(at, "resumed", "in_progress")
    if rng.random() < 0.06:
        return rows  # still in work
    at += timedelta(hours=rng.randint(1, 96))
    add(at, "resolved", "awaiting_verification")
    at += timedelta(hours=rng.randint(1, 30))
    add(at, "confirmed", "closed", {"outcome": "resolved"})
    return rows


def generate(ctx: dict[str, Any], count: int, seed: int) -> int:
    from sqlalchemy import insert

    from deskctl.store import db
    from deskctl.store.models import Ticket, TicketEvent

    rng = random.Random(seed)
    year = datetime(2026, 1, 2, 10, tzinfo=UTC)
    events_total = 0
    for first in range(1, count + 1, CHUNK):
        tickets, events = [], []
        for tid in range(first, min(first + CHUNK, count + 1)):
            key, cid, contact_id, contract_id = rng.choice(ctx["customers"])
            opened = year + timedelta(seconds=rng.randrange(350 * 86400))
            severity = rng.choices(SEVERITIES, weights=(2, 5, 3))[0]
            meta = {
                "title": f"ticket {tid}", "customer": key, "contact": f"it@{key}.example",
                "plan": "maintenance", "calendar": "medisoft", "policy_version": 1,
                "severity": severity, "channel": "portal",
            }  # fmt: skip
            history = _history(rng, opened, meta)
            last = history[-1]
            closed = last["to_status"] == "closed"
            tickets.append(
                {
                    "id": tid, "customer_id": cid, "contact_id": contact_id,
                    "contract_id": contract_id, "policy_version_id": ctx["policy_version_id"],
                    "plan": "maintenance", "calendar": "medisoft", "title": meta["title"],
                    "channel": "portal", "status": next(
                        e["to_status"] for e in reversed(history) if e["to_status"]
                    ),
                    "outcome": "resolved" if closed else None, "severity": severity,
                    "category": "defect", "opened_at": opened, "updated_at": last["at"],
                    "closed_at": last["at"] if closed else None, "rev": len(history),
                }
            )  # fmt: skip
            events.extend({"ticket_id": tid, **e} for e in history)
        with db.session(ctx["engine"], write=True) as s:
            s.execute(insert(Ticket), tickets)
            s.execute(insert(TicketEvent), events)
        events_total += len(events)
    return events_total


CPU: list[float] = []  # CPU seconds (user + system) of each run, next to its wall time


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(env: dict[str, str], *args: str) -> tuple[float, bytes]:
    """Wall seconds and stdout of one deskctl process; its CPU seconds go to CPU."""
    cmd = [sys.executable, "-c", "from deskctl.cli.app import main; main()", *args]
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    CPU.append(_children_cpu() - cpu)
    if done.returncode != 0:
        raise SystemExit(f"deskctl {' '.join(args)} failed: {done.stderr.decode().strip()}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--db", help="store URL or SQLite path (default: a temporary file)")
    parser.add_argument("--no-replay", action="store_true", help="skip the no-snapshot report")
    parser.add_argument("--keep", action="store_true", help="keep the temporary store")
    opts = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="deskctl-bench-sla-"))
    url = opts.db or str(tmp / "bench.db")
    if "://" not in url:
        url = f"sqlite:///{url}"
    env = dict(os.environ, DESKCTL_DB=url, DESKCTL_NOW=NOW, DESKCTL_DATA_DIR=str(tmp / "data"),
               DESKCTL_USER="bench", PYTHONPATH=str(ROOT / "src"), NO_COLOR="1")  # fmt: skip
    period = ("--from", "2026-01-01", "--to", "2026-12-31")

    started = time.perf_counter()
    ctx = prepare(url)
    events = generate(ctx, opts.tickets, opts.seed)
    print(f"generated {opts.tickets:,} tickets, {events:,} events "
          f"in {time.perf_counter() - started:.1f} s ({url})")  # fmt: skip

    figures: list[tuple[str, float, float, str]] = []
    if not opts.no_replay:
        seconds, out = run(env, "sla", "report", *period, "--json")
        doc = json.loads(out)
        figures.append(("report --json, no snapshots (replay)", seconds, CPU[-1],
                        f"{doc['totals']['tickets']:,} tickets"))  # fmt: skip
        replayed = doc
    seconds, out = run(env, "sla", "refresh", "--all", "--json")
    figures.append(("refresh --all", seconds, CPU[-1], f"{json.loads(out)['refreshed']:,} rows"))
    seconds, out = run(env, "sla", "report", *period, "--json")
    doc = json.loads(out)
    response = doc["totals"]["metrics"]["response"]
    figures.append(("report --json (snapshots)", seconds, CPU[-1],
                    f"{doc['totals']['tickets']:,} tickets, {len(out) / 1e6:.0f} MB, "
                    f"compliance {response['compliance_pct']}%"))  # fmt: skip
    if not opts.no_replay:
        same = replayed == doc
        figures.append(("  replay and snapshots agree", 0.0, 0.0, str(same)))
    seconds, out = run(env, "sla", "report", *period, "--csv")
    figures.append(
        ("report --csv (snapshots)", seconds, CPU[-1], f"{len(out.splitlines()):,} lines")
    )
    seconds, out = run(env, "sla", "report", *period)
    figures.append(("report, plain summary (snapshots)", seconds, CPU[-1], f"{len(out):,} bytes"))
    seconds, out = run(env, "sla", "report", *period, "--breached-only", "--json")
    figures.append(("report --breached-only --json", seconds, CPU[-1],
                    f"{len(json.loads(out)['tickets']):,} tickets listed"))  # fmt: skip
    seconds, _ = run(env, "--version")
    figures.append(("(deskctl --version: start-up)", seconds, CPU[-1], ""))

    width = max(len(name) for name, _, _, _ in figures)
    print(f"{'':<{width}}     wall       cpu")
    for name, secs, cpu, note in figures:
        shown = f"{secs:7.2f} s  {cpu:7.2f} s" if secs else " " * 19
        print(f"{name:<{width}}  {shown}  {note}")
    print(f"(load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    if not opts.keep and not opts.db:
        import shutil

        from deskctl.store import db

        db.dispose_all()
        shutil.rmtree(tmp, ignore_errors=True)
    elif opts.keep:
        print(f"store kept at {url}")


if __name__ == "__main__":
    main()
