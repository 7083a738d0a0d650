"""documents: the buyer block of an invoice (customer billing address and VAT id)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

An invoice an accountant can book names the buyer with its address and VAT
identification number; both are optional (a customer added before stays valid).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs, nullable: no table copy on SQLite, instant on PostgreSQL.
    op.add_column("customer", sa.Column("billing_address", sa.Text(), nullable=True))
    op.add_column("customer", sa.Column("vat_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("vat_id")
        batch_op.drop_column("billing_address")
