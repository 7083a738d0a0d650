"""Benchmark the reports on a large store.

    python benchmarks/bench_reports.py [--tickets 100000] [--seed 2026] [--db URL | --pg]

Creates a store (a fresh SQLite file by default; ``--db URL`` an empty database;
``--pg`` a throwaway PostgreSQL cluster like the test suite's), loads the
ProgressSoft and IMEXHS example policies (three calendars), and fills it with
Core bulk inserts: ``--tickets`` tickets over 2025-2026 with realistic columns,
about five events per ticket (opened, triaged, responded, resolved, some
solution_rejected and reopened), a work-log entry for every other ticket and
finalised invoices. Then it times each report through the services and through
the command line (a new process, start-up included) and prints the timings.
Run again with the same ``--db URL`` to time a store filled before.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

CHUNK = 5000
CHANNELS = ("phone", "email", "web", "ftp", "fax")
CATEGORIES = ("defect",) * 6 + ("misuse",) * 2 + ("always_supported", "billable_service", None)
SLA_STATES = ("met",) * 6 + ("late", "breached", "running", "paused", None, None)
PRODUCTS = {"ecc": ("5.0", "5.1", "5.2"), "pay": ("1.9", "2.0"), "ris": ("4.0", "4.1")}
HARDWARE = ("DL380 G7", "DL380 G10", "PowerEdge R740", "PowerEdge R650", "IBM x3650")
OSES = ("RHEL 7", "RHEL 8", "Windows 2016", "Windows 2019", "Ubuntu 22.04")
TOPICS = tuple(f"topic-{i:02d}" for i in range(40))
FIRST = datetime(2025, 1, 1, tzinfo=UTC)
SPAN = int((datetime(2027, 1, 1, tzinfo=UTC) - FIRST).total_seconds())


def chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def setup_store(engine: Any) -> dict[str, Any]:
    """Schema, policies and master data, through the services."""
    from deskctl.services import masterdata, policies
    from deskctl.store import db

    db.upgrade(engine)
    now = datetime(2024, 12, 1, tzinfo=UTC)
    out: dict[str, Any] = {"customers": [], "contacts": {}, "plans": []}
    with db.session(engine, write=True) as s:
        for name in ("progresssoft", "imexhs"):
            text = policies.read_policy_file(str(ROOT / "examples" / f"{name}.toml"))
            loaded = policies.load(s, text, source=name, actor="bench", now=now)
            _, policy = policies.by_version_id(s, loaded.id)
            out["plans"] += [(loaded.id, p.name, p.calendar) for p in policy.plans.values()]
        for product, versions in PRODUCTS.items():
            masterdata.add_product(
                s, product, current=versions[-1], eol=None, eol_announced=None, now=now
            )
    with db.session(engine, write=True) as s:
        for i in range(300):
            customer = masterdata.add_customer(
                s,
                f"c{i:03d}",
                name=f"Customer {i}",
                country="JO",
                vat_rate=None,
                policy=None,
                now=now,
            )
            out["customers"].append(customer.id)
            out["contacts"][customer.id] = [
                masterdata.add_contact(
                    s,
                    customer.key,
                    f"u{j}@c{i:03d}.example",
                    name=f"User {j}",
                    named=False,
                    now=now,
                    actor="bench",
                ).id
                for j in range(3)
            ]
    return out


def ticket_rows(n: int, rng: random.Random, master: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for i in range(1, n + 1):
        opened = FIRST + timedelta(seconds=rng.randrange(SPAN))
        customer = rng.choice(master["customers"])
        version_id, plan, calendar = rng.choice(master["plans"])
        product = rng.choice(tuple(PRODUCTS))
        category = rng.choice(CATEGORIES)
        closed = rng.random() < 0.85
        responded = opened + timedelta(minutes=rng.randrange(5, 3000))
        resolved = responded + timedelta(minutes=rng.randrange(30, 20000))
        yield {
            "id": i,
            "customer_id": customer,
            "contact_id": rng.choice(master["contacts"][customer]),
            "policy_version_id": version_id,
            "plan": plan,
            "calendar": calendar,
            "title": f"ticket {i}",
            "channel": rng.choice(CHANNELS),
            "product": product,
            "version": rng.choice(PRODUCTS[product]),
            "os": rng.choice(OSES),
            "hardware": rng.choice(HARDWARE),
            "status": "closed" if closed else rng.choice(("draft", "queued", "in_progress")),
            "outcome": ("redirected" if category == "misuse" else "resolved") if closed else None,
            "severity": rng.choice(("critical", "high", "medium", "low", "1", "2", "3")),
            "category": category,
            "topic": rng.choice(TOPICS),
            "assignee": f"agent{rng.randrange(25)}",
            "opened_at": opened,
            "updated_at": resolved,
            "info_complete_at": opened,
            "responded_at": responded if rng.random() < 0.9 else None,
            "resolved_at": resolved if closed and category != "misuse" else None,
            "closed_at": resolved + timedelta(hours=2) if closed else None,
            "sla_state": rng.choice(SLA_STATES),
            "rev": 5,
        }


def event_rows(tickets: list[dict[str, Any]], rng: random.Random) -> Iterator[dict[str, Any]]:
    for t in tickets:
        kinds = ["opened", "triaged", "responded"]
        if t["resolved_at"] is not None:
            kinds.append("resolved")
            if rng.random() < 0.08:
                kinds += ["solution_rejected", "resolved"]
            kinds.append("confirmed")
            if rng.random() < 0.04:
                kinds += ["reopened", "resolved", "confirmed"]
        for seq, kind in enumerate(kinds, start=1):
            yield {
                "ticket_id": t["id"],
                "seq": seq,
                "at": t["opened_at"] + timedelta(minutes=seq),
                "kind": kind,
                "actor": "bench",
            }


def fill(engine: Any, n: int, seed: int, master: dict[str, Any]) -> dict[str, int]:
    """Core bulk inserts of tickets, events, work log and invoices."""
    from sqlalchemy import insert

    from deskctl.store.models import Invoice, InvoiceLine, Ticket, TicketEvent, WorkLog

    rng = random.Random(seed)
    counts = {"tickets": 0, "events": 0, "worklog": 0}
    with engine.begin() as conn:
        for batch in chunks(ticket_rows(n, rng, master)):
            conn.execute(insert(Ticket), batch)
            counts["tickets"] += len(batch)
            events = list(event_rows(batch, rng))
            for part in chunks(iter(events)):
                conn.execute(insert(TicketEvent), part)
            counts["events"] += len(events)
            work = [
                {
                    "ticket_id": t["id"],
                    "event_seq": 1,
                    "at": t["opened_at"] + timedelta(hours=1),
                    "minutes": rng.randrange(10, 120),
                    "kind": "connection",
                    "actor": "bench",
                }
                for t in batch
                if rng.random() < 0.5
            ]
            if work:
                conn.execute(insert(WorkLog), work)
            counts["worklog"] += len(work)
        for month in range(1, 13):
            for customer in master["customers"][:50]:
                invoice_id = conn.execute(
                    insert(Invoice)
                    .values(
                        customer_id=customer,
                        period_from=date(2026, month, 1),
                        period_to=date(2026, month, 28),
                        status="final",
                        number=f"2026-{month:02d}-{customer}",
                        created_at=datetime(2026, month, 28, tzinfo=UTC),
                        finalized_at=datetime(2026, month, 28, tzinfo=UTC),
                        subtotal=Decimal("135.00"),
                        vat_rate=Decimal("0"),
                        vat=Decimal("0"),
                        total=Decimal("135.00"),
                    )
                    .returning(Invoice.id)
                ).scalar_one()
                conn.execute(
                    insert(InvoiceLine),
                    [
                        {
                            "invoice_id": invoice_id,
                            "ticket_id": rng.randrange(1, n + 1),
                            "kind": "intervention",
                            "minutes": 20,
                            "base": Decimal("45.00"),
                            "amount": Decimal("45.00"),
                        }
                        for _ in range(3)
                    ],
                )
    if engine.dialect.name == "postgresql":
        # Fresh planner statistics, as autovacuum would gather after a bulk load: without
        # them PostgreSQL guesses one ticket per month and picks nested loops.
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return counts


def already_filled(engine: Any) -> bool:
    """A store this benchmark filled before (``--db URL`` run twice): time it again."""
    from sqlalchemy import func, select

    from deskctl.store import db
    from deskctl.store.models import Ticket

    if db.current_revision(engine) is None:
        return False
    db.upgrade(engine)
    with engine.connect() as conn:
        return bool(conn.execute(select(func.count()).select_from(Ticket)).scalar_one())


def timed(label: str, fn: Callable[[], Any], results: list[tuple[str, float, float]]) -> Any:
    """Run ``fn``; record wall time and CPU time (this process and its children).

    CPU time is the fairer figure on a busy machine: SQLite runs in-process, so
    it counts the whole report there (PostgreSQL's own work is not counted).
    """
    started = time.perf_counter()
    cpu = _cpu()
    value = fn()
    results.append((label, time.perf_counter() - started, _cpu() - cpu))
    return value


def _cpu() -> float:
    import resource

    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def run_services(engine: Any, results: list[tuple[str, float, float]]) -> None:
    from deskctl.domain.analysis import Thresholds
    from deskctl.services import findings, reports
    from deskctl.store import db

    now = datetime(2027, 1, 5, tzinfo=UTC)
    cases = [
        ("overview, year, by month", date(2026, 1, 1), date(2026, 12, 31), {}, "month"),
        ("overview, year, by week", date(2026, 1, 1), date(2026, 12, 31), {}, "week"),
        ("overview, 2 years", date(2025, 1, 1), date(2026, 12, 31), {}, "month"),
        ("overview, one month", date(2026, 3, 1), date(2026, 3, 31), {}, "week"),
        (
            "overview, year, --customer",
            date(2026, 1, 1),
            date(2026, 12, 31),
            {"customer": "c007"},
            "month",
        ),
        (
            "overview, year, --product",
            date(2026, 1, 1),
            date(2026, 12, 31),
            {"product": "ecc"},
            "month",
        ),
    ]
    for label, first, last, filters, by in cases:
        with db.session(engine) as s:
            scope = reports.make_scope(s, first, last, **filters)
            doc = timed(
                label,
                lambda s=s, scope=scope, by=by: reports.overview(s, scope, by=by, now=now),
                results,
            )
        label, wall, cpu = results[-1]
        results[-1] = (f"{label} ({doc['summary']['tickets']} tickets)", wall, cpu)
    with db.session(engine) as s:
        scope = reports.make_scope(s, date(2026, 1, 1), date(2026, 12, 31))
        doc = timed(
            "findings, year", lambda: findings.findings(s, scope, Thresholds(), now=now), results
        )
    label, wall, cpu = results[-1]
    results[-1] = (f"{label} ({len(doc['findings'])} findings)", wall, cpu)


def run_cli(url: str, results: list[tuple[str, float, float]], tmp: Path) -> None:
    env = dict(
        os.environ,
        DESKCTL_DB=url,
        NO_COLOR="1",
        PYTHONPATH=str(ROOT / "src"),
        DESKCTL_NOW="2027-01-05T00:00:00Z",
    )
    period = ["--from", "2026-01-01", "--to", "2026-12-31"]
    commands = [
        ("CLI overview --json", ["report", "overview", *period, "--json"]),
        ("CLI overview (terminal text)", ["report", "overview", *period]),
        ("CLI overview --html", ["report", "overview", *period, "--html", str(tmp / "o.html")]),
        ("CLI findings --json", ["report", "findings", *period, "--json"]),
    ]
    for label, args in commands:

        def call(args: list[str] = args) -> None:
            subprocess.run(
                [sys.executable, "-c", "from deskctl.cli.app import main; main()", *args],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )

        timed(label, call, results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--db", help="an empty store URL (default: a new SQLite file)")
    parser.add_argument("--pg", action="store_true", help="a throwaway PostgreSQL cluster")
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line timings")
    args = parser.parse_args()

    from deskctl.store import db

    tmp = Path(tempfile.mkdtemp(prefix="deskctl-bench-"))
    cluster = None
    if args.pg:
        from tests.pg import Cluster

        cluster = Cluster()
        cluster.start()
        url = cluster.create_database("bench")
    else:
        url = args.db or f"sqlite:///{tmp / 'bench.db'}"
    try:
        engine = db.get_engine(url)
        started = time.perf_counter()
        if args.db and already_filled(engine):
            print(f"store: {engine.dialect.name}; reusing the tickets already in {url}")
        else:
            master = setup_store(engine)
            print(f"master data in {time.perf_counter() - started:.1f} s", flush=True)
            counts = fill(engine, args.tickets, args.seed, master)
            print(
                f"store: {engine.dialect.name}; {counts['tickets']} tickets, {counts['events']} "
                f"events, {counts['worklog']} work-log entries; filled in "
                f"{time.perf_counter() - started:.1f} s"
            )
        results: list[tuple[str, float, float]] = []
        run_services(engine, results)
        db.dispose_all()
        if not args.no_cli:
            run_cli(url, results, tmp)
        width = max(len(label) for label, _, _ in results)
        print(f"  {'':<{width}}    wall s   cpu s")
        for label, wall, cpu in results:
            print(f"  {label:<{width}}  {wall:7.2f} {cpu:7.2f}")
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
