"""Tickets for people (rich) and scripts (JSON/CSV/TSV)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from deskctl.clock import iso_z
from deskctl.domain.durations import short_span
from deskctl.render.output import Column, markup_safe, safe_text


def _age(value: Any) -> str:
    if not isinstance(value, datetime):
        return ""
    from deskctl import clock

    seconds = int((clock.now() - value).total_seconds())
    return short_span(seconds) if seconds >= 0 else ""


def countdown(state: str | None, due: datetime | None, now: datetime) -> tuple[str, str | None]:
    """The SLA cell: time left to the next deadline (wall clock), and its colour.

    ``-`` prefix once the deadline has passed, even before a refresh rewrote the
    state. Breached, paused, met and pending clocks say so in words.
    """
    if state is None:
        return "", None
    if state == "breached":
        return "breached", "bold red"
    if due is None:
        return {"met": ("met", "green"), "paused": ("paused", "dim")}.get(state, ("", None))
    seconds = int((due - now).total_seconds())
    text = short_span(seconds, countdown=True)
    if seconds < 0:
        return text, "bold red"
    if state == "paused":
        return f"paused {text}", "dim"
    colour = {"late": "magenta", "at_risk": "yellow"}.get(state)
    return text, colour


def add_countdown(rows: Sequence[dict[str, Any]], now: datetime, *, markup: bool) -> None:
    """Fill each row's ``sla`` cell; rich markup colours it only for a terminal table."""
    for row in rows:
        text, colour = countdown(row.get("sla_state"), row.get("sla_due_at"), now)
        row["sla"] = f"[{colour}]{text}[/{colour}]" if markup and colour and text else text


LIST_COLUMNS = [
    Column("id", "ID", "right"),
    Column("status", "STATUS"),
    Column("severity", "SEV"),
    Column("sla", "SLA", "right", markup=True),
    Column("customer", "CUSTOMER"),
    Column("assignee", "ASSIGNEE"),
    Column("opened_at", "AGE", "right", render=_age),
    Column("title", "TITLE"),
]


def list_json(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": r["id"],
            "status": r["status"],
            "outcome": r["outcome"],
            "severity": r["severity"],
            "category": r["category"],
            "customer": r["customer"],
            "contact": r["contact"],
            "assignee": r["assignee"],
            "team": r["team"],
            "parent_id": r["parent_id"],
            "title": r["title"],
            "opened_at": iso_z(r["opened_at"]),
            "updated_at": iso_z(r["updated_at"]),
            "sla_state": r["sla_state"],
            "sla_due_at": iso_z(r["sla_due_at"]),
        }
        for r in rows
    ]


def ticket_document(session: Any, ticket_id: int) -> dict[str, Any]:
    """``ticket show --json`` from inside a write transaction (after a move)."""
    from deskctl import clock
    from deskctl.services import views
    from deskctl.store.dbapi import Reader

    return views.ticket_document(Reader.over(session), ticket_id, clock.now())


def print_ticket(doc: Mapping[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    from deskctl.render.output import stdout_console

    con = stdout_console()
    safe = markup_safe
    con.print(f"[bold]#{doc['id']} {safe(doc['title'])}[/bold]")
    state = doc["status"] + (f" ({doc['outcome']})" if doc["outcome"] else "")
    con.print(
        f"status {safe(state)}   severity {safe(doc['severity'] or '-')}   "
        f"category {safe(doc['category'] or '-')}   assignee {safe(doc['assignee'] or '-')}"
    )
    con.print(
        f"customer {safe(doc['customer'])}   contact {safe(doc['contact'])}   "
        f"channel {safe(doc['channel'])}   plan {safe(doc['plan'] or '-')}"
    )
    for key, value in doc["fields"].items():
        con.print(f"{key}: {safe(value, newlines=True)}")
    if doc.get("children"):
        con.print("children: " + ", ".join(f"#{c}" for c in doc["children"]))
    for metric, clock in (doc.get("sla") or {}).items():
        con.print(f"sla {metric}: {clock.get('state')} due {clock.get('due_at') or '-'}")
    for att in doc.get("attachments", []):
        con.print(f"attachment {safe(att['filename'])} ({att['size']} bytes)")
    table = Table(
        box=None, header_style="bold", pad_edge=False, title="history", title_justify="left"
    )
    # instants and event names are never cut; moves and notes wrap instead
    for name in ("#", "AT", "BY", "EVENT"):
        table.add_column(name, no_wrap=True)
    table.add_column("MOVE", overflow="fold")
    table.add_column("NOTE", ratio=1)
    for e in doc["events"]:
        move = f"{e['from'] or ''} → {e['to']}" if e["to"] else ""
        table.add_row(
            str(e["seq"]),
            iso_z(e["at"]) or "",
            Text(safe_text(e["actor"])),
            Text(safe_text(e["kind"])),
            Text(safe_text(move)),
            Text(safe_text(_said(e["data"]), newlines=True)),
        )
    con.print(table)


# What an event says, in the order a reader wants it: the engineer's note, the
# customer's words (a reply), the solution proposed, the message sent.
_SAID = ("note", "text", "solution", "message")


def _said(data: Mapping[str, Any]) -> str:
    return next((str(data[k]) for k in _SAID if data.get(k)), "")


# -- what a ticket command did --------------------------------------------------------


def describe(change: Any) -> str:
    """One line for the person: the move, or what was recorded."""
    state = change.state
    if change.before != state.status:
        what = f"{change.before} -> {state.status}"
        if state.outcome and state.status == "closed":
            what += f" {state.outcome}"
    else:
        kinds = ", ".join(dict.fromkeys(e.kind for e in change.events))
        what = f"{kinds} ({state.status})"
    extras = []
    if state.severity:
        extras.append(f"severity {state.severity}")
    if state.category:
        extras.append(state.category)
    if state.assignee:
        extras.append(f"assignee {state.assignee}")
    tail = f" [{', '.join(extras)}]" if extras else ""
    return f"ticket {change.ticket_id}: {what}{tail}"


def print_change(change: Any, doc: Mapping[str, Any] | None) -> None:
    """One ticket changed: its hints, then the ``ticket show --json`` document when asked
    (``doc``), else the line of :func:`describe`; new sub-tickets' ids on stdout."""
    from deskctl.render.output import emit_json, emit_lines, say

    for hint in change.hints:
        say(f"deskctl: note: {hint}")
    if doc is not None:
        emit_json(doc)
        return
    say(describe(change))
    emit_lines(change.children)


def print_results(results: Sequence[Any], *, json_out: bool) -> None:
    """Several ids: a line per id on stderr (sub-tickets' ids on stdout), or one JSON
    list with each id's ``ticket`` document or its ``error`` and ``exit`` code."""
    from deskctl.render.output import emit_json, emit_lines, say

    if json_out:
        emit_json([_result_json(r) for r in results])
        return
    for r in results:
        if r.error is not None:
            say(f"deskctl: ticket {r.ticket_id}: {r.error.message}")
            continue
        for hint in r.change.hints:
            say(f"deskctl: note: {hint}")
        say(describe(r.change))
        emit_lines(r.change.children)


def _result_json(result: Any) -> dict[str, Any]:
    if result.error is not None:
        return {
            "id": result.ticket_id,
            "ok": False,
            "exit": int(result.error.exit_status),
            "error": result.error.message,
        }
    return {"id": result.ticket_id, "ok": True, "ticket": result.doc}
