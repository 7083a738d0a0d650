"""``report findings`` and ``report overview`` read part of their figures on a second
connection at the same snapshot where they can (``store.snapshot``): on either backend
the documents are those read on one connection."""

from __future__ import annotations

from typing import Any

import pytest

from deskctl.services import findings, reports
from deskctl.store import snapshot

YEAR = ("--from", "2025-12-01", "--to", "2026-11-30")


@pytest.mark.parametrize(
    ("report", "service", "options"),
    [("findings", findings, ("--misuse-repeats", "1")), ("overview", reports, ())],
)
def test_a_report_read_on_two_connections_is_the_one_read_on_one(
    cli: Any,
    store: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    report: str,
    service: Any,
    options: tuple[str, ...],
) -> None:
    if store == "sqlite":  # a file: an in-memory store has no second connection
        monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "desk.db"))
    monkeypatch.setenv("DESKCTL_NOW", "2026-11-30T12:00:00Z")
    cli("demo", "--tickets", "700", "--seed", "4")
    beside = []
    monkeypatch.setattr(
        service, "Beside", lambda on, work: beside.append(1) or snapshot.Beside(on, work)
    )
    docs = {}
    for cpus in (2, 1):
        monkeypatch.setattr(snapshot, "cpus", lambda cpus=cpus: cpus)
        docs[cpus] = cli.json("report", report, *YEAR, *options)
    assert beside == [1]  # the second connection was read once: on two CPUs
    assert docs[2] == docs[1]
    if report == "findings":
        assert {f["kind"] for f in docs[2]["findings"]} >= {"training_need", "root_cause"}
    else:
        assert docs[2]["summary"]["sla_decided"] > 0
