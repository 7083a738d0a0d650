"""The overview and findings reports for people: terminal, CSV tables and a printable HTML page.

A report document (the ``--json`` output) is cut into named tables; ``--csv``
prints the main one, ``--csv-table NAME`` any other. The HTML page is self-
contained (inline CSS and SVG, no script, no network) and prints on A4 with a
page break before each major part.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from deskctl.domain.numbers import percent
from deskctl.errors import BadInput
from deskctl.render import charts
from deskctl.render.output import is_terminal, to_jsonable

NONE = "(none)"
VOLUME_TITLES = {
    "channel": "Channel",
    "category": "Category",
    "topic": "Topic",
    "product": "Product and version",
    "severity": "Severity",
    "customer": "Customer",
    "agent": "Agent",
}
FINDING_TITLES = {
    "training_need": "Training needs",
    "update_needed": "Software to update",
    "equipment_replace": "Equipment to update or replace",
    "root_cause": "Root causes to fix",
}
TERMINAL_TOP = 10
HTML_TOP = 15


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


# -- formatting --------------------------------------------------------------------------


def hours(seconds: int | None) -> str:
    """Business time for people, like every other span on screen: ``2h04m``, ``58h14m``,
    ``45m`` (hours, not days: 24 business hours are several days); a dash when unknown."""
    if seconds is None:
        return "—"
    h, m = divmod(round(seconds / 60), 60)
    return f"{h}h{m:02d}m" if h else f"{m}m"


def pct(share: float | None) -> str:
    """The reports' percentages: one decimal, an em dash when nothing was decided."""
    return percent(share, 1, none="—")


def label(value: Any) -> str:
    return NONE if value is None or value == "" else str(value)


def _volume_label(dimension: str, row: Mapping[str, Any]) -> str:
    if dimension == "product":
        if row["product"] is None:
            return NONE
        return f"{row['product']} {row['version'] or ''}".strip()
    return label(row[dimension])


# -- tables ------------------------------------------------------------------------------


def overview_tables(doc: Mapping[str, Any]) -> list[Table]:
    """Every table of the overview; the first (summary) is the main one."""
    summary = [{"figure": k, "value": v} for k, v in doc["summary"].items()]
    tables = [Table("summary", "Summary", ("figure", "value"), summary)]
    for dim, rows in doc["volumes"].items():
        keys = ("product", "version") if dim == "product" else (dim,)
        tables.append(Table(dim, f"Tickets by {dim}", (*keys, "tickets", "share"), rows))
    tables.append(
        Table(
            "times",
            "Business time to first response and resolution",
            ("metric", "severity", "tickets", "median_seconds", "p90_seconds"),
            doc["times"],
        )
    )
    trend_cols = ("period", "start", "tickets", "met", "late", "breached", "open", "unknown")
    tables.append(
        Table(
            "sla_trend",
            "SLA compliance trend",
            (*trend_cols, "decided", "compliance", "met_rate"),
            doc["sla_trend"],
        )
    )
    tables.append(Table("backlog", "Backlog by age", ("bucket", "tickets"), doc["backlog"]))
    tables.append(Table("worklog", "Logged minutes by kind", ("kind", "minutes"), doc["worklog"]))
    return tables


def findings_tables(doc: Mapping[str, Any]) -> list[Table]:
    rows = [
        {
            "kind": f["kind"],
            "subject": f["subject"],
            "message": f["message"],
            "tickets": " ".join(str(t) for t in f["tickets"]),
            "tickets_total": f.get("tickets_total", len(f["tickets"])),
            "evidence": json.dumps(to_jsonable(f["evidence"]), sort_keys=True),
        }
        for f in doc["findings"]
    ]
    return [
        Table(
            "findings",
            "Findings",
            ("kind", "subject", "message", "tickets", "tickets_total", "evidence"),
            rows,
        )
    ]


def pick_table(tables: Sequence[Table], name: str | None) -> Table:
    if name is None:
        return tables[0]
    for table in tables:
        if table.name == name:
            return table
    raise BadInput(f"--csv-table: no table {name!r}; tables: {', '.join(t.name for t in tables)}")


def emit_csv(table: Table) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(_csv_cell(row.get(k)) for k in table.columns)


def _csv_cell(value: Any) -> Any:
    value = to_jsonable(value)
    return "" if value is None else value


# -- terminal ------------------------------------------------------------------------------


def _console() -> Any:
    from deskctl.render.output import stdout_console

    return stdout_console()


