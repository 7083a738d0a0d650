"""sla: per-metric clock snapshot on the ticket row

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

``ticket.sla_clocks`` keeps, for each SLA metric, the clock as of the ticket's last
change (final states of stopped metrics, deadlines of running ones), so an SLA
report over a large store reads one column instead of replaying every history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy): fast on SQLite and PostgreSQL even for big stores.
    op.add_column("ticket", sa.Column("sla_clocks", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("sla_clocks")
