"""`deskctl queue`: the working view of open tickets, most urgent first."""

import os
from datetime import datetime
from typing import Annotated

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, read_store


def register(app: typer.Typer) -> None:
    app.command("queue")(queue)


def queue(
    mine: Annotated[
        bool,
        typer.Option("--mine", help="Only tickets assigned to me (on PostgreSQL: my login's)."),
    ] = False,
    assignee: Annotated[
        str | None, typer.Option("--assignee", help="Only tickets assigned to this agent.")
    ] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team's tickets.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="At most this many tickets per status; 0 for all.")
    ] = 20,
    no_pager: Annotated[
        bool, typer.Option("--no-pager", help="Never page, even on a terminal.")
    ] = False,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """Open tickets grouped by status, ordered by severity, SLA due time, then age.

    On a terminal the view goes through $PAGER (LESS=FRX unless set: short
    output is printed as is); piped, it prints one tab-separated row per ticket.
    """
    from deskctl import clock
    from deskctl.config import acting_user
    from deskctl.errors import BadInput
    from deskctl.render import queue as view
    from deskctl.render.output import choose_format, emit_rows, say
    from deskctl.services import views as flow

    if mine and assignee:
        raise BadInput("give --mine or --assignee, not both")
    if limit < 0:
        raise BadInput("--limit must be 0 or more")
    fmt = choose_format(json_out=json_out, csv_out=csv_out)
    now = clock.now()
    with read_store() as r:
        me = flow.acting_agent(r, acting_user()) if mine else None
        flt = flow.QueueFilter(assignee=me or assignee, team=team, limit=limit)
        groups = flow.queue(r, flt)
        ranks = flow.severity_ranks(flow.policy_texts(r)) if fmt == "table" else {}
    if fmt == "json":
        filters = {"assignee": flt.assignee, "team": flt.team, "limit": flt.limit}
        emit_rows([], [], fmt, json_doc=view.queue_json(groups, now, filters))
    elif fmt == "csv":
        emit_rows(view.flat_rows(groups, now), view.CSV_KEYS, fmt)
    elif fmt == "tsv":
        emit_rows(view.flat_rows(groups, now), view.FLAT_COLUMNS, fmt)
    elif not groups:
        say("queue is empty")
    else:
        _print_paged(groups, now, ranks, page=not no_pager)


def _print_paged(groups: list, now: datetime, ranks: dict[str, int], *, page: bool) -> None:
    from deskctl.render import queue as view
    from deskctl.render.output import no_color, stdout_console

    console = stdout_console()
    if not page:
        view.print_queue(console, groups, now, ranks)
        return
    # Like git: quit if one screen, keep colours, do not clear the screen.
    os.environ.setdefault("LESS", "FRX")
    with console.pager(styles=not no_color()):
        view.print_queue(console, groups, now, ranks)
