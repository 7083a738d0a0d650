"""Bills and invoices for people: plain text, CSV columns, and the printed document.

The text and CSV read the bill document (``services.billing.bill_json`` /
``invoice_json``): money as Decimal, dates as ``date``. The printed invoice
(``templates/documents/invoice.html``, HTML or PDF) reads the same document with the
seller, buyer and ticket titles ``services.documents.invoice`` adds; it is one
self-contained file (inline CSS, the logo inlined) in the buyer's language, on A4 or
Letter by the buyer's country.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from deskctl.render.output import Column

LINE_COLUMNS = [
    Column("customer", "CUSTOMER"),
    Column("ticket", "TICKET", "right"),
    Column("minutes", "MIN", "right"),
    Column("base", "BASE", "right"),
    Column("extra_half_hours", "EXTRA", "right"),
    Column("amount", "AMOUNT", "right"),
    Column("kind", "KIND"),
    Column("description", "DESCRIPTION"),
]

INVOICE_COLUMNS = [
    Column("number", "NUMBER"),
    Column("customer", "CUSTOMER"),
    Column("period_from", "FROM"),
    Column("period_to", "TO"),
    Column("status", "STATUS"),
    Column("currency", "CUR"),
    Column("subtotal", "SUBTOTAL", "right"),
    Column("vat", "VAT", "right"),
    Column("total", "TOTAL", "right"),
    Column("finalized_at", "FINALISED"),
    Column("void_reason", "VOID REASON"),
]

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "BRL": "R$"}


def line_rows(docs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Lines of several bills, each tagged with its customer (for CSV)."""
    return [{"customer": d["customer"], **line} for d in docs for line in d["lines"]]


def percent(rate: Decimal) -> str:
    """0.22 -> ``22%``; 0.225 -> ``22.5%``."""
    value = (Decimal(rate) * 100).normalize()
    return f"{value:f}%"


def money(value: Any, currency: str = "") -> str:
    text = f"{Decimal(value):,.2f}" if value is not None else ""
    symbol = _SYMBOLS.get(currency, currency)
    return f"{symbol} {text}".strip() if text else ""


def title(doc: Mapping[str, Any]) -> str:
    if doc.get("number"):
        void = " (VOID)" if doc.get("status") == "void" else ""
        return f"Invoice {doc['number']}{void}"
    return "DRAFT — not an invoice"


def bill_text(doc: Mapping[str, Any]) -> str:
    """A bill as plain text for a terminal."""
    cur = doc["currency"]
    period = doc["period"]
    out = [
        f"{title(doc)}",
        f"{doc['vendor']} -> {doc['customer_name']} ({doc['customer']})",
        f"period {period['from']} to {period['to']}",
        "",
    ]
    if not doc["lines"]:
        out.append("nothing to bill")
    for line in doc["lines"]:
        out.append(
            f"  #{line['ticket']:<7} {line['minutes']:>5} min  {money(line['amount'], cur):>12}"
            f"  {line['description']}"
        )
    out += [
        "",
        f"  subtotal {money(doc['subtotal'], cur):>14}",
        f"  VAT {percent(doc['vat_rate']):>6} {money(doc['vat'], cur):>12}",
        f"  total    {money(doc['total'], cur):>14}",
    ]
    if not doc.get("vat_included"):
        out.append("prices exclude VAT")
    if doc.get("status") == "void":
        out.append(f"void: {doc.get('void_reason') or ''}")
    return "\n".join(out)


def invoices_html(docs: Sequence[Mapping[str, Any]]) -> str:
    """The printable document of bills or invoices (``services.documents.invoice``), each
    in its buyer's language and money format, on the first buyer's paper size."""
    from deskctl import i18n
    from deskctl.render import documents

    first = docs[0] if docs else None
    templates = first["seller"]["templates"] if first else None
    readers = [_reader(d, templates) for d in docs]
    invoices = [
        {**d, "words": i18n.words("documents/words", r.locale, override=templates), "fmt": r.fmt}
        for d, r in zip(docs, readers, strict=True)
    ]
    reader = readers[0] if readers else documents.Reader(templates=templates)
    return documents.render("invoice", reader, {"invoices": invoices})


def _reader(doc: Mapping[str, Any], templates: Any) -> Any:
    from deskctl import i18n
    from deskctl.render import documents

    buyer = doc["buyer"]
    return documents.Reader(
        locale=buyer["locale"], paper=i18n.paper_size(buyer["country"]), templates=templates
    )
