"""`deskctl queue`: open tickets by status, most urgent first; paged only on a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import text

from tests.cli import test_flow as flow
from tests.cli.test_flow import open_ticket, ticket_in
from tests.conftest import ROOT

fast_cli, imexhs = flow.fast_cli, flow.imexhs  # the shared fixtures

LATER = "2026-03-05T14:00:00Z"


def set_sla(ticket_id: int, state: str | None, due: str | None) -> None:
    """What the SLA service writes on the ticket row."""
    from datetime import datetime

    from deskctl.store import db

    due_at = datetime.fromisoformat(due.replace("Z", "+00:00")) if due else None
    if due_at is not None and db.default_engine().dialect.name == "sqlite":
        due_at = due_at.replace(tzinfo=None)
    with db.session(db.ready_engine(), write=True) as s:
        s.execute(
            text("UPDATE ticket SET sla_state = :s, sla_due_at = :d WHERE id = :i"),
            {"s": state, "d": due_at, "i": ticket_id},
        )


@pytest.fixture
def board(fast_cli, imexhs, monkeypatch) -> dict[str, int]:
    """Tickets opened a day apart, in several states, some with SLA columns filled."""
    cli = fast_cli
    ids: dict[str, int] = {}
    cli("agent", "add", "tester", "--name", "Tester", "--team", "pacs")

    def make(name: str, day: int, *steps: list[str]) -> None:
        monkeypatch.setenv("DESKCTL_NOW", f"2026-03-0{day}T09:00:00Z")
        ids[name] = open_ticket(cli, imexhs, name)
        for step in steps:
            cli("ticket", step[0], ids[name], *step[1:])

    make("low-old", 1, ["triage", "--severity", "3"])
    make("top-no-due", 2, ["triage", "--severity", "1"])
    make("top-due", 3, ["triage", "--severity", "1"])
    make("mid", 2, ["triage", "--severity", "2"])
    make("top-no-due-newer", 4, ["triage", "--severity", "1"])
    make(
        "mine",
        2,
        ["triage", "--severity", "2"],
        ["assign", "--to", "tester", "--team", "pacs"],
        ["start"],
    )
    make("untriaged", 4)
    make("done", 1, ["close", "--outcome", "cancelled"])
    # The SLA service fills these columns on every change; pin them so the test is
    # about the queue's ordering, not about SLA arithmetic.
    for ticket_id in ids.values():
        set_sla(ticket_id, None, None)
    set_sla(ids["top-due"], "at_risk", "2026-03-05T16:30:00Z")
    set_sla(ids["mine"], "breached", "2026-03-05T12:00:00Z")
    monkeypatch.setenv("DESKCTL_NOW", LATER)
    return ids


def test_groups_by_status_most_urgent_first(store, board, fast_cli) -> None:
    doc = fast_cli.json("queue")
    assert [g["status"] for g in doc["groups"]] == ["draft", "queued", "in_progress"]
    assert doc["total"] == 7  # the closed one is not in the queue
    queued = doc["groups"][1]
    order = ["top-due", "top-no-due", "top-no-due-newer", "mid", "low-old"]
    assert [t["id"] for t in queued["tickets"]] == [board[n] for n in order]
    first = queued["tickets"][0]
    assert (first["severity"], first["customer"], first["sla_state"]) == ("1", "clinic", "at_risk")
    assert first["sla_due_at"] == "2026-03-05T16:30:00Z"
    assert first["age_seconds"] == 2 * 86400 + 5 * 3600
    assert first["opened_at"] == "2026-03-03T09:00:00Z"


def test_mine_team_and_limit(board, fast_cli, monkeypatch) -> None:
    mine = fast_cli.json("queue", "--mine")
    assert [t["id"] for g in mine["groups"] for t in g["tickets"]] == [board["mine"]]
    assert mine["filter"]["assignee"] == "tester"
    team = fast_cli.json("queue", "--team", "pacs")
    assert [t["id"] for g in team["groups"] for t in g["tickets"]] == [board["mine"]]
    monkeypatch.setenv("DESKCTL_USER", "someone-else")
    assert fast_cli.json("queue", "--mine")["groups"] == []
    limited = fast_cli.json("queue", "--limit", "2")
    queued = limited["groups"][1]
    assert queued["total"] == 5 and len(queued["tickets"]) == 2
    assert [t["id"] for t in queued["tickets"]] == [board["top-due"], board["top-no-due"]]


def test_piped_rows_show_the_sla_or_a_dash(board, fast_cli) -> None:
    lines = fast_cli("queue").stdout.splitlines()
    rows = {int(line.split("\t")[0]): line.split("\t") for line in lines}
    assert len(rows) == 7
    # id, status, severity, customer, assignee, age, sla, title
    assert rows[board["mine"]] == [
        str(board["mine"]),
        "in_progress",
        "2",
        "clinic",
        "tester",
        "3d5h",
        "breached 2h ago",
        "mine",
    ]
    assert rows[board["top-due"]][6] == "at_risk in 2h30m"
    assert rows[board["low-old"]][4:7] == ["-", "4d5h", "-"]
    assert rows[board["untriaged"]][2] == "-"
    csv = fast_cli("queue", "--csv").stdout.splitlines()
    assert (
        csv[0] == "id,status,severity,customer,assignee,team,age_seconds,sla_state,sla_due_at,title"
    )


def test_an_empty_queue_says_so(fast_cli, imexhs) -> None:
    result = fast_cli("queue")
    assert result.stdout == ""
    assert fast_cli.json("queue") == {
        "at": flow.NOW,
        "filter": {"assignee": None, "team": None, "limit": 20},
        "total": 0,
        "groups": [],
    }


def test_bad_options_exit_2(fast_cli, imexhs) -> None:
    assert "not both" in fast_cli("queue", "--mine", "--assignee", "ana", code=2).stderr
    assert "--limit" in fast_cli("queue", "--limit", "-1", code=2).stderr


def _env(tmp_path: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MANPAGER", "LESS")}
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        PAGER=f"cat > {tmp_path / 'paged.txt'}",
        TERM="xterm",
        DESKCTL_NOW=LATER,
    )
    return env


def test_on_a_terminal_the_queue_goes_through_the_pager(fast_cli, imexhs, tmp_path) -> None:
    t = ticket_in(fast_cli, imexhs, "queued", "Viewer freezes")
    main, child = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "deskctl", "queue"],
            stdin=child,
            stdout=child,
            stderr=child,
            env=_env(tmp_path),
            timeout=120,
        )
    finally:
        os.close(child)
        os.close(main)
    assert done.returncode == 0
    paged = (tmp_path / "paged.txt").read_text()
    assert "queued (1)" in paged and "Viewer freezes" in paged and str(t) in paged


def test_piped_the_queue_never_pages(fast_cli, imexhs, tmp_path) -> None:
    ticket_in(fast_cli, imexhs, "queued", "Viewer freezes")
    done = subprocess.run(
        [sys.executable, "-m", "deskctl", "queue"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Viewer freezes" in done.stdout
    assert not (tmp_path / "paged.txt").exists()


def test_severities_of_several_policies_rank_by_their_own_scales(fast_cli, imexhs) -> None:
    from tests.conftest import EXAMPLES

    cli = fast_cli
    cli("policy", "load", str(EXAMPLES / "medisoft.toml"))
    cli("customer", "add", "hosp", "--name", "Hospital", "--country", "BR")
    cli("contact", "add", "hosp", "ana@hosp.example", "--name", "Ana")
    cli("product", "add", "pacs", "--current", "6.2")
    cli(
        "contract",
        "add",
        "hosp",
        "--policy",
        "medisoft",
        "--plan",
        "maintenance",
        "--start",
        "2026-01-01",
        "--product",
        "pacs",
    )
    hosp = {"customer": "hosp", "contact": "ana@hosp.example", "product": "pacs"}

    def triaged(seed: dict[str, str], hour: int, severity: str) -> int:
        t = open_ticket(cli, seed, f"sev {severity}", at=f"2026-03-02T{hour:02d}:00:00Z")
        cli("ticket", "triage", t, "--severity", severity)
        return t

    low = triaged(hosp, 8, "low")
    second = triaged(imexhs, 9, "2")
    medium = triaged(hosp, 10, "medium")
    top = triaged(imexhs, 11, "1")
    queued = cli.json("queue")["groups"][0]
    # Rank 0, then the two rank-1 severities by age, then rank 2.
    assert [t["id"] for t in queued["tickets"]] == [top, second, medium, low]


def test_a_severity_name_two_policies_rank_differently_sorts_by_its_own_policy(
    fast_cli, imexhs
) -> None:
    """ProgressSoft's ``high`` is its second severity (after ``critical``), Medisoft's
    ``high`` its first: each ticket is ranked in its own policy's order, not by name."""
    from tests.conftest import EXAMPLES

    cli = fast_cli
    for policy, key, country, plan, product in (
        ("medisoft", "hosp", "BR", "maintenance", "pacs"),
        ("progresssoft", "bank", "JO", "assistance", "ecc"),
    ):
        cli("policy", "load", str(EXAMPLES / f"{policy}.toml"))
        cli("customer", "add", key, "--name", key.title(), "--country", country)
        cli("contact", "add", key, f"ana@{key}.example", "--name", "Ana")
        cli("product", "add", product, "--current", "6.2")
        cli("contract", "add", key, "--policy", policy, "--plan", plan, "--start", "2026-01-01",
            "--product", product)  # fmt: skip

    def triaged(key: str, product: str, hour: int, severity: str) -> int:
        seed = {"customer": key, "contact": f"ana@{key}.example", "product": product,
                "channel": "email"}  # fmt: skip
        intake = ["--server", "RHEL 9", "--os", "Windows 11", "--hardware", "Dell R750",
                  "--task", "clearing", "--error", "ORA-00600"]  # fmt: skip
        t = open_ticket(cli, seed, f"{key} {severity}", *intake, at=f"2026-03-02T{hour:02d}:00:00Z")
        cli("ticket", "triage", t, "--severity", severity)
        return t

    bank_high = triaged("bank", "ecc", 8, "high")  # oldest, ProgressSoft rank 1
    hosp_medium = triaged("hosp", "pacs", 9, "medium")  # Medisoft rank 1
    hosp_high = triaged("hosp", "pacs", 10, "high")  # Medisoft rank 0
    bank_critical = triaged("bank", "ecc", 11, "critical")  # ProgressSoft rank 0
    ids = [t["id"] for t in cli.json("queue")["groups"][0]["tickets"]]
    # within a rank the SLA due decides; by name, ProgressSoft's high would rank 0
    assert set(ids[:2]) == {hosp_high, bank_critical}
    assert set(ids[2:4]) == {bank_high, hosp_medium}
