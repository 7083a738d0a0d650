"""Billing benchmark: a year of generated work logs, billed with `bill --all` and finalised.

    /work/venv/bin/python benchmarks/bench_billing.py                 # SQLite, 50 x 20k
    /work/venv/bin/python benchmarks/bench_billing.py --postgres      # a throwaway cluster
    /work/venv/bin/python benchmarks/bench_billing.py --db URL --customers 50 --tickets 20000
    /work/venv/bin/python benchmarks/bench_billing.py --monthly       # twelve finalisations

The store is filled with Core bulk inserts (the DMS policy, customers, contracts,
tickets and their work-log rows; no ticket events, which billing never reads).
Every timed step is the real command line in a fresh process, start-up included.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

YEAR = 2025
NOW = "2026-01-05T09:00:00Z"


def build(url: str, customers: int, tickets: int, seed: int) -> dict[str, int]:
    """Fill an empty store; returns how many rows of each kind were written."""
    from sqlalchemy import insert, text

    from deskctl.services import policies
    from deskctl.store import db
    from deskctl.store.models import Contract, Customer, Product, Ticket, WorkLog

    rng = random.Random(seed)
    engine = db.get_engine(url)
    db.upgrade(engine)
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    policy_text = (ROOT / "examples" / "dms.toml").read_text(encoding="utf-8")
    with db.session(engine, write=True) as s:
        version = policies.load(s, policy_text, source="dms.toml", actor="bench", now=start)
        s.execute(
            insert(Product), [{"name": "dms", "current_version": "10.4", "created_at": start}]
        )
        s.execute(
            insert(Customer),
            [
                {
                    "id": c,
                    "key": f"c{c:03d}",
                    "name": f"Studio {c:03d}",
                    "country": "IT",
                    "vat_rate": None if c % 5 == 0 else Decimal("0.22"),
                    "created_at": start,
                }
                for c in range(1, customers + 1)
            ],
        )
        s.execute(
            insert(Contract),
            [
                {
                    "id": c,
                    "customer_id": c,
                    "policy": "dms",
                    "plan": "maintenance",
                    "start": date(YEAR, 1, 1),
                    "created_at": start,
                }
                for c in range(1, customers + 1)
            ],
        )
        ticket_rows, work_rows = _generate(rng, customers, tickets, version.id, start)
        s.execute(insert(Ticket), ticket_rows)
        for chunk in range(0, len(work_rows), 20_000):
            s.execute(insert(WorkLog), work_rows[chunk : chunk + 20_000])
        if engine.dialect.name == "postgresql":
            for table in ("customer", "contract", "ticket"):
                s.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    db.dispose_all()
    return {"customers": customers, "tickets": len(ticket_rows), "worklog": len(work_rows)}


def _generate(
    rng: random.Random, customers: int, tickets: int, version_id: int, start: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ticket_rows: list[dict[str, Any]] = []
    work_rows: list[dict[str, Any]] = []
    for tid in range(1, tickets + 1):
        opened = start + timedelta(seconds=rng.randrange(365 * 86400))
        roll = rng.random()
        category, topic = "defect", None
        if roll < 0.08:
            category, topic = "always_supported", "installation"
        elif roll < 0.12:
            category, topic = "billable_service", "data-recovery"
        elif roll < 0.14:
            category, topic = "misuse", "how-to"
        previous = rng.random() < 0.15
        parent = None
        if tid > 1 and rng.random() < 0.03:  # a split child of the ticket before it
            parent = ticket_rows[-1]
            opened = parent["opened_at"]
        ticket_rows.append(
            {
                "id": tid,
                "customer_id": parent["customer_id"] if parent else rng.randint(1, customers),
                "contract_id": None,
                "policy_version_id": version_id,
                "parent_id": parent["id"] if parent else None,
                "plan": "maintenance",
                "calendar": "rome",
                "title": f"generated ticket {tid}",
                "channel": "email",
                "product": "dms",
                "version": "9.2" if previous else "10.4",
                "status": "closed",
                "outcome": "resolved",
                "category": category,
                "topic": topic,
                # half the previous-version tickets carry the mode entitlement stores
                "billing_mode": "per_intervention_previous" if previous and tid % 2 else None,
                "opened_at": opened,
                "updated_at": opened,
                "closed_at": opened + timedelta(days=2),
                "rev": 1,
            }
        )
        work_rows += _work(rng, tid, opened)
    for row in ticket_rows:
        row["contract_id"] = row["customer_id"]
    return ticket_rows, work_rows


def _work(rng: random.Random, tid: int, opened: datetime) -> list[dict[str, Any]]:
    rows = []
    for seq in range(1, rng.randint(1, 4) + 1):
        at = opened + timedelta(minutes=rng.randrange(14 * 24 * 60))
        kind = "recovery" if rng.random() < 0.03 else "connection"
        rows.append(_row(tid, seq, at, rng.randint(5, 60), kind))
    if rng.random() < 0.02:  # a correction, never more than the first entry
        first = rows[0]
        rows.append(
            _row(
                tid,
                len(rows) + 1,
                first["at"] + timedelta(hours=1),
                -rng.randint(1, 5),
                first["kind"],
            )
        )
    return rows


def _row(tid: int, seq: int, at: datetime, minutes: int, kind: str) -> dict[str, Any]:
    return {
        "ticket_id": tid,
        "event_seq": seq,
        "at": at,
        "minutes": minutes,
        "kind": kind,
        "actor": "bench",
        "note": None,
    }


def run(env: dict[str, str], *args: str) -> tuple[tuple[float, float], str]:
    """One deskctl command in a fresh process: ((wall seconds, CPU seconds), stdout).

    CPU time (user + system of the child) shows the work done whatever else the machine
    is busy with; a database server's own CPU is not in it.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "from deskctl.cli.app import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise SystemExit(f"deskctl {' '.join(args)} failed: {done.stderr.strip()}")
    return (seconds, cpu), done.stdout


