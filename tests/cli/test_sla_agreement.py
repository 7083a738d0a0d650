"""`sla report` and `report overview` agree on every SLA figure they share.

Both take each ticket's metric states at the report's instant from one
computation (services.sla.cohort_states); the overview's ticket-level figures
are the report's ``ticket_states``. Checked on the demo store, where stored
snapshots, replays, pending clocks and tickets without an SLA all occur.
"""

from __future__ import annotations

import pytest

NOW = "2026-06-30T12:00:00Z"
BUCKETS = ("met", "late", "breached", "open", "unknown")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    path = tmp_path_factory.mktemp("agree") / "demo.db"
    env = dict(os.environ, DESKCTL_DB=str(path), DESKCTL_NOW=NOW, DESKCTL_USER="tester",
               DESKCTL_DATA_DIR=str(path.parent / "data"), PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(
        [sys.executable, "-m", "deskctl", "demo", "--tickets", "400", "--seed", "7", "--json"],
        env=env, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    return str(path)


@pytest.mark.parametrize(
    ("first", "last", "customer"),
    [
        ("2026-05-01", "2026-05-31", None),
        ("2025-07-01", "2026-06-30", None),
        ("2026-01-01", "2026-06-30", "first"),
    ],
)
def test_report_and_overview_share_their_sla_figures(
    cli, demo_store: str, monkeypatch: pytest.MonkeyPatch, first: str, last: str,
    customer: str | None,
) -> None:
    monkeypatch.setenv("DESKCTL_DB", demo_store)
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    extra: list[str] = []
    if customer:
        key = cli.json("customer", "list")[0]["key"]
        extra = ["--customer", key]
    period = ["--from", first, "--to", last, *extra]
    report = cli.json("sla", "report", *period)
    overview = cli.json("report", "overview", *period)
    states = report["ticket_states"]
    summary = overview["summary"]
    assert states["tickets"] == report["totals"]["tickets"] == summary["tickets"] > 0
    assert summary["sla_decided"] == states["decided"]
    assert summary["sla_compliance"] == states["compliance"]
    assert summary["sla_met_rate"] == states["met_rate"]
    trend = overview["sla_trend"]
    for bucket in BUCKETS:
        assert sum(p[bucket] for p in trend) == states[bucket], bucket
    assert states["breached"] == report["breached_tickets"]
    # every ticket is in one bucket, and each ticket's listed state is its bucket's source
    assert sum(states[b] for b in BUCKETS) == states["tickets"]
    listed = [t["state"] for t in report["tickets"]]
    assert listed.count("breached") == states["breached"]
    assert listed.count("met") == states["met"]
