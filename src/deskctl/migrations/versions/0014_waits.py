"""business seconds per ticket: the overview's waits stored, its percentiles OFFSETs

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

- ``ticket.response_business_seconds`` / ``ticket.resolution_business_seconds``: the
  business time to first response and to resolution as ``report overview`` measures
  them (``domain.waits``), written by every writer of the SLA columns.
- ``ix_ticket_{response,resolution}_severity`` (severity, seconds, then the cohort)
  and ``ix_ticket_{response,resolution}_seconds`` (seconds, then the cohort): the
  overview's median and p90 per severity and overall are one ``OFFSET`` each into a
  range read in order; the NULL range finds the tickets still to be measured.
- ``ix_ticket_times`` (0012) is dropped: it served the measurement of every ticket.

The seconds are not computed here (that needs the policies' calendars): an upgraded
store's tickets have them NULL, and the overview measures those as before until
``deskctl sla refresh --all`` fills them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_COHORT = ("opened_at", "customer_id", "product")
_TIMES = (
    "policy_version_id", "calendar", "severity", "opened_at", "info_complete_at",
    "responded_at", "resolved_at", "outcome", "closed_at", "customer_id", "product",
)  # fmt: skip


_SOLVED = "(resolved_at IS NOT NULL OR (outcome = 'resolved' AND closed_at IS NOT NULL))"
# The tickets still to be measured (NULL seconds, instants set): partial indexes,
# every ticket of an upgraded store until ``sla refresh --all``, none after.
_UNMEASURED = {
    "response": "response_business_seconds IS NULL AND policy_version_id IS NOT NULL"
    " AND responded_at IS NOT NULL",
    "resolution": "resolution_business_seconds IS NULL AND policy_version_id IS NOT NULL"
    f" AND {_SOLVED}",
}


def _indexes() -> dict[str, list[str]]:
    out = {}
    for metric in ("response", "resolution"):
        seconds = f"{metric}_business_seconds"
        out[f"ix_ticket_{metric}_severity"] = ["severity", seconds, *_COHORT]
        out[f"ix_ticket_{metric}_seconds"] = [seconds, *_COHORT]
    return out


def upgrade() -> None:
    for metric in ("response", "resolution"):
        op.add_column("ticket", sa.Column(f"{metric}_business_seconds", sa.Integer()))
    for name, columns in _indexes().items():
        op.create_index(name, "ticket", columns)
    for metric, where in _UNMEASURED.items():
        op.create_index(
            f"ix_ticket_{metric}_unmeasured",
            "ticket",
            list(_COHORT),
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )
    op.drop_index("ix_ticket_times", table_name="ticket")


def downgrade() -> None:
    op.create_index("ix_ticket_times", "ticket", list(_TIMES))
    for metric in reversed(_UNMEASURED):
        op.drop_index(f"ix_ticket_{metric}_unmeasured", table_name="ticket")
    for name in reversed(_indexes()):
        op.drop_index(name, table_name="ticket")
    for metric in ("resolution", "response"):
        op.execute(f"ALTER TABLE ticket DROP COLUMN {metric}_business_seconds")
