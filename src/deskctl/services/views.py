"""What the read commands show, from rows read through the DBAPI (``store.reads``).

No SQLAlchemy here: ``ticket list``, ``ticket show``, ``queue``, ``sla status``,
``contract check``, ``kb search`` and ``invoice list`` start near the Python floor.
Each function takes a :class:`~deskctl.store.dbapi.Reader`; a write command that
prints the same documents passes ``Reader.over(session)`` and gets them from
inside its own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deskctl.errors import BadInput, NotFound
from deskctl.store.dbapi import Reader
from deskctl.store.reads import masterdata as md
from deskctl.store.reads import tickets as rt

TICKET_FIELDS = ("product", "version", "os", "server", "hardware", "task", "error", "description")

# -- ticket list -------------------------------------------------------------------------


@dataclass
class ListFilter:
    statuses: Sequence[str] = ()
    severities: Sequence[str] = ()
    customer: str | None = None
    assignee: str | None = None
    team: str | None = None
    open_only: bool = False
    limit: int = 100
    sort: str = "id"  # "id": newest first; "sla": SLA deadline first (store.reads.tickets)


SORTS = ("id", "sla")


def list_tickets(r: Reader, flt: ListFilter) -> list[dict[str, Any]]:
    if flt.sort not in SORTS:
        raise BadInput(f"--sort: {flt.sort!r} is not one of {', '.join(SORTS)}")
    check_severities(r, list(flt.severities))
    customer_id = md.customer_by_key(r, flt.customer).id if flt.customer else None
    q = rt.list_query(
        statuses=bool(flt.statuses),
        open_only=flt.open_only,
        severities=bool(flt.severities),
        customer=customer_id is not None,
        assignee=bool(flt.assignee),
        team=bool(flt.team),
        sort=flt.sort,
        limit=flt.limit > 0,
    )
    return r.all(
        q,
        statuses=list(flt.statuses),
        severities=list(flt.severities),
        customer_id=customer_id,
        assignee=flt.assignee,
        team=flt.team,
        limit=flt.limit,
    )


# -- one ticket --------------------------------------------------------------------------


def _ticket(r: Reader, ticket_id: int) -> dict[str, Any]:
    row = rt.ticket(r, ticket_id)
    if row is None:
        raise NotFound(f"no ticket {ticket_id}")
    return row


def ticket_json(r: Reader, t: Mapping[str, Any], *, sla: Mapping[str, Any] | None = None) -> dict:
    """The ticket document of docs/rules.md §10."""
    return {
        "id": t["id"],
        "title": t["title"],
        "status": t["status"],
        "outcome": t["outcome"],
        "severity": t["severity"],
        "category": t["category"],
        "topic": t["topic"],
        "customer": t["customer"],
        "contact": t["contact"],
        "assignee": t["assignee"],
        "team": t["team"],
        "parent_id": t["parent_id"],
        "children": rt.children(r, t["id"]),
        "channel": t["channel"],
        "plan": t["plan"],
        "calendar": t["calendar"],
        "contract_id": t["contract_id"],
        "billing_mode": t["billing_mode"],
        "entitlement": t["entitlement"],
        "fields": {k: t[k] for k in TICKET_FIELDS if t[k]},
        "opened_at": t["opened_at"],
        "info_complete_at": t["info_complete_at"],
        "responded_at": t["responded_at"],
        "resolved_at": t["resolved_at"],
        "closed_at": t["closed_at"],
        "updated_at": t["updated_at"],
        "rev": t["rev"],
        "sla": dict(sla or {}),
    }


def event_json(event: Any) -> dict:
    return {
        "seq": event.seq,
        "at": event.at,
        "kind": event.kind,
        "actor": event.actor,
        "from": event.from_status,
        "to": event.to_status,
        "data": event.data,
    }


def _policy(r: Reader, t: Mapping[str, Any]) -> Any:
    if t["policy_version_id"] is None:
        return None
    return md.policy_by_version_id(r, t["policy_version_id"])[1]


def ticket_document(r: Reader, ticket_id: int, now: datetime) -> dict[str, Any]:
    """``ticket show --json``: the ticket, its SLA clocks, attachments and full history."""
    from deskctl.domain.sla_facts import ticket_clocks

    t = _ticket(r, ticket_id)
    events = rt.events(r, ticket_id)
    policy = _policy(r, t)
    sla = {}
    if policy is not None:
        clocks = ticket_clocks(policy, events, now).clocks
        sla = {name: c.to_json() for name, c in clocks.items()}
    doc = ticket_json(r, t, sla=sla)
    doc["attachments"] = [
        {
            "filename": a["filename"],
            "size": a["size"],
            "sha256": a["sha256"],
            "content_type": a["content_type"],
        }
        for a in rt.attachments(r, ticket_id)
    ]
    doc["events"] = [event_json(e) for e in events]
    return doc


def sla_status(r: Reader, ticket_id: int, now: datetime) -> dict[str, Any]:
    """``sla status``: every metric with its deadlines in UTC and in the calendar's zone."""
    from deskctl import clock
    from deskctl.domain.sla_facts import TicketSla, owed, summary_state, ticket_clocks

    t = _ticket(r, ticket_id)
    policy = _policy(r, t)
    events = rt.events(r, ticket_id)
    sla = ticket_clocks(policy, events, now) if policy else TicketSla({})
    zone = sla.calendar.spec.timezone if sla.calendar is not None else None
    metrics = {}
    for name, c in sla.clocks.items():
        doc = c.to_json()
        for key in ("due_at", "goal_at", "limit_at", "started_at", "stopped_at"):
            doc[key.replace("_at", "_local")] = _local(getattr(c, key), zone)
        metrics[name] = doc
    return {
        "ticket": t["id"],
        "status": t["status"],
        "severity": t["severity"],
        "plan": sla.plan.name if sla.plan else None,
        "calendar": sla.calendar.spec.name if sla.calendar is not None else None,
        "timezone": zone,
        "at": clock.iso_z(now),
        "state": summary_state(owed(sla.clocks, policy)) if policy else None,
        "metrics": metrics,
    }


