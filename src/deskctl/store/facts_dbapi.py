"""A ticket's ``sla_fact`` rows written through the DBAPI (``store.dbapi.Writer``), for
moves that write without SQLAlchemy; the same rows ``store.facts.replace`` writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from deskctl.domain.sla_facts import Fact
from deskctl.store.dbapi import Query, Writer

# What a fact repeats from its ticket row, so reports filter and group on one table.
TICKET_KEYS = ("opened_at", "customer_id", "severity", "policy_version_id")
COLUMNS = (
    "ticket_id", "metric", "state", "running", "goal_at", "due_at", "risk_at", "stopped_at",
    "elapsed_seconds", "paused_seconds", "computed_at", "stale_at", *TICKET_KEYS,
)  # fmt: skip

_DELETE = Query("DELETE FROM sla_fact WHERE ticket_id = :ticket_id")
_INSERT = Query(
    f"INSERT INTO sla_fact ({', '.join(COLUMNS)}) VALUES ({', '.join(':' + c for c in COLUMNS)})"
)


# A fact's fields, read one by one: ``dataclasses.asdict`` deep-copies every value (its
# instants too), which was a sixth of a full ``sla refresh --all``.
_FACT_FIELDS = tuple(f.name for f in fields(Fact))


def fact_rows(
    ticket_id: int,
    ticket: Mapping[str, Any],
    facts: Iterable[Fact],
    computed_at: datetime,
    stale_at: datetime | None,
) -> list[dict[str, Any]]:
    """``sla_fact`` rows of one ticket: its facts with the ticket's keys."""
    keys = {k: ticket[k] for k in TICKET_KEYS}
    return [
        {
            "ticket_id": ticket_id,
            **{name: getattr(f, name) for name in _FACT_FIELDS},
            "computed_at": computed_at,
            "stale_at": stale_at,
            **keys,
        }
        for f in facts
    ]


def replace(w: Writer, ticket_id: int, rows: Iterable[Mapping[str, Any]]) -> None:
    """The ticket's facts become ``rows``, in the writer's transaction."""
    w.execute(_DELETE, ticket_id=ticket_id)
    for row in rows:
        w.execute(_INSERT, **row)
