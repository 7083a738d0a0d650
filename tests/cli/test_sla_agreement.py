"""`sla report` and `report overview` agree on every SLA figure they share.

Both take each ticket's metric states at the report's instant from one
computation (services.cohort: GROUP BYs over the stored facts, replays where the
facts cannot tell); the overview's ticket-level figures are the report's
``ticket_states``. Checked on the demo store, where pending clocks and tickets
without an SLA occur, and again with the facts removed: the replay of every
history (the Python computation the facts replace) gives the same documents.
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
    report = cli.json("sla", "report", *period, "--limit", "0")
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


def _without_facts(source: str, target: str) -> None:
    import shutil
    import sqlite3

    shutil.copy(source, target)
    with sqlite3.connect(target) as con:
        con.execute("DELETE FROM sla_fact")
        con.execute("UPDATE ticket SET sla_computed_at = NULL")


def test_reports_from_facts_equal_a_replay_of_every_history(
    cli, demo_store: str, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    period = ["--from", "2025-07-01", "--to", "2026-06-30"]
    monkeypatch.setenv("DESKCTL_DB", demo_store)
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    report = cli.json("sla", "report", *period, "--limit", "0")
    overview = cli.json("report", "overview", *period)
    replayed = str(tmp_path / "replayed.db")
    _without_facts(demo_store, replayed)
    monkeypatch.setenv("DESKCTL_DB", replayed)
    assert cli.json("sla", "report", *period, "--limit", "0") == report
    assert cli.json("report", "overview", *period) == overview


def _late(store: str, ticket_id: int) -> float:
    """Seconds the ticket's worst breach is past its limit: stopped then, or still now."""
    import sqlite3
    from datetime import UTC, datetime

    now = datetime.fromisoformat(NOW)
    with sqlite3.connect(store) as con:
        rows = con.execute(
            "SELECT due_at, stopped_at FROM sla_fact WHERE ticket_id = ? AND due_at IS NOT NULL",
            (ticket_id,),
        ).fetchall()

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    return max(((at(s) if s else now) - at(d)).total_seconds() for d, s in rows)


def test_the_ticket_list_is_bounded_breached_first_worst_first(
    cli, demo_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKCTL_DB", demo_store)
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    period = ["--from", "2025-07-01", "--to", "2026-06-30"]
    every = cli.json("sla", "report", *period, "--limit", "0")
    short = cli.json("sla", "report", *period, "--limit", "10")
    assert short["tickets_listed"] == 10 and short["limit"] == 10
    assert short["tickets_total"] == every["tickets_total"] == every["totals"]["tickets"]
    assert short["totals"] == every["totals"]  # the limit narrows the list only
    assert short["tickets"] == every["tickets"][:10]
    states = [t["state"] for t in every["tickets"]]
    breached = states.count("breached")
    assert breached and states[:breached] == ["breached"] * breached

    first = every["tickets"][:breached]
    lateness = [_late(demo_store, t["id"]) for t in first]
    assert lateness == sorted(lateness, reverse=True) and lateness[-1] > 0
    others = [t["id"] for t in every["tickets"][breached:]]
    assert others == sorted(others)
    only = cli.json("sla", "report", *period, "--breached-only", "--limit", "0")
    assert only["tickets_total"] == breached == only["tickets_listed"]
    assert [t["id"] for t in only["tickets"]] == [t["id"] for t in first]
    bad = cli("sla", "report", *period, "--limit", "-1", code=2)
    assert bad.stdout == "" and "--limit" in bad.stderr
