"""findings: covering indexes for the findings report's GROUP BYs

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

``report findings`` groups the tickets opened in its range by category, customer,
topic, product version, hardware and OS, and pairs the solved closings of each
(customer, topic) with the openings after them (``services.findings``). Each of
its statements reads one of these indexes alone, never the wide ticket rows:

- ``ix_ticket_findings_opened``: the opening first (the range), then what the
  rules group by;
- ``ix_ticket_findings_closed``: the closing first, then the outcome and the
  (customer, topic, product) of the solved tickets come back to.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OPENED = (
    "opened_at", "category", "customer_id", "topic", "product", "version", "hardware", "os",
    "contact_id",
)  # fmt: skip
CLOSED = ("closed_at", "outcome", "customer_id", "topic", "product")


def upgrade() -> None:
    op.create_index("ix_ticket_findings_opened", "ticket", list(OPENED))
    op.create_index("ix_ticket_findings_closed", "ticket", list(CLOSED))


def downgrade() -> None:
    op.drop_index("ix_ticket_findings_closed", table_name="ticket")
    op.drop_index("ix_ticket_findings_opened", table_name="ticket")
