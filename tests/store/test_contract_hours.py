"""Consultancy hours on the real backends: no overdraw under concurrent draws; migration 0003."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLES, ROOT

# Each worker imports deskctl, says it is ready, waits for the go file, then makes
# DRAWS draws of one hour, each in its own write transaction exactly as
# `deskctl contract use-hours` does (the transaction is most of each loop, so
# without the row lock draws would interleave), and prints 0 (drawn) or 1 (refused).
WORKER = """
import sys, time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from deskctl.cli._base import store_session
from deskctl.errors import Refused
from deskctl.services import contracts

ready, go, draws = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
at = datetime(2026, 5, 4, 12, tzinfo=timezone.utc)
with store_session() as s:
    pass  # connect and check the schema before the start
ready.touch()
while not go.exists():
    time.sleep(0.001)
codes = []
for _ in range(draws):
    try:
        with store_session(write=True) as s:
            contracts.use_hours(s, 1, Decimal("1"), at=at, note=None, actor="w", now=at)
        codes.append(0)
    except Refused:
        codes.append(1)
print(" ".join(map(str, codes)))
"""
WORKERS = 3
DRAWS = 30
BOUGHT = 40


def seed(cli: Any) -> None:
    cli("init", "--policy", str(EXAMPLES / "opmon.toml"))
    cli("customer", "add", "telco", "--name", "Telco SA", "--country", "BR")
    cli(
        "contract",
        "add",
        "telco",
        "--plan",
        "premium",
        "--start",
        "2026-01-01",
        "--end",
        "2026-12-31",
        "--consultancy-hours",
        str(BOUGHT),
    )


def run_workers(tmp_path: Path) -> list[int]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), DESKCTL_NOW="2026-05-04T12:00:00Z")
    go = tmp_path / "go"
    procs, ready = [], []
    for n in range(WORKERS):
        flag = tmp_path / f"ready{n}"
        ready.append(flag)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(flag), str(go), str(DRAWS)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + 60
    while not all(f.exists() for f in ready):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    go.touch()
    codes = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        codes += [int(c) for c in out.split()]
    return codes


def test_concurrent_draws_never_overdraw(cli, store, tmp_path: Path) -> None:
    seed(cli)
    codes = run_workers(tmp_path)
    # Every draw either went through or was refused as overdraw: no conflict, no error.
    assert sorted(set(codes)) == [0, 1]
    assert codes.count(0) == BOUGHT
    doc = cli.json("contract", "hours", "1")
    assert (doc["used"], doc["balance"]) == (f"{BOUGHT}.00", "0.00")
    assert len(doc["entries"]) == BOUGHT


def test_migration_0003_upgrades_a_0001_store(cli, store) -> None:
    from sqlalchemy import inspect

    from deskctl.config import database_url
    from deskctl.store import db

    engine = db.get_engine(database_url())
    assert db.upgrade(engine, "0001") == (None, "0001")
    assert "contract_hours" not in inspect(engine).get_table_names()
    behind = cli("contract", "list", code=5)
    assert "run `deskctl db upgrade`" in behind.stderr
    assert db.upgrade(engine) == ("0001", db.SCHEMA_HEAD)
    assert "contract_hours" in inspect(engine).get_table_names()
    doc = json.loads(cli("db", "current", "--json").stdout)
    assert doc["up_to_date"] is True
