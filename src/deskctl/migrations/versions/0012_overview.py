"""overview indexes: each of the overview's scans reads one narrow index alone

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

``report overview`` over a year read the wide ticket rows (descriptions and all) in
every GROUP BY and sorted a million keys for each in a temporary B-tree (SQLite has
no hash aggregation). These indexes lead with what a query groups by, so SQLite
reads each in order (``services.reports`` names them with ``INDEXED BY``), then the
period and the filters, so none goes back to the table:

- ``ix_ticket_volume``: channel, category, severity, product, version (one pass),
  with closed_at for the closed count;
- ``ix_ticket_topic_opened``, ``ix_ticket_assignee_opened``,
  ``ix_ticket_customer_opened``: the other volume dimensions;
- ``ix_ticket_times``: the business-time scan, one range per (policy version,
  calendar, severity) with the instants it measures;
- ``ix_ticket_id_cohort``: an event's ticket looked up by id without the table;
- ``ix_event_kind_at_ticket`` replaces ``ix_event_kind_at`` (a prefix of it) so the
  event counts do not read the event rows for their ticket.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TICKET = {
    "ix_ticket_volume": (
        "channel", "category", "severity", "product", "version", "opened_at",
        "customer_id", "closed_at",
    ),
    "ix_ticket_topic_opened": ("topic", "opened_at", "customer_id", "product"),
    "ix_ticket_assignee_opened": ("assignee", "opened_at", "customer_id", "product"),
    "ix_ticket_customer_opened": ("customer_id", "opened_at", "product"),
    "ix_ticket_times": (
        "policy_version_id", "calendar", "severity", "opened_at", "info_complete_at",
        "responded_at", "resolved_at", "outcome", "closed_at", "customer_id", "product",
    ),
    "ix_ticket_id_cohort": ("id", "opened_at", "closed_at", "customer_id", "product"),
}  # fmt: skip


def upgrade() -> None:
    for name, columns in _TICKET.items():
        op.create_index(name, "ticket", list(columns))
    op.create_index("ix_event_kind_at_ticket", "ticket_event", ["kind", "at", "ticket_id"])
    op.drop_index("ix_event_kind_at", table_name="ticket_event")


def downgrade() -> None:
    op.create_index("ix_event_kind_at", "ticket_event", ["kind", "at"])
    op.drop_index("ix_event_kind_at_ticket", table_name="ticket_event")
    for name in reversed(_TICKET):
        op.drop_index(name, table_name="ticket")
