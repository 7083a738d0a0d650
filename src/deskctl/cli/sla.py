"""`deskctl sla status | report | refresh`: SLA clocks for agents, managers and cron."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

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
    policy: Annotated[
        str | None,
        typer.Option("--policy", help="Only tickets under this policy; its vendor heads the page."),
    ] = None,
    breached_only: Annotated[
        bool, typer.Option("--breached-only", help="List only tickets with a breach.")
    ] = False,
    fail_on_breach: Annotated[
        bool, typer.Option("--fail-on-breach", help="Exit 1 when any ticket has a breach.")
    ] = False,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", help="List at most N tickets, breached first, worst first (0: all).",
            metavar="N",
        ),
    ] = 100,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the printable report as HTML.", metavar="FILE"),
    ] = None,
    pdf: Annotated[
        Path | None,
        typer.Option("--pdf", help="Also write the printable report as PDF.", metavar="FILE"),
    ] = None,
    locale: Annotated[
        str | None,
        typer.Option(
            "--locale", help="Language of the printed report (default: the customer's or vendor's)."
        ),
    ] = None,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """SLA compliance of the tickets opened in a period: per ticket, severity and customer.

    Counts met, late and breached metrics (a clock running past its goal counts as
    late so far, past its limit as breached) and the ones still open; compliance is
    the share of judged metrics that kept the contractual limit. --breached-only
    narrows the ticket list, not the totals; the list holds at most --limit tickets
    (the JSON says how many there are: tickets_total). The printed report (--html, --pdf) puts
    a summary against the policy's compliance target first, with the previous period
    of the same length beside it, then the breaches worst first.
    """
    from deskctl import clock
    from deskctl.errors import BadInput, Refused
    from deskctl.render.documents import check_target
    from deskctl.render.output import choose_format
    from deskctl.render.sla import emit_report_json, print_report, report_csv
    from deskctl.services import sla as svc

    fmt = choose_format(json_out=json_out, csv_out=csv_out)
    query = svc.ReportQuery(
        start=clock.parse_date(from_, what="--from"),
        end=clock.parse_date(to, what="--to"),
        customer=customer,
        severity=severity,
        breached_only=breached_only,
        policy=policy,
        limit=limit,
    )
    if limit < 0:
        raise BadInput("--limit must be 0 (all) or more")
    if query.end < query.start:
        raise BadInput(f"--to {query.end} is before --from {query.start}")
    check_target(html, "--html")
    check_target(pdf, "--pdf")
    wanted_locale = _locale(locale)
    now = clock.now()
    with store_session() as s:
        doc = svc.report(s, query, now)
        printed = _printed(s, query, doc, now) if html or pdf else None
    if printed is not None:
        _write(printed, wanted_locale, html, pdf)
    if fmt == "json":
        emit_report_json(doc)
    elif fmt == "csv":
        report_csv(doc)
    else:
        print_report(doc)
    if fail_on_breach and doc["breached_tickets"]:
        raise Refused(f"{doc['breached_tickets']} ticket(s) breached their SLA in the period")


def _locale(tag: str | None) -> str | None:
    from deskctl import i18n
    from deskctl.errors import BadInput

    if tag is None:
        return None
    try:
        return i18n.normalise(tag)
    except ValueError as exc:
        raise BadInput(f"--locale: {exc}") from None


def _printed(s: Any, query: Any, doc: dict, now: Any) -> dict:
    """The report as printed: with the previous period of the same length beside it."""
    from dataclasses import replace

    from deskctl.services import documents
    from deskctl.services import sla as svc

    days = query.end - query.start
    day = timedelta(days=1)
    before = replace(query, start=query.start - days - day, end=query.start - day)
    previous = svc.report(s, before, now)
    printed = documents.sla_report(s, doc, now=now, previous=previous)
    if query.customer:
        printed["reader_customer"] = documents.buyer(
            documents.masterdata.customer_by_key(s, query.customer)
        )
    return printed


def _write(printed: dict, locale: str | None, html: Path | None, pdf: Path | None) -> None:
    from deskctl import i18n
    from deskctl.render import documents
    from deskctl.render.output import say
    from deskctl.render.sla import report_document

    issuer = printed["issuer"]
    reader_of = printed.get("reader_customer")
    country = reader_of["country"] if reader_of else issuer["country"]
    chosen = locale or (reader_of["locale"] if reader_of else None)
    reader = documents.Reader(
        locale=chosen or i18n.resolve(issuer["locale"] or None, country=country),
        timezone=printed.get("timezone", "UTC"),
        paper=i18n.paper_size(country),
        templates=issuer["templates"],
    )
    for path in documents.write(report_document(printed, reader), html_path=html, pdf_path=pdf):
        say(f"wrote {path}")


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
