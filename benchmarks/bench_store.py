#!/usr/bin/env python
"""Store benchmark: start-up, `deskctl demo` bulk load, and ticket listing on a big store.

    python benchmarks/bench_store.py [--tickets 100000] [--pg URL] [--json out.json]

Every figure is wall-clock time of a real `deskctl` subprocess (this checkout's
src/ first on PYTHONPATH): start-up is the median of --startup-runs, listings the
median of --runs. The demo runs once per store; its CPU time is shown too, since
on a shared machine the wall time also measures the neighbours. --pg needs an
empty PostgreSQL database (e.g. a fresh `createdb`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAUNCH = [sys.executable, "-c", "from deskctl.cli.app import main; main()"]


def run(
    args: list[str], env: dict[str, str]
) -> tuple[float, float, subprocess.CompletedProcess[bytes]]:
    """(wall seconds, child CPU seconds, result) of one deskctl run."""
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run([*LAUNCH, *args], env=env, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    if done.returncode != 0:
        raise SystemExit(f"deskctl {' '.join(args)} failed: {done.stderr.decode().strip()}")
    return wall, cpu, done


def median_of(args: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall and median CPU seconds of ``runs`` runs."""
    times = [run(args, env)[:2] for _ in range(runs)]
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def environment(store: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), DESKCTL_DB=store, NO_COLOR="1")
    env.pop("DESKCTL_NOW", None)
    return env


def has_command(name: str, env: dict[str, str]) -> bool:
    done = subprocess.run([*LAUNCH, name, "--help"], env=env, capture_output=True, check=False)
    return done.returncode == 0


def bench_store(label: str, store: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    env = environment(store)
    wall, cpu, done = run(["demo", "--tickets", str(args.tickets), "--json"], env)
    doc = json.loads(done.stdout)
    counts = doc["counts"]
    rows = [
        {
            "what": f"demo --tickets {args.tickets} ({label})",
            "seconds": wall,
            "cpu_seconds": cpu,
            "note": f"{counts['tickets']:,} tickets, {counts['events']:,} events, "
            f"{counts['worklog']:,} work-log entries",
        }
    ]
    listings = [
        ["ticket", "list", "--limit", "50"],
        ["ticket", "list", "--limit", "50", "--status", "queued"],
        ["ticket", "list", "--limit", "50", "--open"],
    ]
    if has_command("queue", env):
        listings.append(["queue"])
    for command in listings:
        rows.append(timed(f"{' '.join(command)} ({label})", command, env, args.runs))
    return rows


def timed(what: str, command: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    seconds, cpu = median_of(command, env, runs)
    return {"what": what, "seconds": seconds, "cpu_seconds": cpu, "note": f"median of {runs}"}


def bench_startup(args: argparse.Namespace, scratch: Path) -> list[dict[str, Any]]:
    env = environment(str(scratch / "unused.db"))
    return [
        timed(f"deskctl {flag}", [flag], env, args.startup_runs) for flag in ("--help", "--version")
    ]


def print_table(rows: list[dict[str, Any]]) -> None:
    width = max(len(r["what"]) for r in rows)
    print(f"{'what':<{width}}  {'seconds':>8}  {'cpu s':>7}  note")
    for r in rows:
        cpu = f"{r['cpu_seconds']:7.3f}"
        print(f"{r['what']:<{width}}  {r['seconds']:8.3f}  {cpu}  {r.get('note', '')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="demo size (100000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per listing (5)")
    parser.add_argument("--startup-runs", type=int, default=10, help="runs per start-up (10)")
    parser.add_argument("--pg", metavar="URL", help="also bench an empty PostgreSQL database")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="deskctl-bench-"))
    sqlite_file = scratch / "bench.db"
    rows = bench_startup(args, scratch)
    rows += bench_store("sqlite", str(sqlite_file), args)
    if args.pg:
        rows += bench_store("postgresql", args.pg, args)
    print_table(rows)
    if args.json:
        doc = {
            "tickets": args.tickets,
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "results": rows,
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if args.keep:
        print(f"kept {sqlite_file}", file=sys.stderr)
    else:
        for path in scratch.iterdir():
            path.unlink()
        scratch.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
