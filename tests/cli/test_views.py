"""Views an engineer lives in: the queue coloured on a terminal (and only there), the
list sorted by the next deadline with closed tickets last."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from typing import Any

import pytest

from tests.cli.test_flow import seeded
from tests.conftest import ROOT
from tests.factory import open_ticket, seed_medisoft

OPENED = "2026-03-05T16:00:00-03:00"  # Thursday 16:00 in São Paulo
ESC = "\x1b["


@pytest.fixture
def medisoft(cli, tmp_path_factory, monkeypatch) -> dict[str, str]:
    return seeded(cli, seed_medisoft, tmp_path_factory, monkeypatch)


def _board(cli: Any, medisoft: dict[str, str], monkeypatch: Any) -> dict[str, int]:
    ids = {}
    for name, severity in (("late", "high"), ("calm", "low")):
        ids[name] = open_ticket(cli, medisoft, name, at=OPENED)
        cli("ticket", "triage", ids[name], "--severity", severity, "--at", OPENED)
    ids["closed"] = open_ticket(cli, medisoft, "closed", at=OPENED)
    cli("ticket", "triage", ids["closed"], "--severity", "high", "--at", OPENED)
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-09T12:00:00-03:00")  # high ones breached
    cli("ticket", "close", ids["closed"], "--outcome", "cancelled")
    cli("sla", "refresh")
    return ids


def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run deskctl with its stdout on a pseudo-terminal; what the terminal received."""
    main, child = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "deskctl", *args], stdin=child, stdout=child,
            stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        os.close(child)
        chunks = []
        while True:
            ready, _, _ = select.select([main], [], [], 60)
            if not ready:
                break
            try:
                data = os.read(main, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PAGER")}
    env.update(PYTHONPATH=str(ROOT / "src"), TERM="xterm-256color", COLUMNS="150", **extra)
    return env


def test_queue_is_coloured_by_sla_state_and_severity_on_a_terminal(cli, medisoft, monkeypatch):
    ids = _board(cli, medisoft, monkeypatch)
    screen = _on_a_terminal(["queue", "--no-pager"], _env(DESKCTL_NOW="2026-03-09T12:00:00-03:00"))
    assert f"{ESC}1;31mbreached" in screen  # the breached SLA in bold red
    assert f"{ESC}1;31mhigh" in screen  # the policy's most severe level
    assert "calm" in screen and str(ids["late"]) in screen
    plain = _on_a_terminal(
        ["queue", "--no-pager"], _env(DESKCTL_NOW="2026-03-09T12:00:00-03:00", NO_COLOR="1")
    )
    assert "breached" in plain and "1;31m" not in plain and "36m" not in plain


def test_piped_queue_has_no_colour(cli, medisoft, monkeypatch) -> None:
    _board(cli, medisoft, monkeypatch)
    env = _env(DESKCTL_NOW="2026-03-09T12:00:00-03:00")
    done = subprocess.run([sys.executable, "-m", "deskctl", "queue"], capture_output=True,
                          text=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0 and "breached" in done.stdout and ESC not in done.stdout


def test_sort_sla_puts_closed_tickets_last(cli, medisoft, monkeypatch) -> None:
    ids = _board(cli, medisoft, monkeypatch)
    order = [int(x) for x in cli("ticket", "list", "--sort", "sla", "-q").stdout.split()]
    assert order[-1] == ids["closed"]
    assert order.index(ids["late"]) < order.index(ids["calm"])  # overdue first


def test_a_closed_pipe_ends_quietly(cli, medisoft, monkeypatch) -> None:
    for n in range(40):
        open_ticket(cli, medisoft, f"ticket {n}", at=OPENED)
    env = _env()
    done = subprocess.run(
        f"{sys.executable} -m deskctl ticket list --limit 0 | head -n 2",
        shell=True, capture_output=True, text=True, env=env, timeout=120,
        executable="/bin/bash",
    )  # fmt: skip
    assert len(done.stdout.splitlines()) == 2
    assert done.stderr == ""
    status = subprocess.run(
        f"set -o pipefail; {sys.executable} -m deskctl ticket list --limit 0 | head -n 1"
        " > /dev/null", shell=True, env=env, timeout=120, executable="/bin/bash",
    )  # fmt: skip
    assert status.returncode == 0
