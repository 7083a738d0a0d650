"""Bills and invoices for people: plain text, CSV columns, and a printable HTML page.

Every function reads the bill document (``services.billing.bill_json`` /
``invoice_json``): money as Decimal, dates as ``date``. The HTML is one
self-contained file — inline CSS, no scripts, fonts or images — that prints
on A4 or Letter, one invoice per page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from html import escape
from typing import Any

from deskctl.clock import iso_z
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


_CSS = """
body { font-family: Helvetica, Arial, sans-serif; color: #111; margin: 0; font-size: 11pt; }
.invoice { max-width: 190mm; margin: 12mm auto; padding: 0 6mm; page-break-after: always; }
.invoice:last-child { page-break-after: auto; }
header { display: flex; justify-content: space-between; align-items: flex-start;
  border-bottom: 2px solid #111; padding-bottom: 4mm; margin-bottom: 6mm; }
h1 { font-size: 18pt; margin: 0 0 2mm 0; }
h2 { font-size: 12pt; margin: 6mm 0 2mm 0; }
.draft h1, .void h1 { color: #b00; }
.muted { color: #555; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 1.5mm 2mm; border-bottom: 1px solid #ccc; vertical-align: top; }
th { background: #f2f2f2; font-weight: bold; }
td.num, th.num { text-align: right; white-space: nowrap; }
table.totals { width: 45%; margin-left: auto; margin-top: 4mm; }
table.totals td { border: none; }
table.totals tr.total td { border-top: 2px solid #111; font-weight: bold; font-size: 12pt; }
.note { margin-top: 4mm; font-style: italic; }
@media print { body { font-size: 10pt; } .invoice { margin: 0 auto; } th { background: #eee; } }
"""


def invoices_html(docs: Sequence[Mapping[str, Any]]) -> str:
    """One HTML page holding each bill, one per printed page."""
    heading = title(docs[0]) if len(docs) == 1 else f"{len(docs)} bills"
    body = "\n".join(_invoice_section(d) for d in docs) or "<p>nothing to bill</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(heading)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _invoice_section(doc: Mapping[str, Any]) -> str:
    cur = doc["currency"]
    period = doc["period"]
    state = "void" if doc.get("status") == "void" else ("draft" if not doc.get("number") else "")
    issued = ""
    if doc.get("finalized_at"):
        issued = f"<div>issued {escape((iso_z(doc['finalized_at']) or '')[:10])}</div>"
    void = (
        f'<p class="note">Void: {escape(str(doc.get("void_reason") or ""))}</p>'
        if doc.get("status") == "void"
        else ""
    )
    vat_note = "" if doc.get("vat_included") else '<p class="note">Prices exclude VAT.</p>'
    return f"""<section class="invoice {state}">
<header>
<div><h1>{escape(title(doc))}</h1>
<div class="muted">period {period["from"]} to {period["to"]}</div>{issued}</div>
<div><strong>{escape(doc["vendor"] or "")}</strong></div>
</header>
<p><strong>Bill to:</strong> {escape(doc["customer_name"])}
<span class="muted">({escape(doc["customer"])}, {escape(doc.get("country") or "")})</span></p>
{_lines_table(doc["lines"], cur)}
{_totals_table(doc, cur)}
{vat_note}{void}
{_rates_table(doc.get("rates") or [], cur)}
</section>"""


def _lines_table(lines: Sequence[Mapping[str, Any]], cur: str) -> str:
    if not lines:
        return "<p>Nothing to bill in this period.</p>"
    rows = "\n".join(
        "<tr>"
        f'<td class="num">#{line["ticket"]}</td>'
        f"<td>{escape(line['description'])}</td>"
        f'<td class="num">{line["minutes"]}</td>'
        f'<td class="num">{money(line["base"], cur)}</td>'
        f'<td class="num">{line["extra_half_hours"]}</td>'
        f'<td class="num">{money(line["amount"], cur)}</td>'
        "</tr>"
        for line in lines
    )
    return (
        '<table class="lines"><thead><tr><th class="num">Ticket</th><th>Description</th>'
        '<th class="num">Minutes</th><th class="num">Base</th>'
        '<th class="num">Extra blocks</th><th class="num">Amount</th></tr></thead>'
        f"<tbody>\n{rows}\n</tbody></table>"
    )


def _totals_table(doc: Mapping[str, Any], cur: str) -> str:
    return (
        '<table class="totals">'
        f'<tr><td>Subtotal</td><td class="num">{money(doc["subtotal"], cur)}</td></tr>'
        f"<tr><td>VAT {percent(doc['vat_rate'])}</td>"
        f'<td class="num">{money(doc["vat"], cur)}</td></tr>'
        f'<tr class="total"><td>Total</td><td class="num">{money(doc["total"], cur)}</td></tr>'
        "</table>"
    )


def _rates_table(rates: Sequence[Mapping[str, Any]], cur: str) -> str:
    if not rates:
        return ""
    rows = "\n".join(
        f'<tr><td>{escape(r["item"])}</td><td class="num">{money(r["price"], cur)}</td>'
        f"<td>{escape(r['unit'])}</td></tr>"
        for r in rates
    )
    return (
        '<h2>Rates applied</h2><table class="rates"><thead><tr><th>Item</th>'
        f'<th class="num">Price</th><th>Unit</th></tr></thead><tbody>\n{rows}\n</tbody></table>'
    )
