"""`deskctl report overview | findings`: helpdesk call analysis for managers (seed 004)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, store_session, sub_app

report_app = sub_app(
    "Reports: volumes, business times, SLA trend, backlog, and findings on training, "
    "software and equipment."
)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


FromOpt = typer.Option("--from", help="First day (YYYY-MM-DD, UTC) of tickets opened.")
ToOpt = typer.Option("--to", help="Last day (YYYY-MM-DD, UTC), included.")
HtmlOpt = typer.Option(
    "--html", help="Write a self-contained printable HTML report to FILE.", metavar="FILE"
)
PdfOpt = typer.Option("--pdf", help="Write the report as a PDF to FILE.", metavar="FILE")
CsvTableOpt = typer.Option(
    "--csv-table", help="Print this table as CSV (see the JSON keys); default the main one."
)


def _output_format(json_out: bool, csv_out: bool, csv_table: str | None, html: str | None) -> str:
    from deskctl.errors import BadInput

    chosen = [
        n
        for n, on in (
            ("--json", json_out),
            ("--csv", csv_out or bool(csv_table)),
            ("--html", bool(html)),
        )
        if on
    ]
    if len(chosen) > 1:
        raise BadInput(f"choose one of {', '.join(chosen)}")
    if json_out:
        return "json"
    if csv_out or csv_table:
        return "csv"
    if html:
        return "html"
    return "text"


def _range(date_from: str, date_to: str) -> tuple[Any, Any]:
    from deskctl import clock
    from deskctl.services.reports import check_range

    first = clock.parse_date(date_from, what="--from")
    last = clock.parse_date(date_to, what="--to")
    check_range(first, last)
    return first, last


@report_app.command("overview")
def overview(
    date_from: Annotated[str, FromOpt],
    date_to: Annotated[str, ToOpt],
    customer: Annotated[str | None, typer.Option("--customer", help="Only this customer.")] = None,
    product: Annotated[str | None, typer.Option("--product", help="Only this product.")] = None,
    by: Annotated[str, typer.Option("--by", help="SLA trend per week or month.")] = "month",
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
    csv_table: Annotated[str | None, CsvTableOpt] = None,
    html: Annotated[str | None, HtmlOpt] = None,
    pdf: Annotated[str | None, PdfOpt] = None,
) -> None:
    """Tickets opened in a period: volumes, business times, SLA trend, backlog, quality, billing."""
    from deskctl import clock
    from deskctl.domain.analysis import PERIODS
    from deskctl.errors import BadInput
    from deskctl.render import report as render
    from deskctl.render.output import emit_json
    from deskctl.services import reports as svc

    fmt = _output_format(json_out, csv_out, csv_table, html)
    first, last = _range(date_from, date_to)
    if by not in PERIODS:
        raise BadInput(f"--by: {by!r} is not one of {', '.join(PERIODS)}")
    with store_session() as s:
        scope = svc.make_scope(s, first, last, customer=customer, product=product)
        doc = svc.overview(s, scope, by=by, now=clock.now(), beside=True)
    if fmt == "csv":
        tables = render.overview_tables(doc)
        render.emit_csv(render.pick_table(tables, csv_table))
    elif fmt == "json":
        emit_json(doc)
    elif fmt == "html" or pdf:
        _write(render.overview_html(doc), html, pdf)
    else:
        render.print_overview(doc)


@report_app.command("findings")
def findings(
    date_from: Annotated[str, FromOpt],
    date_to: Annotated[str, ToOpt],
    misuse_repeats: Annotated[
        int,
        typer.Option("--misuse-repeats", help="Misuse tickets on a topic that call for training."),
    ] = 2,
    min_defects: Annotated[
        int,
        typer.Option("--min-defects", help="Defect tickets before a version or model is named."),
    ] = 3,
    share_ratio: Annotated[
        float,
        typer.Option("--share-ratio", help="How many times the average share is 'well above'."),
    ] = 1.5,
    recur_days: Annotated[
        int,
        typer.Option(
            "--recur-days", help="A new ticket this many days after a resolved one comes back."
        ),
    ] = 30,
    min_comebacks: Annotated[
        int,
        typer.Option("--min-comebacks", help="Reopens plus recurrences that make a root cause."),
    ] = 2,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", help="List at most N tickets per finding, lowest ids first (0: all)."
        ),
    ] = 100,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
    html: Annotated[str | None, HtmlOpt] = None,
    pdf: Annotated[str | None, PdfOpt] = None,
) -> None:
    """Findings: where users need training, and which software or equipment needs updating.

    Each finding lists its first --limit tickets and how many there are (tickets_total).
    """
    from deskctl import clock
    from deskctl.domain.analysis import Thresholds
    from deskctl.render import report as render
    from deskctl.render.output import emit_json
    from deskctl.services import findings as svc
    from deskctl.services.reports import make_scope

    fmt = _output_format(json_out, csv_out, None, html)
    first, last = _range(date_from, date_to)
    thresholds = Thresholds(misuse_repeats, min_defects, share_ratio, recur_days, min_comebacks)
    thresholds.check()
    with store_session() as s:
        scope = make_scope(s, first, last)
        doc = svc.findings(s, scope, thresholds, now=clock.now(), limit=limit, beside=True)
    if fmt == "csv":
        render.emit_csv(render.findings_tables(doc)[0])
    elif fmt == "json":
        emit_json(doc)
    elif fmt == "html" or pdf:
        _write(render.findings_html(doc), html, pdf)
    else:
        render.print_findings(doc)


def _write(page: str, html: str | None, pdf: str | None) -> None:
    """The report as HTML and/or PDF; with --pdf alone nothing else is printed."""
    from pathlib import Path

    from deskctl.render import documents
    from deskctl.render.output import say

    html_path, pdf_path = (Path(html) if html else None), (Path(pdf) if pdf else None)
    documents.check_target(html_path, "--html")
    documents.check_target(pdf_path, "--pdf")
    for path in documents.write(page, html_path=html_path, pdf_path=pdf_path):
        say(f"wrote {path}")
