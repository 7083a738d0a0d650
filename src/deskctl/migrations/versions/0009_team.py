"""team: agents mapped to database logins, attachments in the store, append-only history

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

- ``agent.db_role``: the PostgreSQL login an agent connects as (default: its login);
  ``admin`` roles become ``manager`` (the role table has readonly, agent, manager).
- ``attachment_blob``: attachment content by sha256 (deduplicated), so every member of
  a team reads it and ``db backup`` contains it. ``attachment.stored_path`` stays for
  attachments written as files before this revision (read from there when no blob).
- Triggers on both backends: ``ticket_event`` and ``worklog`` rows are never deleted,
  events never updated, a work-log row only ever changes which invoice line holds it;
  invoices are never deleted, a final invoice only becomes void, a void one never
  changes, invoice lines never change.
- PostgreSQL only: the event actor is written by the database from ``session_user``
  (a manager or the store owner may act as another agent), and only a manager may open
  a ticket with an entitlement override. Group roles and GRANTs are applied by
  ``deskctl db setup-roles`` (and after every upgrade), not here: roles are
  cluster-wide and need CREATEROLE.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = {
    "deskctl_event_no_update": """
        CREATE TRIGGER deskctl_event_no_update BEFORE UPDATE ON ticket_event
        BEGIN SELECT RAISE(ABORT, 'ticket_event is append-only: history cannot be rewritten'); END
    """,
    "deskctl_event_no_delete": """
        CREATE TRIGGER deskctl_event_no_delete BEFORE DELETE ON ticket_event
        BEGIN SELECT RAISE(ABORT, 'ticket_event is append-only: history cannot be rewritten'); END
    """,
    "deskctl_worklog_no_delete": """
        CREATE TRIGGER deskctl_worklog_no_delete BEFORE DELETE ON worklog
        BEGIN SELECT RAISE(ABORT, 'worklog is append-only: correct it with a new entry'); END
    """,
    "deskctl_worklog_only_invoicing": """
        CREATE TRIGGER deskctl_worklog_only_invoicing BEFORE UPDATE ON worklog
        WHEN NEW.id IS NOT OLD.id OR NEW.ticket_id IS NOT OLD.ticket_id
          OR NEW.event_seq IS NOT OLD.event_seq OR NEW.at IS NOT OLD.at
          OR NEW.minutes IS NOT OLD.minutes OR NEW.kind IS NOT OLD.kind
          OR NEW.note IS NOT OLD.note OR NEW.actor IS NOT OLD.actor
        BEGIN SELECT RAISE(ABORT, 'worklog is append-only: correct it with a new entry'); END
    """,
    "deskctl_invoice_no_delete": """
        CREATE TRIGGER deskctl_invoice_no_delete BEFORE DELETE ON invoice
        WHEN OLD.status <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'a finalised invoice cannot be deleted: void it'); END
    """,
    "deskctl_invoice_final": """
        CREATE TRIGGER deskctl_invoice_final BEFORE UPDATE ON invoice
        WHEN OLD.status = 'void' OR (OLD.status = 'final' AND (
            NEW.status <> 'void' OR NEW.id IS NOT OLD.id OR NEW.number IS NOT OLD.number
            OR NEW.customer_id IS NOT OLD.customer_id OR NEW.period_from IS NOT OLD.period_from
            OR NEW.period_to IS NOT OLD.period_to OR NEW.currency IS NOT OLD.currency
            OR NEW.subtotal IS NOT OLD.subtotal OR NEW.vat_rate IS NOT OLD.vat_rate
            OR NEW.vat IS NOT OLD.vat OR NEW.total IS NOT OLD.total
            OR NEW.created_at IS NOT OLD.created_at OR NEW.finalized_at IS NOT OLD.finalized_at
            OR NEW.actor IS NOT OLD.actor))
        BEGIN SELECT RAISE(ABORT, 'a finalised invoice cannot be changed: void it'); END
    """,
    "deskctl_invoice_line_no_update": """
        CREATE TRIGGER deskctl_invoice_line_no_update BEFORE UPDATE ON invoice_line
        WHEN (SELECT status FROM invoice WHERE id = OLD.invoice_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'lines of a finalised invoice cannot be changed'); END
    """,
    "deskctl_invoice_line_no_delete": """
        CREATE TRIGGER deskctl_invoice_line_no_delete BEFORE DELETE ON invoice_line
        WHEN (SELECT status FROM invoice WHERE id = OLD.invoice_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'lines of a finalised invoice cannot be changed'); END
    """,
}

# 42501 (insufficient_privilege): the client reports it as refused (exit 1).
_PG_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION deskctl_trusted() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
      OR pg_has_role(session_user, (SELECT relowner FROM pg_class
                                    WHERE oid = 'ticket_event'::regclass), 'MEMBER')
      OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskctl_manager'
                 AND pg_has_role(session_user, oid, 'MEMBER'))
$$;

CREATE OR REPLACE FUNCTION deskctl_actor() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT COALESCE(
    (SELECT login FROM agent WHERE db_role = session_user OR login = session_user
     ORDER BY COALESCE(db_role = session_user, false) DESC LIMIT 1),
    session_user::text)
$$;

CREATE OR REPLACE FUNCTION deskctl_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
    MESSAGE = TG_TABLE_NAME || ' is append-only: history cannot be rewritten';
END $$;

CREATE OR REPLACE FUNCTION deskctl_event_actor() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT deskctl_trusted() THEN
    NEW.actor := deskctl_actor();
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION deskctl_worklog_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (to_jsonb(NEW) - 'invoice_line_id') IS DISTINCT FROM (to_jsonb(OLD) - 'invoice_line_id') THEN
    RAISE EXCEPTION 'worklog is append-only: correct it with a new entry'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION deskctl_invoice_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.status <> 'draft' THEN
      RAISE EXCEPTION 'a finalised invoice cannot be deleted: void it'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.status = 'void' OR (OLD.status = 'final' AND (NEW.status <> 'void'
      OR (to_jsonb(NEW) - 'status' - 'voided_at' - 'void_reason')
         IS DISTINCT FROM (to_jsonb(OLD) - 'status' - 'voided_at' - 'void_reason'))) THEN
    RAISE EXCEPTION 'a finalised invoice cannot be changed: void it'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION deskctl_invoice_line_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT status FROM invoice WHERE id = OLD.invoice_id) <> 'draft' THEN
    RAISE EXCEPTION 'lines of a finalised invoice cannot be changed'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION deskctl_ticket_override() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.entitlement IS NOT NULL AND (NEW.entitlement::jsonb ->> 'override') IS NOT NULL
     AND (TG_OP = 'INSERT' OR (OLD.entitlement::jsonb ->> 'override') IS DISTINCT FROM
                              (NEW.entitlement::jsonb ->> 'override'))
     AND NOT deskctl_trusted() THEN
    RAISE EXCEPTION 'only a manager may open a ticket with an entitlement override'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
"""

