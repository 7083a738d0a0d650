"""reports: index tickets by opening time

Every report covers the tickets opened in a date range; without this index
each report reads the whole ticket table (and SQLite walks the customer or
assignee index row by row for their GROUP BY), so a monthly report would cost
as much as the store's whole history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_opened_at", "ticket", ["opened_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ticket_opened_at", table_name="ticket")