def _heading(doc: Mapping[str, Any], what: str) -> str:
    scope = [f"{doc['from']} to {doc['to']}"]
    if doc.get("customer"):
        scope.append(f"customer {doc['customer']}")
    if doc.get("product"):
        scope.append(f"product {doc['product']}")
    return f"{what}: " + ", ".join(scope)


def print_overview(doc: Mapping[str, Any]) -> None:
    """The overview for a person: figures, bar charts and sparklines (plain text when piped)."""
    from rich.table import Table as RichTable

    out = _console()
    s = doc["summary"]
    out.print(f"[bold]{escape_markup(_heading(doc, 'Helpdesk overview'))}[/bold]")
    out.print(
        f"  tickets opened {s['tickets']} · closed {s['closed']} · "
        f"open at {doc['to']}: {s['backlog']}\n"
        f"  SLA compliance {pct(s['sla_compliance'])} of {s['sla_decided']} decided "
        f"(within goal {pct(s['sla_met_rate'])})\n"
        f"  reopen rate {pct(s['reopen_rate'])} ({s['reopened']} of {s['closed_once']} closed) · "
        f"rejected solutions {pct(s['rejected_solution_rate'])} "
        f"({s['solutions_rejected']} of {s['solutions_proposed']})\n"
        f"  billable minutes {s['billable_minutes']} · revenue {revenue_text(s)}"
    )
    times = RichTable(box=None, header_style="bold", pad_edge=False)
    for name in ("metric", "severity", "tickets", "median", "p90"):
        times.add_column(name, justify="left" if name in ("metric", "severity") else "right")
    for row in doc["times"]:
        times.add_row(
            row["metric"],
            row["severity"] or "all",
            str(row["tickets"]),
            hours(row["median_seconds"]),
            hours(row["p90_seconds"]),
        )
    _section(out, "Business time to first response and resolution")
    out.print(times)
    _print_trend(out, doc)
    for dim, rows in doc["volumes"].items():
        _print_bars(out, f"Tickets by {dim}", [(_volume_label(dim, r), r["tickets"]) for r in rows])
    _print_bars(
        out,
        f"Backlog at the end of {doc['to']}, by age",
        [(r["bucket"], r["tickets"]) for r in doc["backlog"]],
        top=None,
    )


