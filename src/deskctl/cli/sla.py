"""`deskctl sla status | report | refresh`: SLA clocks for agents, managers and cron."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, read_store, store_session, sub_app

sla_app = sub_app("SLA clocks: a ticket's status, breach reports, refreshing the queue columns.")


def register(app: typer.Typer) -> None:
    app.add_typer(sla_app, name="sla")


@sla_app.command("status")
def status(
    ticket_id: Annotated[int, typer.Argument(help="Ticket id.")],
    json_out: bool = JsonOpt,
) -> None:
    """Every SLA metric of a ticket: state, goal/limit/due (local and UTC), time used and left."""
    from deskctl import clock
    from deskctl.render.output import emit_json
    from deskctl.render.sla import print_status
    from deskctl.services import views

    with read_store() as r:
        doc = views.sla_status(r, ticket_id, clock.now())
    if json_out:
        emit_json(doc)
    else:
        print_status(doc)


@sla_app.command("report")
def report(
    from_: Annotated[str, typer.Option("--from", help="First day opened (YYYY-MM-DD, UTC).")],
    to: Annotated[str, typer.Option("--to", help="Last day opened, inclusive.")],
    customer: Annotated[str | None, typer.Option("--customer", help="Only this customer.")] = None,
    severity: Annotated[str | None, typer.Option("--severity", help="Only this severity.")] = None,
    breached_only: Annotated[
        bool, typer.Option("--breached-only", help="List only tickets with a breach.")
    ] = False,
    fail_on_breach: Annotated[
        bool, typer.Option("--fail-on-breach", help="Exit 1 when any ticket has a breach.")
    ] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a printable HTML report here.")
    ] = None,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """SLA compliance of the tickets opened in a period: per ticket, severity and customer.

    Counts met, late and breached metrics (a clock running past its goal counts as
    late so far, past its limit as breached) and the ones still open; compliance is
    the share of judged metrics that kept the contractual limit. --breached-only
    narrows the ticket list, not the totals.
    """
    from deskctl import clock
    from deskctl.errors import BadInput, Refused
    from deskctl.render.output import choose_format, say
    from deskctl.render.sla import emit_report_json, print_report, report_csv, report_html
    from deskctl.services import sla as svc

    fmt = choose_format(json_out=json_out, csv_out=csv_out)
    query = svc.ReportQuery(
        start=clock.parse_date(from_, what="--from"),
        end=clock.parse_date(to, what="--to"),
        customer=customer,
        severity=severity,
        breached_only=breached_only,
    )
    if query.end < query.start:
        raise BadInput(f"--to {query.end} is before --from {query.start}")
    if html is not None and not html.parent.is_dir():
        raise BadInput(f"--html: no directory {html.parent}")
    with store_session() as s:
        doc = svc.report(s, query, clock.now())
    if html is not None:
        try:
            html.write_text(report_html(doc), encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"--html: cannot write {html}: {exc.strerror or exc}") from None
        say(f"wrote {html}")
    if fmt == "json":
        emit_report_json(doc)
    elif fmt == "csv":
        report_csv(doc)
    else:
        print_report(doc)
    if fail_on_breach and doc["breached_tickets"]:
        raise Refused(f"{doc['breached_tickets']} ticket(s) breached their SLA in the period")


@sla_app.command("refresh")
def refresh(
    every: Annotated[
        bool, typer.Option("--all", help="Every ticket, closed ones too (after a bulk import).")
    ] = False,
    json_out: bool = JsonOpt,
) -> None:
    """Recompute the SLA columns (state, next deadline) of open tickets as of now."""
    from deskctl import clock
    from deskctl.render.output import emit_json, say
    from deskctl.services import sla as svc

    now = clock.now()
    with store_session(write=True) as s:
        count = svc.refresh(s, now, every=every)
    if json_out:
        emit_json({"refreshed": count, "at": now})
    else:
        say(f"refreshed the SLA of {count} ticket(s)")
