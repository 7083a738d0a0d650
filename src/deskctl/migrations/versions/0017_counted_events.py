"""counted_events: the event index holds only the events the tallies count

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

``ix_event_kind_at_ticket`` (0012) held every event. Since the tallies are stored
(0015), every query that reads it asks for the three kinds they count (``resolved``,
``solution_rejected``, ``reopened``: a tenth of the events of the demo store): the
findings' reopens and the counts of tickets without tallies. It becomes a partial
index over those kinds (three ORs: SQLite checks an IN list of three through a table
it builds for each row written), so the other nine events in ten (each move writes
one or more) no longer update it, and a large demo's build of it at the end sorts a
tenth of the entries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

NAME = "ix_event_kind_at_ticket"
COLUMNS = ["kind", "at", "ticket_id"]
# store.reads.report.COUNTED_EVENTS as it was written here (queries carry the same term)
COUNTED = "(kind = 'resolved' OR kind = 'solution_rejected' OR kind = 'reopened')"


def upgrade() -> None:
    op.drop_index(NAME, table_name="ticket_event")
    op.create_index(
        NAME,
        "ticket_event",
        COLUMNS,
        sqlite_where=sa.text(COUNTED),
        postgresql_where=sa.text(COUNTED),
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="ticket_event")
    op.create_index(NAME, "ticket_event", COLUMNS)
