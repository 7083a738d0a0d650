"""`deskctl ticket log | worklog`: time spent on a ticket, the base of every bill."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskctl.cli._base import AtOpt, CsvOpt, JsonOpt, store_session
from deskctl.cli.ticket import ticket_app

KINDS_HELP = "connection (default), diagnosis, onsite, service or recovery (data recovery)."


def register(app: typer.Typer) -> None:
    """The commands join the ``ticket`` group when this module is imported."""


# A negative DURATION (-10m) must reach the command as an argument, not as an option.
@ticket_app.command("log", context_settings={"ignore_unknown_options": True})
def log(
    ticket_id: Annotated[int, typer.Argument(help="Ticket id.")],
    duration: Annotated[
        str,
        typer.Argument(
            help="Time spent: 25m, 1h10m or bare minutes (25). Negative (-10m) corrects, "
            "with --reason.",
            metavar="DURATION",
        ),
    ],
    note: Annotated[str | None, typer.Option("--note", help="What was done.")] = None,
    kind: Annotated[str, typer.Option("--kind", help=KINDS_HELP)] = "connection",
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why a correction (negative DURATION).")
    ] = None,
    at: str | None = AtOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Log work on a ticket. Entries are never edited: a negative entry corrects."""
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.render.output import emit_json, say
    from deskctl.services.billing import worklog as work

    minutes = work.parse_work_minutes(duration)
    work.check_work_request(minutes, kind, reason)
    now = when(at)
    with store_session(write=True) as s:
        entry = work.log_work(
            s, ticket_id, minutes, kind=kind, note=note, reason=reason, now=now, actor=acting_user()
        )
        total = work.worklog_of(s, ticket_id)["total_minutes"]
    if json_out:
        emit_json({**entry, "total_minutes": total})
    else:
        say(f"ticket {ticket_id}: {minutes:+d} min {kind} logged; {total} min in all")


def _minutes(value: Any) -> str:
    from deskctl.domain.durations import format_duration

    return format_duration(int(value) * 60) if value is not None else ""


@ticket_app.command("worklog")
def worklog(
    ticket_id: Annotated[int, typer.Argument(help="Ticket id.")],
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """A ticket's work-log entries, oldest first, with the total and the invoice of each."""
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services.billing import worklog as work

    fmt = choose_format(json_out=json_out, csv_out=csv_out)
    with store_session() as s:
        doc = work.worklog_of(s, ticket_id)
    columns = [
        Column("at", "AT"),
        Column("minutes", "TIME", "right", render=_minutes if fmt == "table" else None),
        Column("kind", "KIND"),
        Column("actor", "BY"),
        Column("invoice", "INVOICE"),
        Column("note", "NOTE"),
    ]
    emit_rows(doc["entries"], columns, fmt, json_doc=doc, empty="no work logged")
    if fmt == "table" and doc["entries"]:
        from deskctl.render.output import emit_text

        emit_text(
            f"total {_minutes(doc['total_minutes'])} "
            f"({doc['total_minutes']} min; {doc['uninvoiced_minutes']} min not invoiced)"
        )
