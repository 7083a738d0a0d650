"""mail: the incoming-message ledger, quarantine, outgoing threading, locales

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

``mail_message`` records every fetched message once (its Message-ID, or a digest of
the message when it has none, is the unique key), in the same transaction as what
the message did; ``mail_quarantine`` keeps the raw mail of unknown senders until
someone opens or discards it. ``outbox_message`` gains the Message-ID it is sent
with and the thread it answers, so replies find their ticket; customers and
contacts gain the locale customer-facing text is written in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(250), nullable=False, unique=True),
        sa.Column("message_id", sa.String(250), nullable=True, index=True),
        sa.Column("mailbox", sa.String(80), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=True, index=True),
        sa.Column("effect", sa.String(30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("sender", sa.String(254), nullable=False, server_default=""),
        sa.Column("subject", sa.String(300), nullable=False, server_default=""),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "mail_quarantine",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_key", sa.String(250), nullable=False, unique=True),
        sa.Column("mailbox", sa.String(80), nullable=False),
        sa.Column("sender", sa.String(254), nullable=False, server_default=""),
        sa.Column("subject", sa.String(300), nullable=False, server_default=""),
        sa.Column("reason", sa.String(300), nullable=False, server_default=""),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="held"),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_by", sa.String(80), nullable=True),
        sa.Index("ix_mail_quarantine_status", "status", "id"),
    )
    op.add_column("outbox_message", sa.Column("message_id", sa.String(250), nullable=True))
    op.add_column("outbox_message", sa.Column("in_reply_to", sa.String(250), nullable=True))
    op.add_column("outbox_message", sa.Column("thread_refs", sa.Text(), nullable=True))
    op.add_column("outbox_message", sa.Column("reply_to", sa.String(254), nullable=True))
    op.add_column("outbox_message", sa.Column("html", sa.Text(), nullable=True))
    op.add_column(
        "outbox_message",
        sa.Column("automatic", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_outbox_message_message_id", "outbox_message", ["message_id"])
    op.add_column("customer", sa.Column("locale", sa.String(10), nullable=True))
    op.add_column("contact", sa.Column("locale", sa.String(10), nullable=True))


def downgrade() -> None:
    op.drop_index("ix_outbox_message_message_id", "outbox_message")
    for table, columns in (
        ("outbox_message", ("message_id", "in_reply_to", "thread_refs", "reply_to", "html",
                            "automatic")),
        ("customer", ("locale",)),
        ("contact", ("locale",)),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in columns:
                batch_op.drop_column(name)
    op.drop_table("mail_quarantine")
    op.drop_table("mail_message")
