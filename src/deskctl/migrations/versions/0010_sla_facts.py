"""sla facts: one row per ticket per owed metric, replacing the JSON snapshot

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

- ``sla_fact``: a ticket's clock of one owed metric as of its last change (state,
  goal/limit/at-risk instants of a running clock, elapsed and paused business
  seconds), with the ticket's opening, customer, severity and policy version, so an
  SLA report is a GROUP BY over one indexed table (``services.sla``).
- ``ticket.sla_computed_at`` / ``ticket.sla_stale_at``: when those rows were computed
  and the first event they do not count yet; ``sla_settled`` (the worst state of the
  clocks not running) and ``sla_risk_at``/``sla_goal_at``/``sla_limit_at`` (the
  earliest such instants of the running ones): the ticket's worst state at any
  instant the facts tell, as a CASE over its own row. ``ticket.sla_clocks`` (the JSON snapshot
  of 0006) is dropped: the facts say the same, one source of truth.

Facts are not computed here (that needs the policies and business calendars): an
upgraded store's tickets have ``sla_computed_at`` NULL, reports replay them until
``deskctl sla refresh --all`` writes their facts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Covering indexes: a report reads them alone (the period first, then what it groups
# by and the instants its state CASE compares).
_FACT_COHORT = (
    "opened_at", "computed_at", "stale_at", "severity", "customer_id", "policy_version_id",
    "metric", "running", "state", "due_at", "goal_at", "risk_at", "stopped_at", "ticket_id",
)  # fmt: skip
_TICKET_COHORT = (
    "opened_at", "sla_computed_at", "sla_stale_at", "severity", "customer_id",
    "policy_version_id", "sla_settled", "sla_limit_at", "sla_goal_at", "sla_risk_at",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "sla_fact",
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), primary_key=True),
        sa.Column("metric", sa.String(length=40), primary_key=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("running", sa.Boolean(), nullable=False),
        sa.Column("goal_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("risk_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("elapsed_seconds", sa.Integer(), nullable=False),
        sa.Column("paused_seconds", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stale_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=True),
        sa.Column(
            "policy_version_id", sa.Integer(), sa.ForeignKey("policy_version.id"), nullable=True
        ),
    )
    op.create_index("ix_sla_fact_cohort", "sla_fact", list(_FACT_COHORT))
    # Plain ADD/DROP COLUMN (no batch copy of the ticket table): fast on big stores;
    # SQLite drops a column natively since 3.35.
    op.add_column("ticket", sa.Column("sla_computed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("ticket", sa.Column("sla_stale_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("ticket", sa.Column("sla_settled", sa.String(length=20), nullable=True))
    for name in ("sla_risk_at", "sla_goal_at", "sla_limit_at"):
        op.add_column("ticket", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.execute("ALTER TABLE ticket DROP COLUMN sla_clocks")
    op.create_index("ix_ticket_sla_cohort", "ticket", list(_TICKET_COHORT))


def downgrade() -> None:
    op.drop_index("ix_ticket_sla_cohort", table_name="ticket")
    op.add_column("ticket", sa.Column("sla_clocks", sa.JSON(), nullable=True))
    for name in ("sla_limit_at", "sla_goal_at", "sla_risk_at", "sla_settled", "sla_stale_at"):
        op.execute(f"ALTER TABLE ticket DROP COLUMN {name}")
    op.execute("ALTER TABLE ticket DROP COLUMN sla_computed_at")
    op.drop_index("ix_sla_fact_cohort", table_name="sla_fact")
    op.drop_table("sla_fact")
