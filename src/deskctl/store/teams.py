"""PostgreSQL group roles and GRANTs: the role table (domain.roles) enforced by the database.

``deskctl_readonly`` reads everything; ``deskctl_agent`` (a member of readonly)
writes the working tables but only appends history; ``deskctl_manager`` (a
member of agent) also loads policies, records standing, finalises and voids
invoices and manages agents. Nobody gets DELETE or TRUNCATE, and no deskctl role
may UPDATE ``ticket_event``; the triggers of migration 0009 refuse rewriting
history even to the owner.

Roles are cluster-wide and need CREATEROLE: ``setup_roles`` creates them when the
connecting user may, and (re)applies the GRANTs of this database in any case; it
is idempotent and runs after every ``db upgrade`` so tables added later are
covered.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlmodel import Session

from deskctl.domain import roles
from deskctl.errors import Refused

GROUPS = ("deskctl_readonly", "deskctl_agent", "deskctl_manager")

# Tables whose writes are not an agent's: (table, manager's grant).
_MANAGER_TABLES = {
    "policy_version": "INSERT",
    "standing": "INSERT",
    "agent": "INSERT, UPDATE",
    "invoice": "INSERT, UPDATE (status, voided_at, void_reason)",
    "invoice_line": "INSERT",
    "invoice_counter": "INSERT, UPDATE",
    "worklog": "UPDATE (invoice_line_id)",
    "alembic_version": "",
}
# History an agent appends to but never changes.
_APPEND_ONLY = ("ticket_event", "worklog")
# Derived rows an agent's change replaces as a whole (a metric no longer owed goes).
_REPLACED = ("sla_fact",)

_CREATE_GROUP = """
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
    CREATE ROLE {name} NOLOGIN;
    {member}
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- a parallel setup won
END $$
"""

_GRANT_FUNCTION = """
CREATE OR REPLACE FUNCTION deskctl_grant_role(target text, wanted text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
  g text;
BEGIN
  IF NOT (pg_has_role(session_user, 'deskctl_manager', 'MEMBER')
          OR COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)) THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = 'only a manager adds agents or changes roles';
  END IF;
  IF wanted NOT IN ('manager', 'agent', 'readonly') THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'no role ' || wanted;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = target) THEN
    RAISE EXCEPTION USING ERRCODE = 'undefined_object',
      MESSAGE = 'no database login ' || target || ': create it first (CREATE ROLE ... LOGIN)';
  END IF;
  IF COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = target), false) THEN
    RETURN;  -- a superuser needs no group
  END IF;
  FOREACH g IN ARRAY ARRAY['deskctl_manager', 'deskctl_agent', 'deskctl_readonly'] LOOP
    IF g <> 'deskctl_' || wanted AND EXISTS (
        SELECT 1 FROM pg_auth_members m
        WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = g)
          AND m.member = (SELECT oid FROM pg_roles WHERE rolname = target)) THEN
      EXECUTE 'REVOKE ' || quote_ident(g) || ' FROM ' || quote_ident(target);
    END IF;
  END LOOP;
  EXECUTE 'GRANT ' || quote_ident('deskctl_' || wanted) || ' TO ' || quote_ident(target);
END $$
"""


def may_create_roles(conn: Connection) -> bool:
    return bool(
        conn.exec_driver_sql(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).scalar()
    )


def groups_exist(conn: Connection) -> bool:
    found = conn.exec_driver_sql(
        "SELECT count(*) FROM pg_roles WHERE rolname IN "
        "('deskctl_readonly', 'deskctl_agent', 'deskctl_manager')"
    ).scalar()
    return found == len(GROUPS)


def setup_roles(conn: Connection) -> list[str]:
    """Create the group roles (when allowed) and apply this database's GRANTs; returns notes."""
    notes: list[str] = []
    if not groups_exist(conn):
        if not may_create_roles(conn):
            return [
                "group roles deskctl_readonly/agent/manager are missing and this login may "
                "not create roles: a superuser runs `deskctl db setup-roles`"
            ]
        _create_groups(conn)
        notes.append("created group roles " + ", ".join(GROUPS))
    _grant(conn)
    notes.append("granted deskctl_readonly, deskctl_agent, deskctl_manager on this database")
    return notes


def _create_groups(conn: Connection) -> None:
    members = {
        "deskctl_readonly": "",
        "deskctl_agent": "GRANT deskctl_readonly TO deskctl_agent;",
        "deskctl_manager": "GRANT deskctl_agent TO deskctl_manager;",
    }
    for name in GROUPS:
        conn.exec_driver_sql(_CREATE_GROUP.format(name=name, member=members[name]))


def _grant(conn: Connection) -> None:
    schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
    tables = [
        r[0]
        for r in conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
        )
    ]
    run = conn.exec_driver_sql
    everyone = "deskctl_readonly, deskctl_agent, deskctl_manager"
    run(f'GRANT USAGE ON SCHEMA "{schema}" TO {everyone}')
    for table in tables:
        name = f'"{table}"'
        run(f"REVOKE ALL ON {name} FROM PUBLIC, {everyone}")
        run(f"GRANT SELECT ON {name} TO deskctl_readonly")
        if table in _APPEND_ONLY:
            run(f"GRANT INSERT ON {name} TO deskctl_agent")
        elif table in _REPLACED:
            run(f"GRANT INSERT, UPDATE, DELETE ON {name} TO deskctl_agent")
        elif table not in _MANAGER_TABLES:
            run(f"GRANT INSERT, UPDATE ON {name} TO deskctl_agent")
        if _MANAGER_TABLES.get(table):
            run(f"GRANT {_MANAGER_TABLES[table]} ON {name} TO deskctl_manager")
    run(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO deskctl_agent')
    run(_GRANT_FUNCTION)
    run("REVOKE ALL ON FUNCTION deskctl_grant_role(text, text) FROM PUBLIC")
    run("GRANT EXECUTE ON FUNCTION deskctl_grant_role(text, text) TO deskctl_manager")


def apply_if_possible(conn: Connection) -> list[str]:
    """After an upgrade: keep the GRANTs complete when the group roles exist or can be made."""
    if groups_exist(conn) or may_create_roles(conn):
        return setup_roles(conn)
    return []


def login_exists(session: Session, db_login: str) -> bool:
    found = session.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": db_login})
    return found.first() is not None


def grant(session: Session, db_login: str, role: str) -> bool:
    """Make ``db_login`` a member of exactly the group of ``role`` (a manager's act).

    False when there is no such database login yet (an agent may be registered
    first; ``agent set`` grants once the login exists).
    """
    from sqlalchemy.exc import DBAPIError

    if not login_exists(session, db_login):
        return False
    conn = session.connection()
    if not groups_exist(conn):
        raise Refused(
            "the group roles are missing: the store owner runs `deskctl db setup-roles` first"
        )
    try:
        with conn.begin_nested():
            conn.execute(
                text("SELECT deskctl_grant_role(:login, :role)"),
                {"login": db_login, "role": roles.normalise(role) or role},
            )
    except DBAPIError as exc:
        raise Refused(str(getattr(exc, "orig", exc)).strip().splitlines()[0]) from None
    return True
