"""Agents racing on one ticket, as real parallel processes, on SQLite and PostgreSQL.

Each race releases N worker processes at once (a barrier) on the same ticket.
Conflicting moves: exactly one wins, the others are refused (exit 1, the move
is no longer legal) or, with ``--if-rev``, told it changed (exit 4). Moves that
do not conflict all land. Either way the ticket's events are numbered 1..rev,
with no gap, no duplicate and nothing lost.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing as mp
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from tests.cli import test_flow as flow
from tests.cli.test_flow import show, ticket_in
from tests.conftest import ROOT

fast_cli, imexhs = flow.fast_cli, flow.imexhs  # the shared fixtures

WORKERS = 4


def _worker(number: int, barrier: Any, tasks: Any, results: Any) -> None:
    """Runs deskctl in this process for each task, all workers starting together."""
    os.environ["DESKCTL_USER"] = f"agent{number}"
    import typer.main

    from deskctl.cli.app import app

    command = typer.main.get_command(app)
    while (args := tasks.get()) is not None:
        barrier.wait(timeout=120)
        err = io.StringIO()
        code: Any = 0
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                command.main(args, prog_name="deskctl")
            except SystemExit as exc:
                code = exc.code
        results.put((number, int(code or 0), err.getvalue().strip()))


class Agents:
    """WORKERS processes started once per test (they inherit the test's store settings)."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self.barrier = ctx.Barrier(WORKERS)
        self.tasks = [ctx.Queue() for _ in range(WORKERS)]
        self.results = ctx.Queue()
        self.procs = [
            ctx.Process(target=_worker, args=(n, self.barrier, self.tasks[n], self.results))
            for n in range(WORKERS)
        ]
        for proc in self.procs:
            proc.start()

    def race(self, *commands: list[str]) -> list[tuple[int, int, str]]:
        """Run one command per worker at the same instant; (worker, exit code, stderr)."""
        assert len(commands) == WORKERS
        for queue, args in zip(self.tasks, commands, strict=True):
            queue.put([str(a) for a in args])
        return sorted(self.results.get(timeout=180) for _ in commands)

    def stop(self) -> None:
        for queue in self.tasks:
            queue.put(None)
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()


@pytest.fixture
def agents(store: str, fast_cli: Any, imexhs: dict[str, str]) -> Iterator[Agents]:
    pool = Agents()
    try:
        yield pool
    finally:
        pool.stop()


def log(ticket_id: int) -> list[tuple[int, str, str]]:
    """(seq, kind, actor) of a ticket's events, straight from the store."""
    from deskctl.store import db

    with db.session(db.ready_engine()) as s:
        rows = s.execute(
            text("SELECT seq, kind, actor FROM ticket_event WHERE ticket_id = :t ORDER BY seq"),
            {"t": ticket_id},
        ).all()
    return [(int(a), str(b), str(c)) for a, b, c in rows]


def assert_whole(cli: Any, ticket_id: int) -> Counter[str]:
    """Events 1..rev without gaps, the row's rev matching; returns the kinds counted."""
    events = log(ticket_id)
    assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
    assert show(cli, ticket_id)["rev"] == len(events)
    return Counter(kind for _, kind, _ in events)


def codes(results: list[tuple[int, int, str]]) -> list[int]:
    return sorted(code for _, code, _ in results)


def test_racing_agents_never_both_win_nor_lose_an_event(agents, fast_cli, imexhs) -> None:
    cli = fast_cli

    # Everyone starts the same queued ticket: one wins, the others are refused.
    t = ticket_in(cli, imexhs, "queued")
    results = agents.race(*[["ticket", "start", t]] * WORKERS)
    assert codes(results) == [0] + [1] * (WORKERS - 1)
    assert all("ticket is in_progress" in err for _, code, err in results if code == 1)
    winner = next(n for n, code, _ in results if code == 0)
    assert assert_whole(cli, t)["started"] == 1
    assert [actor for _, kind, actor in log(t) if kind == "started"] == [f"agent{winner}"]

    # A script's respond --if-rev: one lands, the others learn the ticket changed.
    rev = show(cli, t)["rev"]
    results = agents.race(*[["ticket", "respond", t, "--if-rev", rev]] * WORKERS)
    assert codes(results) == [0] + [4] * (WORKERS - 1)
    assert assert_whole(cli, t)["responded"] == 1

    # Comments do not conflict: all of them land, numbered without gaps.
    results = agents.race(*[["ticket", "comment", t, "seen"]] * WORKERS)
    assert codes(results) == [0] * WORKERS
    assert assert_whole(cli, t)["commented"] == WORKERS

    # Two splits of one ticket: one wins; the loser leaves no orphan sub-ticket.
    results = agents.race(*[["ticket", "split", t, "--part", "a", "--part", "b"]] * WORKERS)
    assert codes(results) == [0] + [1] * (WORKERS - 1)
    children = show(cli, t)["children"]
    assert len(children) == 2
    assert len(cli.json("ticket", "list", "--limit", "0")) == 1 + 2

    # The last two sub-tickets close at once while others comment on the parent:
    # every close lands, and the parent resumes exactly once.
    results = agents.race(
        ["ticket", "close", children[0], "--outcome", "resolved"],
        ["ticket", "close", children[1], "--outcome", "resolved"],
        *[["ticket", "comment", t, "waiting"]] * (WORKERS - 2),
    )
    assert codes(results) == [0] * WORKERS
    kinds = assert_whole(cli, t)
    assert (kinds["child_closed"], kinds["resumed"]) == (2, 1)
    assert show(cli, t)["status"] == "in_progress"


def test_racing_console_commands(store, fast_cli, imexhs) -> None:
    """The same through `python -m deskctl`, one OS process per agent."""
    t = ticket_in(fast_cli, imexhs, "in_progress")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "deskctl", "ticket", "resolve", str(t), "--solution", f"s{n}"],
            env={**env, "DESKCTL_USER": f"agent{n}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WORKERS)
    ]
    done = [(p.wait(timeout=180), p.stderr.read() if p.stderr else "") for p in procs]
    assert sorted(code for code, _ in done) == [0] + [1] * (WORKERS - 1), done
    kinds = assert_whole(fast_cli, t)
    assert kinds["resolved"] == 1
    assert show(fast_cli, t)["status"] == "awaiting_verification"
