"""The engineer's queue: grouped tables on a terminal, flat rows for scripts.

Ages and SLA due times are wall-clock spans from now, shown to the minute
(``2d3h``, ``45m``); the SLA column is the ticket row's ``sla_state`` and how
far its ``sla_due_at`` is (``at_risk in 1h20m``, ``breached 3h ago``), or
``-`` when the SLA service has not filled them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from deskctl.clock import iso_z
from deskctl.domain.durations import short_span
from deskctl.render.output import Column, markup_safe


def span(seconds: int) -> str:
    """A wall-clock span in its two largest units: ``3d4h``, ``2h05m``, ``now``."""
    return short_span(seconds)


def sla_text(row: Mapping[str, Any], now: datetime) -> str:
    state, due = row.get("sla_state"), row.get("sla_due_at")
    if state is None and due is None:
        return "-"
    if due is None:
        return str(state)
    left = int((due - now).total_seconds())
    when = f"in {span(left)}" if left >= 0 else f"{span(left)} ago"
    return f"{state} {when}" if state else f"due {when}"


def age_seconds(row: Mapping[str, Any], now: datetime) -> int:
    return max(0, int((now - row["opened_at"]).total_seconds()))


def flat_rows(groups: Sequence[Any], now: datetime) -> list[dict[str, Any]]:
    """One row per ticket, in queue order, with display-ready age and SLA."""
    rows = []
    for group in groups:
        for t in group.tickets:
            rows.append(
                {
                    **t,
                    "age": span(age_seconds(t, now)),
                    "age_seconds": age_seconds(t, now),
                    "sla": sla_text(t, now),
                }
            )
    return rows


def _dash(value: Any) -> str:
    return "-" if value in (None, "") else str(value)


TABLE_COLUMNS = [
    Column("id", "ID", "right"),
    Column("severity", "SEV", render=_dash),
    Column("customer", "CUSTOMER"),
    Column("assignee", "ASSIGNEE", render=_dash),
    Column("age", "AGE", "right"),
    Column("sla", "SLA"),
    Column("title", "TITLE"),
]
FLAT_COLUMNS = [TABLE_COLUMNS[0], Column("status", "STATUS"), *TABLE_COLUMNS[1:]]
CSV_KEYS = [
    Column(k, k)
    for k in (
        "id",
        "status",
        "severity",
        "customer",
        "assignee",
        "team",
        "age_seconds",
        "sla_state",
        "sla_due_at",
        "title",
    )
]


def queue_json(groups: Sequence[Any], now: datetime, filters: Mapping[str, Any]) -> dict:
    return {
        "at": iso_z(now),
        "filter": dict(filters),
        "total": sum(g.total for g in groups),
        "groups": [
            {
                "status": g.status,
                "total": g.total,
                "tickets": [
                    {
                        "id": t["id"],
                        "status": t["status"],
                        "severity": t["severity"],
                        "customer": t["customer"],
                        "assignee": t["assignee"],
                        "team": t["team"],
                        "title": t["title"],
                        "parent_id": t["parent_id"],
                        "opened_at": iso_z(t["opened_at"]),
                        "age_seconds": age_seconds(t, now),
                        "sla_state": t["sla_state"],
                        "sla_due_at": iso_z(t["sla_due_at"]),
                    }
                    for t in g.tickets
                ],
            }
            for g in groups
        ],
    }


# The SLA column is what an engineer scans first: its colour says how urgent.
SLA_STYLES = {
    "breached": "bold red",
    "late": "magenta",
    "at_risk": "bold yellow",
    "running": "cyan",
    "paused": "blue",
    "pending": "dim",
    "met": "green",
}
# By severity rank in the ticket's own policy: 0 the most severe.
SEVERITY_STYLES = ("bold red", "yellow")


def cell_style(key: str, row: Mapping[str, Any]) -> str | None:
    """The terminal style of a cell: the SLA column by state, severity by its rank in
    the ticket's own policy (``severity_rank``, set by ``services.views.queue``)."""
    if key == "sla":
        return SLA_STYLES.get(str(row.get("sla_state")))
    if key == "severity" and row.get("severity") is not None:
        rank = row.get("severity_rank")
        return SEVERITY_STYLES[rank] if rank is not None and rank < len(SEVERITY_STYLES) else None
    return None


def print_queue(console: Any, groups: Sequence[Any], now: datetime) -> None:
    """A heading and a table per status, most urgent first; coloured by SLA state and
    severity (the console drops colour under NO_COLOR; piped output never gets here)."""
    from rich.table import Table
    from rich.text import Text

    for group in groups:
        shown = len(group.tickets)
        more = f", showing {shown}" if shown < group.total else ""
        console.print(f"[bold]{markup_safe(group.status)}[/bold] ({group.total}{more})")
        table = Table(header_style="bold", box=None, pad_edge=False)
        for col in TABLE_COLUMNS:
            table.add_column(col.header, justify=col.justify)
        for row in flat_rows([group], now):
            table.add_row(
                *(
                    Text(c.text(row), style=cell_style(c.key, row) or "")
                    for c in TABLE_COLUMNS
                )
            )
        console.print(table)
        console.print()
