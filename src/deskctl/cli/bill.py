"""`deskctl bill [finalize]` and `deskctl invoice list | show | void` (docs/rules.md §7)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from deskctl.cli._base import (
    AtOpt,
    CsvOpt,
    DeskGroup,
    JsonOpt,
    read_store,
    store_session,
    sub_app,
)

bill_app = typer.Typer(
    cls=DeskGroup,
    help="Bills. `bill --customer C --from D --to D` prints a draft (nothing stored) of the "
    "work logged in the period and not yet invoiced; `bill finalize` stores it as a numbered "
    "invoice.",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
)
invoice_app = sub_app("Finalised invoices: list, show or print, void.")

CustomerOpt = typer.Option(None, "--customer", help="Customer key.")
AllOpt = typer.Option(False, "--all", help="Every customer with something to bill.")
FromOpt = typer.Option(None, "--from", help="First day of the period (YYYY-MM-DD, UTC).")
ToOpt = typer.Option(None, "--to", help="Last day of the period, included.")
HtmlOpt = typer.Option(
    None, "--html", help="Also write the printable invoice as HTML to FILE.", metavar="FILE"
)
PdfOpt = typer.Option(
    None, "--pdf", help="Also write the printable invoice as PDF to FILE.", metavar="FILE"
)


def register(app: typer.Typer) -> None:
    app.add_typer(bill_app, name="bill")
    app.add_typer(invoice_app, name="invoice")


def _request(customer: str | None, every: bool, start: str | None, end: str | None) -> Any:
    """(customer or None for all, from, to), validated before the store is opened."""
    from deskctl.cli._base import optional_date
    from deskctl.errors import BadInput

    if bool(customer) == every:
        raise BadInput("give --customer C or --all")
    if not start or not end:
        raise BadInput("give the period: --from YYYY-MM-DD --to YYYY-MM-DD")
    period_from, period_to = optional_date(start, "--from"), optional_date(end, "--to")
    if period_to < period_from:
        raise BadInput(f"--to {period_to} is before --from {period_from}")
    return customer, period_from, period_to


def _targets(html: str | None, pdf: str | None) -> tuple[Path | None, Path | None]:
    from deskctl.render.documents import check_target

    paths = (Path(html) if html else None, Path(pdf) if pdf else None)
    check_target(paths[0], "--html")
    check_target(paths[1], "--pdf")
    return paths


def _printed(s: Any, docs: list[dict]) -> list[dict]:
    """The bills with what the printed invoice shows beyond the figures."""
    from deskctl import clock
    from deskctl.services import documents

    today = clock.now().date()
    return [documents.invoice(s, d, today=today) for d in docs]


def _write(printed: list[dict], html: Path | None, pdf: Path | None) -> None:
    from deskctl.render import documents
    from deskctl.render.invoice import invoices_html
    from deskctl.render.output import say

    if html is None and pdf is None:
        return
    for path in documents.write(invoices_html(printed), html_path=html, pdf_path=pdf):
        say(f"wrote {path}")


def _emit(docs: list[dict], *, single: bool, json_out: bool, csv_out: bool) -> None:
    from deskctl.render.invoice import LINE_COLUMNS, bill_text, line_rows
    from deskctl.render.output import emit_json, emit_rows

    if json_out:
        emit_json(docs[0] if single else docs)
    elif csv_out:
        emit_rows(line_rows(docs), LINE_COLUMNS, "csv")
    elif not docs:
        from deskctl.render.output import emit_text

        emit_text("nothing to bill")
    else:
        from deskctl.render.output import emit_text

        emit_text("\n\n".join(bill_text(d) for d in docs))


@bill_app.callback()
def bill(
    ctx: typer.Context,
    customer: str | None = CustomerOpt,
    every: bool = AllOpt,
    start: str | None = FromOpt,
    end: str | None = ToOpt,
    html: str | None = HtmlOpt,
    pdf: str | None = PdfOpt,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """A draft bill (nothing stored) of the work logged in the period and not yet invoiced.

    With --all, a list of the customers that have something to bill.
    """
    if ctx.invoked_subcommand is not None:
        return
    from deskctl.render.output import choose_format
    from deskctl.services.billing import drafts

    choose_format(json_out=json_out, csv_out=csv_out)
    who, period_from, period_to = _request(customer, every, start, end)
    html_path, pdf_path = _targets(html, pdf)
    with store_session() as s:
        docs = [drafts.bill_json(b) for b in drafts.draft(s, who, period_from, period_to)]
        printed = _printed(s, docs) if html_path or pdf_path else []
    _write(printed, html_path, pdf_path)
    _emit(docs, single=not every, json_out=json_out, csv_out=csv_out)


@bill_app.command("finalize")
def finalize(
    customer: str | None = CustomerOpt,
    every: bool = AllOpt,
    start: str | None = FromOpt,
    end: str | None = ToOpt,
    at: str | None = AtOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Store the bill as an invoice with the next number, and lock its lines for good.

    Refused (exit 1) when there is nothing left to bill. With --all, one invoice per
    customer, numbered in customer order; --json prints a list then. Print one with
    `deskctl invoice show NUMBER --html FILE`.
    """
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.render.output import say
    from deskctl.services.billing import invoices

    who, period_from, period_to = _request(customer, every, start, end)
    now = when(at)
    with store_session(write=True) as s:
        docs = invoices.finalize(s, who, period_from, period_to, now=now, actor=acting_user())
    for doc in docs:
        say(f"invoice {doc['number']} for {doc['customer']}: {doc['total']} {doc['currency']}")
    if json_out:
        _emit(docs, single=not every, json_out=True, csv_out=False)
    else:
        from deskctl.render.output import emit_lines

        emit_lines(doc["number"] for doc in docs)


@invoice_app.command("list")
def list_(
    customer: str | None = CustomerOpt,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """Invoices in number order, void ones included."""
    from deskctl.render.invoice import INVOICE_COLUMNS
    from deskctl.render.output import choose_format, emit_rows
    from deskctl.services import views

    fmt = choose_format(json_out=json_out, csv_out=csv_out)
    with read_store() as r:
        rows = views.list_invoices(r, customer)
    emit_rows(rows, INVOICE_COLUMNS, fmt, empty="no invoices")


@invoice_app.command("show")
def show(
    number: Annotated[str, typer.Argument(help="Invoice number, e.g. INV-2026-0001.")],
    html: str | None = HtmlOpt,
    pdf: str | None = PdfOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Show an invoice, or write it for print with --html FILE or --pdf FILE."""
    from deskctl.render.invoice import bill_text
    from deskctl.render.output import emit_json
    from deskctl.services.billing import invoices

    html_path, pdf_path = _targets(html, pdf)
    with store_session() as s:
        doc = invoices.invoice_json(s, number)
        printed = _printed(s, [doc]) if html_path or pdf_path else []
    _write(printed, html_path, pdf_path)
    if json_out:
        emit_json(doc)
    elif not (html or pdf):
        from deskctl.render.output import emit_text

        emit_text(bill_text(doc))


@invoice_app.command("void")
def void(
    number: Annotated[str, typer.Argument(help="Invoice number.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is void (required).")],
    at: str | None = AtOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Void an invoice: it keeps its number (never reused) and its lines can be billed again."""
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json, say
    from deskctl.services.billing import invoices

    if not reason.strip():
        raise BadInput("--reason must say why the invoice is void")
    now = when(at)
    with store_session(write=True) as s:
        doc = invoices.void(s, number, reason, now=now, actor=acting_user())
    if json_out:
        emit_json(doc)
    else:
        say(f"invoice {doc['number']} is void; its {len(doc['lines'])} line(s) can be billed again")
