"""sweep: outbox claim lease, indexes for the sweep's selections

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

- ``outbox_message.claimed_at`` / ``claimed_by``: a sweep claims a message for a
  short lease before handing it to the mail server, so two sweeps running at the
  same time never send the same message twice.
- ``ix_ticket_status_id``: the sweep walks the tickets awaiting verification in id
  order, in batches (keyset pagination on one index).
- ``ix_ticket_sla_state``: tickets at risk or breached, for SLA notices.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=80), nullable=True))
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_status_id", ["status", "id"], unique=False)
        batch_op.create_index("ix_ticket_sla_state", ["sla_state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_sla_state")
        batch_op.drop_index("ix_ticket_status_id")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("claimed_at")
