"""Tickets: the list, one ticket with its history and attachments, the queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deskctl.store.dbapi import Query, Reader, instant, json_doc

_LIST_SELECT = (
    "SELECT t.id, t.status, t.outcome, t.severity, t.category, t.title, t.assignee, t.team,"
    " t.parent_id, t.opened_at, t.updated_at, t.sla_state, t.sla_due_at,"
    " c.key AS customer, ct.email AS contact"
    " FROM ticket t JOIN customer c ON c.id = t.customer_id"
    " LEFT OUTER JOIN contact ct ON ct.id = t.contact_id"
)
_LIST_TYPES = {"opened_at": instant, "updated_at": instant, "sla_due_at": instant}
# ``--sort sla``: open tickets already breached first, then the next deadline (soonest
# first), open ones without a deadline after them, closed tickets last whatever their SLA
# said (nothing is owed on them any more); ties oldest first.
_ORDER = {
    "id": " ORDER BY t.id DESC",
    "sla": (
        " ORDER BY CASE WHEN t.status = 'closed' THEN 3 WHEN t.sla_state = 'breached' THEN 0"
        " WHEN t.sla_due_at IS NULL THEN 2 ELSE 1 END, t.sla_due_at, t.id"
    ),
}


def list_query(
    *,
    statuses: bool,
    open_only: bool,
    severities: bool,
    customer: bool,
    assignee: bool,
    team: bool,
    sort: str,
    limit: bool,
) -> Query:
    """``ticket list``: the fixed SELECT with the filters asked for (each a fixed clause)."""
    where = []
    if statuses:
        where.append("t.status IN :statuses")
    elif open_only:
        where.append("t.status != 'closed'")
    if severities:
        where.append("t.severity IN :severities")
    if customer:
        where.append("t.customer_id = :customer_id")
    if assignee:
        where.append("t.assignee = :assignee")
    if team:
        where.append("t.team = :team")
    sql = _LIST_SELECT + (" WHERE " + " AND ".join(where) if where else "") + _ORDER[sort]
    if limit:
        sql += " LIMIT :limit"
    return Query(sql, _LIST_TYPES)


TICKET = Query(
    "SELECT t.*, c.key AS customer, ct.email AS contact FROM ticket t"
    " JOIN customer c ON c.id = t.customer_id"
    " LEFT OUTER JOIN contact ct ON ct.id = t.contact_id WHERE t.id = :id",
    {
        "opened_at": instant,
        "updated_at": instant,
        "info_complete_at": instant,
        "responded_at": instant,
        "resolved_at": instant,
        "closed_at": instant,
        "sla_due_at": instant,
        "sla_computed_at": instant,
        "sla_stale_at": instant,
        "sla_risk_at": instant,
        "sla_goal_at": instant,
        "sla_limit_at": instant,
        "entitlement": json_doc,
    },
)
CHILDREN = Query("SELECT id FROM ticket WHERE parent_id = :id ORDER BY id")
EVENTS = Query(
    "SELECT seq, at, kind, actor, from_status, to_status, note, data FROM ticket_event"
    " WHERE ticket_id = :id ORDER BY seq",
    {"at": instant, "data": json_doc},
)
ATTACHMENTS = Query(
    "SELECT filename, size, sha256, content_type FROM attachment WHERE ticket_id = :id ORDER BY id"
)


def ticket(r: Reader, ticket_id: int) -> dict[str, Any] | None:
    return r.one(TICKET, id=ticket_id)


def children(r: Reader, ticket_id: int) -> list[int]:
    return [int(i) for i in r.scalars(CHILDREN, id=ticket_id)]


def events(r: Reader, ticket_id: int) -> list[Any]:
    """The history as domain events (the ``note`` column folded into data)."""
    from deskctl.domain.events import Event

    out = []
    for row in r.all(EVENTS, id=ticket_id):
        data = dict(row["data"] or {})
        if row["note"] is not None:
            data.setdefault("note", row["note"])
        out.append(
            Event(
                seq=row["seq"],
                at=row["at"],
                kind=row["kind"],
                actor=row["actor"],
                from_status=row["from_status"],
                to_status=row["to_status"],
                data=data,
            )
        )
    return out


def attachments(r: Reader, ticket_id: int) -> list[dict[str, Any]]:
    return r.all(ATTACHMENTS, id=ticket_id)


# -- the queue -------------------------------------------------------------------------


def _queue_where(assignee: str | None, team: str | None) -> str:
    where = ""
    if assignee:
        where += " AND assignee = :assignee"
    if team:
        where += " AND team = :team"
    return where


def queue_totals(
    r: Reader, states: Sequence[str], assignee: str | None, team: str | None
) -> dict[str, int]:
    q = Query(
        "SELECT status, count(*) AS n FROM ticket WHERE status IN :states"
        + _queue_where(assignee, team)
        + " GROUP BY status"
    )
    rows = r.all(q, states=list(states), assignee=assignee, team=team)
    return {row["status"]: int(row["n"]) for row in rows}


def queue_top_ids(
    r: Reader,
    status: str,
    ranks: Mapping[tuple[int, str], int],
    assignee: str | None,
    team: str | None,
    limit: int,
) -> list[int]:
    """Ids first, most urgent first: the severity's rank in the ticket's own policy
    version (``ranks``: (version id, name) -> rank), the SLA due, the age."""
    order = ""
    params: dict[str, Any] = {"status": status, "assignee": assignee, "team": team}
    if ranks:
        whens = []
        for i, ((version, name), rank) in enumerate(ranks.items()):
            params[f"sev_{i}"] = name
            whens.append(
                f" WHEN policy_version_id = {int(version)} AND severity = :sev_{i}"
                f" THEN {int(rank)}"
            )
        order = f"CASE{''.join(whens)} ELSE {max(ranks.values()) + 1} END, "
    sql = (
        "SELECT id FROM ticket WHERE status = :status"
        + _queue_where(assignee, team)
        + f" ORDER BY {order}sla_due_at ASC NULLS LAST, opened_at, id"
    )
    if limit:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return [int(i) for i in r.scalars(Query(sql), **params)]


QUEUE_ROWS = Query(
    "SELECT t.id, t.status, t.severity, t.title, t.assignee, t.team, t.opened_at, t.sla_state,"
    " t.sla_due_at, t.parent_id, t.policy_version_id, c.key AS customer FROM ticket t"
    " JOIN customer c ON c.id = t.customer_id WHERE t.id IN :ids",
    {"opened_at": instant, "sla_due_at": instant},
)


def queue_rows(r: Reader, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    by_id = {row["id"]: row for row in r.all(QUEUE_ROWS, ids=ids)}
    return [by_id[i] for i in ids]
