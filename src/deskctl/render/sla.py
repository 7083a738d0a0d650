"""SLA status and reports for people (terminal, printable HTML) and scripts (CSV)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from deskctl.clock import local_text
from deskctl.domain.durations import format_duration
from deskctl.domain.numbers import percent

ATTENTION = ("breached", "late", "at_risk")
LISTED = 50  # tickets listed on a terminal
COUNT_COLUMNS = ("met", "late", "breached", "running", "at_risk", "paused", "pending")
STATE_STYLE = {
    "breached": "bold red",
    "late": "magenta",
    "at_risk": "yellow",
    "running": "cyan",
    "paused": "blue",
    "met": "green",
    "pending": "dim",
}


def _styled(state: str | None) -> str:
    if not state:
        return "-"
    style = STATE_STYLE.get(state)
    return f"[{style}]{state}[/{style}]" if style else state


def _local_text(value: str | None) -> str:
    return local_text(datetime.fromisoformat(value)) if value else "-"


def _seconds(value: int | None) -> str:
    return "-" if value is None else format_duration(int(value))


def print_status(doc: Mapping[str, Any]) -> None:
    """``sla status``: one block per metric (plain text when piped)."""
    from deskctl.render.output import stdout_console

    con = stdout_console()
    head = f"[bold]#{doc['ticket']}[/bold] sla {_styled(doc['state'])}"
    if doc["plan"]:
        head += f"   plan {doc['plan']}   calendar {doc['calendar']} ({doc['timezone']})"
    con.print(head)
    if not doc["metrics"]:
        con.print("no SLA applies (the ticket has no contract plan)")
    for name, m in doc["metrics"].items():
        target = ""
        if m["goal_seconds"] is not None:
            target = _seconds(m["goal_seconds"])
            if m["limit_seconds"] != m["goal_seconds"]:
                target += f"-{_seconds(m['limit_seconds'])}"
        con.print(
            f"\n[bold]{name}[/bold] {_styled(m['state'])}"
            f"   severity {m['severity'] or '-'}   target {target or '-'}"
        )
        for label, key in (
            ("started", "started"),
            ("goal", "goal"),
            ("limit (due)", "limit"),
            ("stopped", "stopped"),
        ):
            if m[f"{key}_at"] is None and key in ("started", "stopped"):
                continue
            con.print(f"  {label:<12}{_local_text(m[f'{key}_local']):<28}{m[f'{key}_at'] or '-'}")
        con.print(
            f"  {'elapsed':<12}{_seconds(m['elapsed_seconds']):<28}"
            f"remaining {_seconds(m['remaining_seconds'])}"
        )


def summary_rows(doc: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Flat rows: (group kind, group, metric) with counts and rates."""
    groups: list[tuple[str, str, Mapping[str, Any]]] = [("total", "all", doc["totals"])]
    groups += [("severity", g["severity"] or "-", g) for g in doc["by_severity"]]
    groups += [("customer", g["customer"], g) for g in doc["by_customer"]]
    for kind, name, group in groups:
        for metric, tally in group["metrics"].items():
            yield {
                "kind": kind,
                "group": name,
                "tickets": group["tickets"],
                "metric": metric,
                **tally,
            }


def _console() -> Any:
    """The terminal's width on a terminal; wide when piped, so no cell is cut or wrapped."""
    from deskctl.render.output import stdout_console

    return stdout_console()


def print_report(doc: Mapping[str, Any]) -> None:
    """Totals, by severity, by customer; then the tickets a manager must look at."""
    from rich.table import Table

    con = _console()
    con.print(
        f"[bold]SLA report[/bold] tickets opened {doc['from']} to {doc['to']} "
        f"(as of {doc['at']}): {doc['totals']['tickets']} ticket(s), "
        f"{doc['breached_tickets']} with a breach"
    )
    table = Table(box=None, header_style="bold", pad_edge=False)
    headers = ("GROUP", "METRIC", "TICKETS", "MET", "LATE", "BREACHED", "AT RISK", "OPEN",
               "COMPL.", "GOAL")  # fmt: skip
    for name in headers:
        # the group label folds on a narrow terminal; figures and headers never shrink
        table.add_column(
            name,
            justify="left" if name in ("GROUP", "METRIC") else "right",
            no_wrap=name != "GROUP",
            overflow="fold",
            min_width=len(name) if name != "GROUP" else 8,
        )
    short = {"total": "total", "severity": "sev", "customer": "cust"}
    for row in summary_rows(doc):
        label = "total" if row["kind"] == "total" else f"{short[row['kind']]} {row['group']}"
        still_open = row["running"] + row["paused"] + row["pending"]
        table.add_row(
            label,
            row["metric"],
            str(row["tickets"]),
            str(row["met"]),
            str(row["late"]),
            str(row["breached"]),
            str(row["at_risk"]),
            str(still_open),
            *(  # the document holds percentage points (97.5), two decimals
                percent(None if row[k] is None else row[k] / 100, 2)
                for k in ("compliance_pct", "goal_pct")
            ),
        )
    con.print(table)
    # The person's view lists the tickets that need attention, worst first; the full
    # list is in --json, --csv and --html.
    attention = sorted(
        (t for t in doc["tickets"] if t["state"] in ATTENTION),
        key=lambda t: (ATTENTION.index(t["state"]), t["id"]),
    )
    if not attention:
        return
    shown = attention[:LISTED]
    listing = Table(
        box=None,
        header_style="bold",
        pad_edge=False,
        title_justify="left",
        title="tickets breached, late or at risk",
    )
    for name in ("ID", "CUSTOMER", "SEV", "STATUS", "OPENED", "SLA", "METRICS"):
        listing.add_column(name, justify="right" if name == "ID" else "left")
    for t in shown:
        metrics = ", ".join(
            f"{m} {_styled(v['state'])}" + (f" due {v['due_at']}" if v["due_at"] else "")
            for m, v in t["metrics"].items()
        )
        listing.add_row(
            str(t["id"]),
            t["customer"],
            t["severity"] or "-",
            t["status"],
            (t["opened_at"] or "")[:16].replace("T", " "),
            _styled(t["state"]),
            metrics,
        )
    con.print(listing)
    if len(attention) > LISTED:
        con.print(f"... and {len(attention) - LISTED} more: see --csv, --json or --html")


def emit_report_json(doc: Mapping[str, Any]) -> None:
    """One compact JSON document (the C encoder: a report may list a million tickets)."""
    import json

    sys.stdout.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")


def report_csv(doc: Mapping[str, Any]) -> None:
    """One row per ticket and metric (a ticket without SLA: one row, metric empty)."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(
        ("ticket", "customer", "severity", "status", "opened_at", "metric", "state", "due_at")
    )
    for t in doc["tickets"]:
        base = (t["id"], t["customer"], t["severity"] or "", t["status"], t["opened_at"])
        if not t["metrics"]:
            writer.writerow((*base, "", "", ""))
        for metric, m in t["metrics"].items():
            writer.writerow((*base, metric, m["state"], m["due_at"] or ""))


def report_document(report: Mapping[str, Any], reader: Any) -> str:
    """The printed SLA report (``templates/documents/sla_report.html``) for ``reader``
    (a ``render.documents.Reader``): each limit in its ticket's calendar zone, named."""
    from deskctl import i18n
    from deskctl.domain.durations import short_span
    from deskctl.render import documents

    breaches = [
        {
            **b,
            "fmt": i18n.Formatter(reader.locale, b["timezone"]),
            "late": short_span(b["late_seconds"]),
        }
        for b in report["breaches"]
    ]
    return documents.render("sla_report", reader, {"report": {**report, "breaches": breaches}})
