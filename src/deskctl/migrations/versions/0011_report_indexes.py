"""report indexes: the SLA tallies stream their groups from partial indexes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

On a million tickets, 0010's covering indexes (period first) made SQLite sort every
fact and ticket of the period into its groups: about 2.7 s per GROUP BY. These
indexes put what a tally groups by first, over the rows that tally reads (settled
tickets, settled facts), so SQLite reads the groups in order; the tickets and facts
with a running clock, and the breached facts a report lists, are a few thousand
rows with a small index each. ``ix_sla_fact_cohort`` has no reader left and goes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ticket", "ix_ticket_sla_settled", (
        "severity", "customer_id", "policy_version_id", "sla_settled",
        "opened_at", "sla_computed_at", "sla_stale_at",
    ), "sla_limit_at IS NULL"),
    ("ticket", "ix_ticket_sla_running", (
        "opened_at", "sla_computed_at", "sla_stale_at", "severity", "customer_id",
        "policy_version_id", "sla_settled", "sla_limit_at", "sla_goal_at", "sla_risk_at",
    ), "sla_limit_at IS NOT NULL"),
    ("sla_fact", "ix_sla_fact_settled", (
        "severity", "customer_id", "metric", "state", "opened_at", "computed_at", "stale_at",
    ), "running = false"),
    ("sla_fact", "ix_sla_fact_running", (
        "opened_at", "computed_at", "stale_at", "severity", "customer_id", "metric",
        "due_at", "goal_at", "risk_at", "state", "stopped_at", "ticket_id",
    ), "running = true"),
    ("sla_fact", "ix_sla_fact_breached", (
        "opened_at", "computed_at", "stale_at", "ticket_id", "due_at", "stopped_at",
    ), "running = false AND state = 'breached'"),
)  # fmt: skip

_OLD_FACT_COHORT = (
    "opened_at", "computed_at", "stale_at", "severity", "customer_id", "policy_version_id",
    "metric", "running", "state", "due_at", "goal_at", "risk_at", "stopped_at", "ticket_id",
)  # fmt: skip


def upgrade() -> None:
    for table, name, columns, where in _INDEXES:
        # SQLite matches a partial index by the query's own terms: booleans as 0/1
        lite = where.replace("= false", "= 0").replace("= true", "= 1")
        op.create_index(
            name,
            table,
            list(columns),
            sqlite_where=sa.text(lite),
            postgresql_where=sa.text(where),
        )
    op.drop_index("ix_sla_fact_cohort", table_name="sla_fact")


def downgrade() -> None:
    op.create_index("ix_sla_fact_cohort", "sla_fact", list(_OLD_FACT_COHORT))
    for table, name, _, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