_PG_TRIGGERS = """
CREATE TRIGGER deskctl_event_actor BEFORE INSERT ON ticket_event
  FOR EACH ROW EXECUTE FUNCTION deskctl_event_actor();
CREATE TRIGGER deskctl_event_append_only BEFORE UPDATE OR DELETE ON ticket_event
  FOR EACH ROW EXECUTE FUNCTION deskctl_refuse();
CREATE TRIGGER deskctl_event_no_truncate BEFORE TRUNCATE ON ticket_event
  FOR EACH STATEMENT EXECUTE FUNCTION deskctl_refuse();
CREATE TRIGGER deskctl_worklog_no_delete BEFORE DELETE ON worklog
  FOR EACH ROW EXECUTE FUNCTION deskctl_refuse();
CREATE TRIGGER deskctl_worklog_no_truncate BEFORE TRUNCATE ON worklog
  FOR EACH STATEMENT EXECUTE FUNCTION deskctl_refuse();
CREATE TRIGGER deskctl_worklog_update BEFORE UPDATE ON worklog
  FOR EACH ROW EXECUTE FUNCTION deskctl_worklog_update();
CREATE TRIGGER deskctl_invoice_final BEFORE UPDATE OR DELETE ON invoice
  FOR EACH ROW EXECUTE FUNCTION deskctl_invoice_update();
CREATE TRIGGER deskctl_invoice_line_final BEFORE UPDATE OR DELETE ON invoice_line
  FOR EACH ROW EXECUTE FUNCTION deskctl_invoice_line_update();
CREATE TRIGGER deskctl_ticket_override BEFORE INSERT OR UPDATE OF entitlement ON ticket
  FOR EACH ROW EXECUTE FUNCTION deskctl_ticket_override();
"""

_PG_DROP = """
DROP TRIGGER IF EXISTS deskctl_event_actor ON ticket_event;
DROP TRIGGER IF EXISTS deskctl_event_append_only ON ticket_event;
DROP TRIGGER IF EXISTS deskctl_event_no_truncate ON ticket_event;
DROP TRIGGER IF EXISTS deskctl_worklog_no_delete ON worklog;
DROP TRIGGER IF EXISTS deskctl_worklog_no_truncate ON worklog;
DROP TRIGGER IF EXISTS deskctl_worklog_update ON worklog;
DROP TRIGGER IF EXISTS deskctl_invoice_final ON invoice;
DROP TRIGGER IF EXISTS deskctl_invoice_line_final ON invoice_line;
DROP TRIGGER IF EXISTS deskctl_ticket_override ON ticket;
DROP FUNCTION IF EXISTS deskctl_event_actor(), deskctl_refuse(), deskctl_worklog_update(),
  deskctl_invoice_update(), deskctl_invoice_line_update(), deskctl_ticket_override(),
  deskctl_actor(), deskctl_trusted();
"""


def upgrade() -> None:
    op.add_column("agent", sa.Column("db_role", sa.String(length=80), nullable=True))
    op.execute("UPDATE agent SET role = 'manager' WHERE role = 'admin'")
    op.create_table(
        "attachment_blob",
        sa.Column("sha256", sa.String(length=64), primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_attachment_sha256", "attachment", ["sha256"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTIONS)
        op.execute(_PG_TRIGGERS)
    else:
        for ddl in _SQLITE_TRIGGERS.values():
            op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_DROP)
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_attachment_sha256", table_name="attachment")
    op.drop_table("attachment_blob")
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("db_role")
