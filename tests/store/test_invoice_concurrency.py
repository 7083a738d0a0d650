"""Finalising invoices at the same time, in real parallel processes, on SQLite and PostgreSQL.

Whatever order the processes run in, every work-log row ends up on exactly one
finalised invoice, each customer gets one invoice for the period, and the
numbers run 0001..N with no gap and no repeat.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_billing_cli import NOW, PERIOD, log, open_dms
from tests.conftest import ROOT
from tests.factory import seed_dms

# Each process imports everything and builds its command, says it is ready, then
# waits for the go signal, so the finalisations really overlap.
RUNNER = r"""
import os, pathlib, sys, time
import typer.main
from deskctl.cli.app import app
import deskctl.services.billing.invoices, deskctl.store.db, sqlalchemy.dialects.postgresql
command = typer.main.get_command(app)
signals = pathlib.Path(os.environ["SIGNALS"])
(signals / f"ready-{os.getpid()}").touch()
while not (signals / "go").exists():
    time.sleep(0.005)
command.main(args=sys.argv[1:], prog_name="deskctl")
"""

CUSTOMERS = ("studio", "lab", "clinic")


def _seed(cli: Any) -> dict[str, int]:
    """Three DMS customers with a few tickets each; returns minutes logged per ticket."""
    seed = seed_dms(cli)
    for key in CUSTOMERS[1:]:
        cli("customer", "add", key, "--name", key.title(), "--country", "IT", "--vat-rate", "22%")
        cli("contact", "add", key, f"a@{key}.example", "--name", "A")
        cli("contract", "add", key, "--plan", "maintenance", "--start", "2026-01-01")
    logged = {}
    for n, key in enumerate(CUSTOMERS):
        who = {
            **seed,
            "customer": key,
            "contact": seed["contact"] if key == "studio" else f"a@{key}.example",
        }
        for i in range(3):
            ticket = open_dms(cli, who, version="9.1" if i == 2 else "10.4", title=f"t{i}")
            minutes = 15 + 7 * i + n
            log(cli, ticket, f"{minutes}m")
            log(cli, ticket, "12m", at="2026-03-10T09:00:00Z")
            logged[str(ticket)] = minutes + 12
    return logged


def _run_parallel(arg_lists: list[list[str]], signals: Path) -> list[tuple[int, str, str]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), SIGNALS=str(signals))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RUNNER, *args],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for args in arg_lists
    ]
    deadline = time.monotonic() + 120
    while len(list(signals.glob("ready-*"))) < len(procs) and time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break  # one died before the start: let communicate() report it
        time.sleep(0.01)
    (signals / "go").touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, out, err))
    return results


def test_parallel_finalisations_bill_each_line_once_and_number_without_gaps(
    cli, store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    logged = _seed(cli)
    drafts = {d["customer"]: d for d in cli.json("bill", "--all", *PERIOD)}
    assert sorted(drafts) == sorted(CUSTOMERS)

    finalize = ["bill", "finalize", *PERIOD]
    jobs = [
        [*finalize, "--customer", "studio"],
        [*finalize, "--customer", "studio"],
        [*finalize, "--all"],
        [*finalize, "--customer", "lab"],
        [*finalize, "--customer", "clinic"],
    ]
    results = _run_parallel(jobs, tmp_path)

    for code, _, err in results:
        assert code in (0, 1), err
        if code == 1:
            assert "nothing to bill" in err
    printed = [n for code, out, _ in results if code == 0 for n in out.split()]
    invoices = cli.json("invoice", "list")
    numbers = [row["number"] for row in invoices]
    assert sorted(printed) == sorted(numbers)
    assert sorted(numbers) == [f"INV-2026-{i:04d}" for i in range(1, len(CUSTOMERS) + 1)]
    assert Counter(row["customer"] for row in invoices) == Counter(CUSTOMERS)
    for row in invoices:
        shown = cli.json("invoice", "show", row["number"])
        draft = drafts[row["customer"]]
        assert (shown["status"], shown["lines"], shown["total"]) == (
            "final",
            draft["lines"],
            draft["total"],
        )

    billed: Counter[str] = Counter()
    for number in numbers:
        for line in cli.json("invoice", "show", number)["lines"]:
            billed[str(line["ticket"])] += line["minutes"]
    assert billed == Counter(logged)
    for ticket in logged:
        entries = cli.json("ticket", "worklog", ticket)["entries"]
        assert all(e["invoice"] in numbers for e in entries)
    assert cli.json("bill", "--all", *PERIOD) == []
    cli("bill", "finalize", "--all", *PERIOD, code=1)
