"""`deskctl demo`: fill an empty store with a realistic demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from deskctl.cli._base import JsonOpt

MAX_TICKETS = 5_000_000
QUEUE_PER_STATUS = 5


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    tickets: Annotated[
        int, typer.Option("--tickets", help="How many tickets to invent (0 or more).")
    ] = 2000,
    seed: Annotated[
        int,
        typer.Option("--seed", help="Random seed: the same seed and clock give the same store."),
    ] = 1,
    json_out: bool = JsonOpt,
) -> None:
    """Fill an empty store with a realistic demo, then show the top of its queue.

    Loads the five example policies and invents agents, products (one past its
    end of life), customers in BR, CO, PE, IT, ES, JO and AE with named and
    un-named contacts, contracts (expired, renewed, overdue, under warranty),
    knowledge-base articles and N tickets opened over the last 12 months, each
    with a full event history, work log and sub-tickets where split.

    Without DESKCTL_DB it builds its own store, demo.db in the data dir, replaced
    on each run (your real store is never touched), and prints the line that
    points other commands at it: `export DESKCTL_DB=...`. With DESKCTL_DB set it
    writes there (created if needed) and refuses, with exit 1, a store that
    already holds tickets, customers, products or KB articles: there is no
    --force, point DESKCTL_DB at a new file instead. Times are relative to now
    (DESKCTL_NOW).

    Examples: `deskctl demo`, `deskctl demo --tickets 100000 --seed 7`.
    """
    import time

    from deskctl import clock
    from deskctl.config import acting_user, demo_store_path, explicit_database_url
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json, is_terminal, say
    from deskctl.services import demo as svc
    from deskctl.store import db

    if not 0 <= tickets <= MAX_TICKETS:
        raise BadInput(f"--tickets must be between 0 and {MAX_TICKETS:,}, not {tickets}")
    now = clock.now()
    explicit = explicit_database_url()
    fresh = None if explicit else _fresh_file(demo_store_path())
    engine = db.get_engine(explicit or f"sqlite:///{fresh}")
    started = time.perf_counter()
    result = svc.build_demo(engine, tickets=tickets, seed=seed, now=now, actor=acting_user())
    seconds = time.perf_counter() - started
    if fresh is not None:
        engine.dispose()  # closes the last connection, so SQLite folds its WAL into the file
        final_url = f"sqlite:///{demo_store_path()}"
        db.dispose(final_url)
        _replace(fresh, demo_store_path())
        engine = db.get_engine(final_url)
    with db.session(engine) as s:
        doc = svc.summary(s)
        queue = _queue(s) if not json_out and is_terminal() else []
    say(
        f"demo: {result.tickets:,} tickets, {result.events:,} events, "
        f"{result.worklog:,} work-log entries in {seconds:.1f} s into {db.redacted(engine.url)}"
    )
    if fresh is not None:
        say(f"export DESKCTL_DB={demo_store_path()}")
    if json_out:
        emit_json(
            {
                "store": db.redacted(engine.url),
                "seed": seed,
                "now": now.replace(microsecond=0),
                "first_ticket": result.first_ticket if result.tickets else None,
                "last_ticket": result.last_ticket if result.tickets else None,
                **doc,
            }
        )
        return
    _show(doc, queue)


_SIDECARS = ("-wal", "-shm", "-journal")


def _fresh_file(final: Path) -> Path:
    """An empty path next to ``final`` to build in: a failed demo leaves the last one whole."""
    import os

    fresh = final.with_name(f"{final.name}.{os.getpid()}.new")
    for path in [fresh, *(Path(f"{fresh}{s}") for s in _SIDECARS)]:
        path.unlink(missing_ok=True)
    return fresh


def _replace(fresh: Path, final: Path) -> None:
    for suffix in _SIDECARS:  # the old demo's sidecars would not match the new file
        Path(f"{final}{suffix}").unlink(missing_ok=True)
    fresh.replace(final)


def _queue(session: Any) -> list[Any]:
    """The top of `deskctl queue`: five tickets per status."""
    from deskctl.services import flow

    return flow.queue(session, flow.QueueFilter(limit=QUEUE_PER_STATUS))


def _show(doc: dict[str, Any], queue: list[Any]) -> None:
    """A person sees the top of the queue and the counts; a pipe gets ``name<TAB>count``."""
    from deskctl import clock
    from deskctl.render import queue as queue_view
    from deskctl.render.output import Column, emit_rows, is_terminal, stdout_console

    counts = [{"name": k, "count": v} for k, v in doc["counts"].items()]
    counts += [{"name": f"status.{k}", "count": v} for k, v in doc["by_status"].items()]
    columns = [Column("name", "WHAT"), Column("count", "COUNT", "right")]
    if not is_terminal():
        emit_rows(counts, columns, "tsv")
        return
    queue_view.print_queue(stdout_console(), queue, clock.now())
    emit_rows(counts, columns, "table", title="demo store")