def measure(url: str, monthly: bool, workdir: Path) -> list[tuple[str, tuple[float, float], str]]:
    env = dict(
        os.environ,
        DESKCTL_DB=url,
        DESKCTL_NOW=NOW,
        DESKCTL_USER="bench",
        DESKCTL_DATA_DIR=str(workdir / "data"),
        PYTHONPATH=str(ROOT / "src"),
        NO_COLOR="1",
    )
    year = ("--from", f"{YEAR}-01-01", "--to", f"{YEAR}-12-31")
    out: list[tuple[str, tuple[float, float], str]] = []
    seconds, _ = run(env, "--version")
    out.append(("start-up (deskctl --version)", seconds, ""))
    seconds, stdout = run(env, "bill", "--all", *year, "--json")
    drafts = json.loads(stdout)
    lines = sum(len(d["lines"]) for d in drafts)
    total = sum(Decimal(d["total"]) for d in drafts)
    out.append(
        ("bill --all, a year (JSON)", seconds, f"{len(drafts)} bills, {lines} lines, total {total}")
    )
    if monthly:
        for month in range(1, 13):
            last = (date(YEAR + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
            period = ("--from", f"{YEAR}-{month:02d}-01", "--to", f"{YEAR}-{month:02d}-{last}")
            seconds, stdout = run(env, "bill", "finalize", "--all", *period)
            out.append(
                (
                    f"bill finalize --all, {YEAR}-{month:02d}",
                    seconds,
                    f"{len(stdout.split())} invoices",
                )
            )
    else:
        seconds, stdout = run(env, "bill", "finalize", "--all", *year)
        out.append(("bill finalize --all, a year", seconds, f"{len(stdout.split())} invoices"))
    seconds, stdout = run(env, "bill", "--all", *year, "--json")
    out.append(("bill --all again (nothing left)", seconds, f"{len(json.loads(stdout))} bills"))
    seconds, stdout = run(env, "invoice", "list", "--json")
    invoices = json.loads(stdout)
    billed = sum(Decimal(i["total"]) for i in invoices)
    same = "= the yearly draft" if billed == total else f"!= the yearly draft {total}"
    out.append(("invoice list", seconds, f"{len(invoices)} invoices, total {billed} {same}"))
    seconds, _ = run(
        env, "invoice", "show", invoices[0]["number"], "--html", str(workdir / "invoice.html")
    )
    out.append(("invoice show --html", seconds, invoices[0]["number"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", help="store URL (default: a temporary SQLite file)")
    parser.add_argument("--postgres", action="store_true", help="on a throwaway cluster")
    parser.add_argument("--monthly", action="store_true", help="finalise month by month")
    parser.add_argument("--keep", action="store_true", help="keep the store and the HTML")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="deskctl-bench-billing-"))
    cluster = None
    url = args.db or f"sqlite:///{workdir / 'bench.db'}"
    if args.postgres:
        from tests.pg import Cluster

        cluster = Cluster()
        cluster.start()
        url = cluster.create_database("bench")
    try:
        began = time.perf_counter()
        counts = build(url, args.customers, args.tickets, args.seed)
        print(f"store: {url.split('@')[-1]}")
        print(
            f"generated {counts['customers']} customers, {counts['tickets']} tickets, "
            f"{counts['worklog']} work-log rows in {time.perf_counter() - began:.2f}s"
        )
        print(f"{'step':<36} {'wall':>8} {'cpu':>8}")
        for label, (wall, cpu), note in measure(url, args.monthly, workdir):
            print(f"{label:<36} {wall:7.2f}s {cpu:7.2f}s  {note}")
    finally:
        if cluster is not None:
            cluster.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