def _local(at: datetime | None, zone: str | None) -> str | None:
    from deskctl.clock import in_zone

    return None if at is None or zone is None else in_zone(at, zone).isoformat()


# -- the queue -------------------------------------------------------------------------

# The order an engineer works through: to triage, to work on, then the waits.
QUEUE_STATES = (
    "draft",
    "queued",
    "in_progress",
    "awaiting_verification",
    "awaiting_customer",
    "forwarded",
    "awaiting_approval",
    "awaiting_subticket",
)


@dataclass(frozen=True)
class QueueFilter:
    assignee: str | None = None
    team: str | None = None
    limit: int = 20  # per status; 0 for all


@dataclass
class QueueGroup:
    status: str
    total: int
    tickets: list[dict[str, Any]]


def severity_ranks(texts: Sequence[str]) -> dict[str, int]:
    """Severity name -> rank (0 most severe) over every loaded policy version.

    A name two policies rank differently takes its most severe rank, so an
    urgent ticket is never pushed down by another vendor's scale. Stored
    policies were validated when loaded, so only their severity order is read
    here (the full parser costs more than the whole queue query).
    """
    import tomllib

    ranks: dict[str, int] = {}
    for text in texts:
        order = tomllib.loads(text).get("severities", {}).get("order", [])
        for rank, name in enumerate(str(n) for n in order):
            ranks[name] = min(rank, ranks.get(name, rank))
    return ranks


def check_severities(r: Reader, values: list[str], what: str = "--severity") -> None:
    """A severity filter names a severity some policy has (a typo would list nothing)."""
    if not values:
        return
    from deskctl.domain import validate as rules

    known = list(severity_ranks(policy_texts(r)))
    for value in values:
        rules.choice(value, known, what)


def policy_texts(r: Reader) -> list[str]:
    """The text of every loaded policy version (for severity ranks)."""
    return list(md.policy_texts(r))


def acting_agent(r: Reader, me: str) -> str:
    """The agent ``--mine`` means: the database login's on PostgreSQL (DESKCTL_USER only
    for a trusted login, as for a write), else ``me``."""
    import os

    return md.acting_agent(r, me, os.environ.get("DESKCTL_USER") or None)


def queue(r: Reader, flt: QueueFilter) -> list[QueueGroup]:
    """Open tickets by status, most urgent first: severity rank, SLA due, age."""
    if flt.limit < 0:
        raise BadInput("--limit must be 0 or more")
    totals = rt.queue_totals(r, QUEUE_STATES, flt.assignee, flt.team)
    ranks = severity_ranks(md.policy_texts(r))
    groups = []
    for status in QUEUE_STATES:
        total = int(totals.get(status, 0))
        if total:
            ids = rt.queue_top_ids(r, status, ranks, flt.assignee, flt.team, flt.limit)
            groups.append(QueueGroup(status, total, rt.queue_rows(r, ids)))
    return groups


# -- knowledge base, invoices ---------------------------------------------------------


def kb_words(query: str) -> list[str]:
    """A search's words (letters and digits), lower case; each matches as a prefix."""
    import re

    return [w.lower() for w in re.findall(r"\w+", query)]


def kb_search(
    r: Reader, terms: list[str], *, limit: int = 20, any_word: bool = False
) -> list[dict[str, Any]]:
    """Articles matching every term (any with ``any_word``) as a prefix, best first."""
    from deskctl.store.reads import kb

    if not terms:
        return []
    ids = kb.search_ids(r, terms, limit, any_word)
    return kb.articles(r, ids) if ids else []


def list_invoices(r: Reader, customer: str | None = None) -> list[dict[str, Any]]:
    from deskctl.store.reads import invoices

    customer_id = md.customer_by_key(r, customer).id if customer else None
    return invoices.list_invoices(r, customer_id)
