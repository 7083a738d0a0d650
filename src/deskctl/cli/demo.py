"""`deskctl demo`: fill an empty store with a realistic demo."""

from __future__ import annotations

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

    Writes into DESKCTL_DB (created if needed). Refuses, with exit 1, a store
    that already holds tickets, customers, products or KB articles: there is no
    --force, point DESKCTL_DB at a new file instead. Times are relative to now
    (DESKCTL_NOW).
    """
    import time

    from deskctl import clock
    from deskctl.config import acting_user
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json, is_terminal, say
    from deskctl.services import demo as svc
    from deskctl.store import db

    if not 0 <= tickets <= MAX_TICKETS:
        raise BadInput(f"--tickets must be between 0 and {MAX_TICKETS:,}, not {tickets}")
    now = clock.now()
    engine = db.default_engine()
    started = time.perf_counter()
    result = svc.build_demo(engine, tickets=tickets, seed=seed, now=now, actor=acting_user())
    seconds = time.perf_counter() - started
    with db.session(engine) as s:
        doc = svc.summary(s)
        queue = _queue(s) if not json_out and is_terminal() else []
    say(
        f"demo: {result.tickets:,} tickets, {result.events:,} events, "
        f"{result.worklog:,} work-log entries in {seconds:.1f} s into {db.redacted(engine.url)}"
    )
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
