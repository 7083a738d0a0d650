"""findings2: each ticket's comeback link stored, the findings report's recurrences a row each

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

- ``ticket.comeback_id`` / ``ticket.comeback_gap``: the ticket of the same customer
  and topic that this one comes back to (the latest closed solved in an earlier
  second; ``domain.comebacks``) and the whole seconds between that closing and this
  opening (0: none). Kept by every writer (``services.tickets.record``).
- ``ix_ticket_findings_opened`` (0013) gains the two columns at its end, so the
  recurrences of a cohort are read from it alone, without the window over every
  (customer, topic) history.

The links are not computed here: an upgraded store's tickets have them NULL, and
the report runs its window as before until ``deskctl sla refresh --all`` fills them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

OPENED = (
    "opened_at", "category", "customer_id", "topic", "product", "version", "hardware", "os",
    "contact_id",
)  # fmt: skip
LINK = ("comeback_gap", "comeback_id")


def upgrade() -> None:
    op.add_column("ticket", sa.Column("comeback_id", sa.Integer()))
    op.add_column("ticket", sa.Column("comeback_gap", sa.Integer()))
    op.drop_index("ix_ticket_findings_opened", table_name="ticket")
    op.create_index("ix_ticket_findings_opened", "ticket", [*OPENED, *LINK])


def downgrade() -> None:
    op.drop_index("ix_ticket_findings_opened", table_name="ticket")
    op.create_index("ix_ticket_findings_opened", "ticket", list(OPENED))
    for column in reversed(LINK):
        op.execute(f"ALTER TABLE ticket DROP COLUMN {column}")
