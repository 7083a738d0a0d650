"""per-ticket event tallies: the overview's quality rates come out of its volume scan

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

- ``ticket.solutions_proposed`` / ``solutions_rejected`` / ``reopens``: the ticket's
  ``resolved``, ``solution_rejected`` and ``reopened`` events (``domain.tallies``),
  written by every writer of the SLA columns.
- ``ix_ticket_volume`` (0012) is built again with those three after what it groups
  by (the scan groups by them too: a handful of values) and the business seconds
  (0014) at the end: the overview's one volume pass then also gives the quality
  rates and the tickets with business seconds per severity, instead of an event
  scan that looked each event's ticket up and two more passes over the tickets.
- ``ix_ticket_id_cohort`` (0012) is dropped: that event scan was its only reader.
- ``ix_ticket_dims`` (topic, assignee, customer, then the cohort) replaces
  ``ix_ticket_topic_opened`` and ``ix_ticket_assignee_opened`` (0012): the three
  volumes are one GROUP BY (a few thousand groups a year), not three passes.
- ``ix_worklog_kind_at`` (kind, instant, minutes): the minutes per kind read in kind
  order from the index alone (the table scan sorted a million rows into kinds).

The tallies are not computed here: an upgraded store's tickets have them NULL, and
the overview counts those tickets' events as before until ``deskctl sla refresh
--all`` fills them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TALLIES = ("solutions_proposed", "solutions_rejected", "reopens")
_GROUPS = ("channel", "category", "severity", "product", "version")
_OLD_VOLUME = (*_GROUPS, "opened_at", "customer_id", "closed_at")
_VOLUME = (
    *_GROUPS, *_TALLIES, "opened_at", "customer_id", "closed_at",
    "response_business_seconds", "resolution_business_seconds",
)  # fmt: skip
_OLD = {
    "ix_ticket_id_cohort": ("id", "opened_at", "closed_at", "customer_id", "product"),
    "ix_ticket_topic_opened": ("topic", "opened_at", "customer_id", "product"),
    "ix_ticket_assignee_opened": ("assignee", "opened_at", "customer_id", "product"),
}
_DIMS = ("topic", "assignee", "customer_id", "opened_at", "product")
_WORKLOG = ("kind", "at", "minutes")


def upgrade() -> None:
    for name in _TALLIES:
        op.add_column("ticket", sa.Column(name, sa.Integer()))
    op.drop_index("ix_ticket_volume", table_name="ticket")
    for name in _OLD:
        op.drop_index(name, table_name="ticket")
    op.create_index("ix_ticket_volume", "ticket", list(_VOLUME))
    op.create_index("ix_ticket_dims", "ticket", list(_DIMS))
    op.create_index("ix_worklog_kind_at", "worklog", list(_WORKLOG))


def downgrade() -> None:
    op.drop_index("ix_worklog_kind_at", table_name="worklog")
    op.drop_index("ix_ticket_dims", table_name="ticket")
    op.drop_index("ix_ticket_volume", table_name="ticket")
    for name, columns in _OLD.items():
        op.create_index(name, "ticket", list(columns))
    op.create_index("ix_ticket_volume", "ticket", list(_OLD_VOLUME))
    for name in reversed(_TALLIES):
        op.execute(f"ALTER TABLE ticket DROP COLUMN {name}")