def escape_markup(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def _section(out: Any, title: str) -> None:
    out.print()
    out.print(f"[bold]{escape_markup(title)}[/bold]")


def _print_bars(
    out: Any, title: str, rows: Sequence[tuple[str, int]], top: int | None = TERMINAL_TOP
) -> None:
    from rich.table import Table as RichTable
    from rich.text import Text

    _section(out, title)
    if not rows:
        out.print("  no tickets")
        return
    table = RichTable(box=None, show_header=False, pad_edge=False)
    table.add_column("value", max_width=30, no_wrap=True, overflow="ellipsis")
    table.add_column("n", justify="right")
    table.add_column("bar", no_wrap=True)
    shown = list(rows if top is None else rows[:top])
    maximum = max(n for _, n in rows)
    for name, n in shown:
        table.add_row(Text(name), str(n), Text(charts.bar(n, maximum, 30), style="cyan"))
    if top is not None and len(rows) > top:
        rest = sum(n for _, n in rows[top:])
        table.add_row(Text(f"… {len(rows) - top} more"), str(rest), Text(""))
    out.print(table)


def _print_trend(out: Any, doc: Mapping[str, Any]) -> None:
    from rich.table import Table as RichTable
    from rich.text import Text

    trend = doc["sla_trend"]
    _section(out, f"SLA compliance by {doc['by']}")
    out.print(
        Text(
            f"  compliance {charts.sparkline([p['compliance'] for p in trend], low=0, high=1)}"
            f"   tickets {charts.sparkline([p['tickets'] for p in trend], low=0)}"
        )
    )
    table = RichTable(box=None, header_style="bold", pad_edge=False)
    for name in ("period", "tickets", "met", "late", "breached", "open", "unknown", "compliance"):
        table.add_column(name, justify="left" if name == "period" else "right")
    table.add_column("", no_wrap=True)
    for p in trend:
        table.add_row(
            p["period"],
            *(str(p[k]) for k in ("tickets", "met", "late", "breached", "open", "unknown")),
            pct(p["compliance"]),
            Text(charts.bar(p["compliance"] or 0, 1, 10), style="green"),
        )
    out.print(table)


def print_findings(doc: Mapping[str, Any]) -> None:
    # one print of every line: rich's cost is per call (markup, wrap, render), and a
    # year at 1M has 3,600 findings, 10,800 lines. A pipe or a file wraps nothing
    # (``stdout_console``), so rich is not asked to find where it would either: 1.3 s
    # printed one by one and wrapped, 0.4-0.7 s so (the same bytes)
    out = _console()
    out.print("\n".join(_findings_lines(doc)), soft_wrap=not is_terminal())


def _findings_lines(doc: Mapping[str, Any]) -> list[str]:
    """The findings as rich markup, a line each (a section's title starts with a blank)."""
    found = doc["findings"]
    lines = [
        f"[bold]{escape_markup(_heading(doc, 'Helpdesk findings'))}[/bold]",
        f"{doc['tickets']} tickets analysed; {len(found)} finding(s)",
    ]
    for kind, title in FINDING_TITLES.items():
        of_kind = [f for f in found if f["kind"] == kind]
        if not of_kind:
            continue
        lines.append(f"\n[bold]{escape_markup(title)}[/bold]")
        for f in of_kind:
            lines.append(f"• [bold]{escape_markup(f['subject'])}[/bold]")
            lines.append(f"  {escape_markup(f['message'])}")
            lines.append(f"  tickets: {escape_markup(_ticket_list(f))}")
            series = f["evidence"].get("monthly_defects")
            if series:
                lines.append(
                    f"  defects per month: {charts.sparkline(list(series.values()), low=0)} "
                    f"{' '.join(map(str, series.values()))}"
                )
    if not found:
        lines.append("nothing stands out")
    return lines


def _ticket_list(f: Mapping[str, Any], limit: int = 30) -> str:
    """A finding's first tickets; "and K more" counts the ones left out here and by
    the report's --limit (``tickets_total``)."""
    ids = f["tickets"][:limit]
    more = int(f.get("tickets_total", len(f["tickets"]))) - len(ids)
    return " ".join(f"#{i}" for i in ids) + (f" … and {more} more" if more > 0 else "")


# -- HTML ------------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 14mm 12mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #666; } }
* { box-sizing: border-box; }
body { font-family: "Liberation Sans", "Helvetica Neue", Arial, sans-serif; color: #1a1a1a;
       margin: 0 auto; max-width: 190mm; font-size: 10.5pt; line-height: 1.35; }
h1 { font-size: 20pt; margin: 0 0 2mm; }
h2 { font-size: 14pt; border-bottom: 1.5pt solid #37648c; padding-bottom: 1mm; margin: 7mm 0 3mm;
     break-after: avoid; page-break-after: avoid; }
h3 { font-size: 11.5pt; margin: 4mm 0 2mm; break-after: avoid; page-break-after: avoid; }
p.meta { color: #555; margin: 0 0 4mm; }
.part { margin-top: 4mm; }
.figures { display: grid; grid-template-columns: repeat(4, 1fr); gap: 3mm; }
.figure { border: 0.5pt solid #b0bec5; border-radius: 2mm; padding: 2mm 3mm; }
.figure .n { font-size: 15pt; font-weight: bold; display: block; }
.figure .k { color: #555; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 4mm; }
th, td { text-align: left; padding: 1mm 2mm; border-bottom: 0.5pt solid #cfd8dc;
         vertical-align: top; }
th { background: #eceff1; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr { break-inside: avoid; page-break-inside: avoid; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 2mm 0; }
article.finding svg.chart { max-width: 60%; max-height: 40mm; }
svg text { font-family: inherit; fill: #1a1a1a; }
article.finding { border-left: 1.5mm solid #37648c; padding: 1mm 0 1mm 4mm; margin: 0 0 3mm;
                  break-inside: avoid; page-break-inside: avoid; }
article.finding p { margin: 1mm 0; }
.tickets { color: #333; font-size: 9.5pt; }
table.findings td, table.findings th { font-size: 8.5pt; padding: 0.8mm 1.5mm; }
table.findings td:first-child { width: 32%; font-weight: bold; }
table.findings td:last-child { width: 24%; color: #333; }
p.advice { margin: 0 0 1mm; color: #37648c; }
.empty { color: #555; font-style: italic; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@media print { body { max-width: none; } }
"""


def _page(title: str, body: Sequence[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _meta(doc: Mapping[str, Any]) -> str:
    return (
        f'<p class="meta">{escape(_heading(doc, "Tickets opened"))} · generated '
        f"{escape(str(to_jsonable(doc['generated_at'])))}</p>"
    )


def _html_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    numeric: Sequence[bool] | None = None,
) -> str:
    nums = numeric or [False] * len(headers)
    head = "".join(
        f"<th{' class=num' if n else ''}>{escape(h)}</th>"
        for h, n in zip(headers, nums, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if n else ''}>{escape(str(c))}</td>"
            for c, n in zip(row, nums, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(value: Any, key: str) -> str:
    return (
        f'<div class="figure"><span class="n">{escape(str(value))}</span>'
        f'<span class="k">{escape(key)}</span></div>'
    )


def overview_html(doc: Mapping[str, Any]) -> str:
    s = doc["summary"]
    title = _heading(doc, "Helpdesk overview")
    figures = [
        (s["tickets"], "tickets opened"),
        (s["closed"], "closed"),
        (s["backlog"], f"open at {doc['to']}"),
        (pct(s["sla_compliance"]), "SLA compliance"),
        (hours(s["response_median_seconds"]), "median first response"),
        (hours(s["resolution_median_seconds"]), "median resolution"),
        (pct(s["reopen_rate"]), "reopen rate"),
        (pct(s["rejected_solution_rate"]), "rejected solutions"),
        (s["billable_minutes"], "billable minutes"),
        (revenue_text(s), "invoiced: finalised invoices, VAT excl. (drafts not counted)"),
    ]
    body = [
        "<header><h1>Helpdesk overview</h1>",
        _meta(doc),
        "</header>",
        '<section><h2>Summary</h2><div class="figures">'
        + "".join(_figure(v, k) for v, k in figures)
        + "</div></section>",
        _times_html(doc),
        _trend_html(doc),
        _backlog_html(doc),
        _volumes_html(doc),
        _quality_html(doc),
    ]
    return _page(title, body)


def _times_html(doc: Mapping[str, Any]) -> str:
    rows = [
        (
            r["metric"],
            r["severity"] or "all",
            r["tickets"],
            hours(r["median_seconds"]),
            hours(r["p90_seconds"]),
        )
        for r in doc["times"]
    ]
    return (
        "<section><h2>Response and resolution times</h2>"
        "<p>Business time on each ticket's plan calendar, from the policy's clock start.</p>"
        + _html_table(
            ("metric", "severity", "tickets", "median", "p90"),
            rows,
            (False, False, True, True, True),
        )
        + "</section>"
    )


def _trend_html(doc: Mapping[str, Any]) -> str:
    trend = doc["sla_trend"]
    labels = [p["period"] for p in trend]
    chart = charts.svg_stacked_columns(
        labels,
        [
            ("met", [p["met"] for p in trend], charts.MET),
            ("late", [p["late"] for p in trend], charts.LATE),
            ("breached", [p["breached"] for p in trend], charts.BREACHED),
            ("open", [p["open"] for p in trend], charts.OPEN),
            ("unknown", [p["unknown"] for p in trend], charts.UNKNOWN),
        ],
        label=f"SLA states by {doc['by']}",
        line=[p["compliance"] for p in trend],
        line_name="compliance",
    )
    rows = [
        (
            p["period"],
            p["tickets"],
            p["met"],
            p["late"],
            p["breached"],
            p["open"],
            p["unknown"],
            pct(p["compliance"]),
        )
        for p in trend
    ]
    headers = ("period", "tickets", "met", "late", "breached", "open", "unknown", "compliance")
    return (
        f"<section><h2>SLA compliance by {escape(doc['by'])}</h2>{chart}"
        + _html_table(headers, rows, (False, *[True] * 7))
        + "</section>"
    )


def _backlog_html(doc: Mapping[str, Any]) -> str:
    rows = doc["backlog"]
    chart = charts.svg_hbars(
        [(r["bucket"], r["tickets"]) for r in rows], label=f"Backlog at {doc['to']}"
    )
    return f"<section><h2>Backlog at {escape(str(doc['to']))}</h2>{chart}</section>"


def _volumes_html(doc: Mapping[str, Any]) -> str:
    parts = ['<div class="part"><h2>Ticket volumes</h2>']
    for dim, rows in doc["volumes"].items():
        shown = rows[:HTML_TOP]
        pairs = [(_volume_label(dim, r), r["tickets"]) for r in shown]
        texts = [f"{r['tickets']} ({pct(r['share'])})" for r in shown]
        if len(rows) > HTML_TOP:
            rest = sum(r["tickets"] for r in rows[HTML_TOP:])
            pairs.append((f"{len(rows) - HTML_TOP} others", rest))
            texts.append(str(rest))
        chart = (
            charts.svg_hbars(pairs, label=f"Tickets by {dim}", value_text=texts)
            if pairs
            else '<p class="empty">no tickets</p>'
        )
        parts.append(f"<section><h3>{escape(VOLUME_TITLES[dim])}</h3>{chart}</section>")
    parts.append("</div>")
    return "".join(parts)


def revenue_text(s: Mapping[str, Any]) -> str:
    """Revenue with its currency: ``2990.00 EUR``; each currency when several were
    invoiced; ``none finalised`` rather than a bare 0.00 that reads as a loss."""
    by_currency = s.get("revenue_by_currency") or {}
    if not by_currency:
        return "none finalised"
    return " + ".join(f"{amount} {currency}" for currency, amount in by_currency.items())


def _quality_html(doc: Mapping[str, Any]) -> str:
    s = doc["summary"]
    rows = [
        ("tickets closed at least once", s["closed_once"]),
        ("reopened (tickets)", s["reopened"]),
        ("reopen events", s["reopen_events"]),
        ("reopen rate", pct(s["reopen_rate"])),
        ("solutions proposed", s["solutions_proposed"]),
        ("solutions rejected", s["solutions_rejected"]),
        ("rejected-solution rate", pct(s["rejected_solution_rate"])),
        ("billable minutes", s["billable_minutes"]),
        ("revenue (finalised invoices, VAT excl.)", revenue_text(s)),
    ]
    work = [(r["kind"], r["minutes"]) for r in doc["worklog"]]
    return (
        '<div class="part"><h2>Quality and billing</h2><section>'
        + _html_table(("figure", "value"), rows, (False, True))
        + "</section><section><h3>Logged minutes by kind</h3>"
        + (
            _html_table(("kind", "minutes"), work, (False, True))
            if work
            else '<p class="empty">no work logged</p>'
        )
        + "</section></div>"
    )


# What to do about a kind of finding, said once above its table (each finding's own
# message ends with it).
FINDING_ADVICE = {
    "training_need": "users need training on it (send the knowledge-base guide, plan a session)",
    "update_needed": "plan an update or a fix release",
    "equipment_replace": "check whether it needs updating or replacing",
    "root_cause": "look for the root cause",
}
FINDING_TICKETS_SHOWN = 12


def findings_html(doc: Mapping[str, Any]) -> str:
    """Findings grouped by kind, one compact table row each: what, the figures behind it
    (never the thresholds that raised it: those stay in --json), its tickets."""
    found = doc["findings"]
    body = [
        "<header><h1>Helpdesk findings</h1>",
        _meta(doc),
        f"<p>{doc['tickets']} tickets analysed; {len(found)} finding(s).</p></header>",
    ]
    counts = [(FINDING_TITLES[k], sum(1 for f in found if f["kind"] == k)) for k in FINDING_TITLES]
    body.append(
        "<section><h2>Summary</h2>"
        + charts.svg_hbars(counts, label="Findings by kind")
        + "</section>"
    )
    for kind, title in FINDING_TITLES.items():
        of_kind = [f for f in found if f["kind"] == kind]
        body.append(f"<section><h2>{escape(title)}</h2>")
        if not of_kind:
            body.append('<p class="empty">nothing stands out</p>')
        else:
            body.append(f'<p class="advice">{escape(FINDING_ADVICE[kind].capitalize())}.</p>')
            rows = [
                (
                    f["subject"],
                    _finding_detail(f),
                    _ticket_list(f, FINDING_TICKETS_SHOWN),
                )
                for f in of_kind
            ]
            body.append(
                _html_table(("Finding", "Figures", "Tickets"), rows).replace(
                    "<table>", '<table class="findings">', 1
                )
            )
        body.append("</section>")
    return _page(_heading(doc, "Helpdesk findings"), body)


def _finding_detail(f: Mapping[str, Any]) -> str:
    """The figures of a finding: its message without the advice its section states."""
    evidence = f["evidence"]
    if f["kind"] == "training_need":
        contacts = evidence.get("contacts") or {}
        who = f"{len(contacts)} contact(s)" if len(contacts) != 1 else "one contact"
        return f"{evidence.get('misuse_tickets', len(f['tickets']))} misuse tickets from {who}"
    message = str(f["message"])
    advice = FINDING_ADVICE.get(f["kind"], "")
    if advice and message.endswith(advice):
        message = message[: -len(advice)].rstrip(" :;,")
    return message


def _internal_key(key: str) -> bool:
    return "threshold" in key or key in {"ratio", "min_defects", "misuse_repeats", "recur_days"}


def _evidence_text(value: Any) -> str:
    value = to_jsonable(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_evidence_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_evidence_text(v) for v in value)
    return "—" if value is None else str(value)


def write_html(path: str, text: str, say: Callable[[str], None]) -> None:
    from deskctl import files

    files.write_text(path, text, what="--html")
    say(f"wrote {path}")
