"""per-ticket event tallies: the overview's quality rates come out of its volume scan

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

- ``ticket.solutions_proposed`` / ``solutions_rejected`` / ``reopens``: the ticket's
  ``resolved``, ``solution_rejected`` and ``reopened`` events (``domain.tallies``),
  written by every writer of the SLA columns.
- ``ix_ticket_volume`` (0012) is built again with those three and the business
  seconds (0014) after its columns: the overview's one volume pass then also
  counts the quality rates' events and the tickets with business seconds per
  severity, instead of an event scan that looked each event's ticket up and two
  more passes over the ticket rows.
- ``ix_ticket_id_cohort`` (0012) is dropped: that event scan was its only reader.

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
_OLD_VOLUME = (
    "channel", "category", "severity", "product", "version", "opened_at", "customer_id",
    "closed_at",
)  # fmt: skip
_VOLUME = (*_OLD_VOLUME, "response_business_seconds", "resolution_business_seconds", *_TALLIES)
_ID_COHORT = ("id", "opened_at", "closed_at", "customer_id", "product")


def upgrade() -> None:
    for name in _TALLIES:
        op.add_column("ticket", sa.Column(name, sa.Integer()))
    op.drop_index("ix_ticket_volume", table_name="ticket")
    op.create_index("ix_ticket_volume", "ticket", list(_VOLUME))
    op.drop_index("ix_ticket_id_cohort", table_name="ticket")


def downgrade() -> None:
    op.create_index("ix_ticket_id_cohort", "ticket", list(_ID_COHORT))
    op.drop_index("ix_ticket_volume", table_name="ticket")
    op.create_index("ix_ticket_volume", "ticket", list(_OLD_VOLUME))
    for name in reversed(_TALLIES):
        op.execute(f"ALTER TABLE ticket DROP COLUMN {name}")
