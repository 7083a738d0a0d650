"""findings2: each ticket's comeback link stored, the findings report's recurrences a row each

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

- ``ticket.comeback_id`` / ``ticket.comeback_gap``: the ticket of the same customer
  and topic that this one comes back to (the latest closed solved in an earlier
  second; ``domain.comebacks``) and the whole seconds between that closing and this
  opening (0: none); ``ticket.comeback_next``: the gap of the first ticket that
  comes back to this one (0: none). Kept by every writer (``services.tickets.record``).
- ``ix_ticket_findings_opened`` (0013) gains them and ``closed_at`` at its end, so
  the recurrences and the tickets involved of a cohort are read from it alone,
  without the window over every (customer, topic) history;
  ``ix_ticket_findings_closed`` (0013) gains ``opened_at`` and ``comeback_next``:
  the tickets opened before the period that were come back to in it.

The links are not computed here: an upgraded store's tickets have them NULL, and
the report runs its window as before until ``deskctl sla refresh --all`` fills them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

OPENED = (
    "opened_at", "category", "customer_id", "topic", "product", "version", "hardware", "os",
    "contact_id",
)  # fmt: skip
CLOSED = ("closed_at", "outcome", "customer_id", "topic", "product")
COLUMNS = ("comeback_id", "comeback_gap", "comeback_next")
LINKS = ("comeback_gap", "comeback_id", "closed_at", "comeback_next")
INDEXES = {
    "ix_ticket_findings_opened": (OPENED, LINKS),
    "ix_ticket_findings_closed": (CLOSED, ("opened_at", "comeback_next")),
}


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("ticket", sa.Column(column, sa.Integer()))
    for name, (columns, more) in INDEXES.items():
        op.drop_index(name, table_name="ticket")
        op.create_index(name, "ticket", [*columns, *more])


def downgrade() -> None:
    for name, (columns, _) in INDEXES.items():
        op.drop_index(name, table_name="ticket")
        op.create_index(name, "ticket", list(columns))
    for column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE ticket DROP COLUMN {column}")
