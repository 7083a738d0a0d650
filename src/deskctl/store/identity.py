"""Who is acting, and with which role, decided where the data lives.

SQLite (a single-user file): the acting agent is ``DESKCTL_USER`` or the OS login,
its role the one in the ``agent`` table (domain.roles explains the bootstrap).

PostgreSQL: the acting agent is the connection's ``session_user``, mapped to an
agent by ``agent.db_role`` or by the same login; its role is its membership of
the group roles ``deskctl_manager``/``deskctl_agent``/``deskctl_readonly``, which
the database enforces with GRANTs and triggers whatever the client claims.
``DESKCTL_USER`` naming someone else is refused unless the login is a manager
and the command acts as others on purpose (demo, imports), or the login owns the
store (it could rewrite the tables anyway).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from deskctl import config
from deskctl.domain import roles
from deskctl.errors import Refused
from deskctl.store.sql import Query, Reader

GROUPS = {
    roles.MANAGER: "deskctl_manager",
    roles.AGENT: "deskctl_agent",
    roles.READONLY: "deskctl_readonly",
}


@dataclass(frozen=True)
class Identity:
    login: str  # the agent history names
    role: str | None  # None: no deskctl role at all
    backend: str
    how: str  # how it was decided, for messages and `agent whoami`
    registered: bool  # an agent row exists
    db_login: str | None = None
    owner: bool = False  # PostgreSQL: superuser or owner of the tables


def identify(session: Any, *, act_as: bool = False) -> Identity:
    """Who acts in an ORM session's transaction (the same queries as :func:`identify_on`)."""
    return identify_on(Reader.over(session), act_as=act_as)


def identify_on(r: Reader, *, act_as: bool = False) -> Identity:
    """Who acts, read through ``r`` (a DBAPI transaction or ``Reader.over(session)``)."""
    if r.dialect == "postgresql":
        return _postgres(r, act_as=act_as)
    return _sqlite(r)


_ROLE = Query("SELECT role FROM agent WHERE login = :login")
_ANY_AGENT = Query("SELECT 1 AS one FROM agent LIMIT 1")


def _sqlite(r: Reader) -> Identity:
    login = config.acting_user()
    how = "DESKCTL_USER" if os.environ.get("DESKCTL_USER") else "the OS login"
    row = r.one(_ROLE, login=login)
    if row is not None:
        return Identity(login, roles.normalise(row["role"]), "sqlite", how, registered=True)
    if r.one(_ANY_AGENT) is None:
        # No team registered yet: the store has one user, who may do everything.
        return Identity(login, roles.MANAGER, "sqlite", f"{how} (no agents yet)", False)
    return Identity(login, roles.AGENT, "sqlite", f"{how} (not a registered agent)", False)


_PG_WHO = Query(
    """
    SELECT session_user::text AS db_login,
           COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
           OR COALESCE(pg_has_role(session_user, (SELECT relowner FROM pg_class
                                   WHERE oid = to_regclass('agent')), 'MEMBER'), false)
           AS owner,
           ARRAY(SELECT rolname::text FROM pg_roles
                 WHERE rolname IN ('deskctl_manager', 'deskctl_agent', 'deskctl_readonly')
                   AND pg_has_role(session_user, oid, 'MEMBER')) AS groups
    """
)

_PG_AGENT = Query(
    "SELECT login FROM agent WHERE db_role = :u OR login = :u"
    " ORDER BY COALESCE(db_role = :u, false) DESC LIMIT 1"
)


def _postgres(r: Reader, *, act_as: bool) -> Identity:
    who = r.one(_PG_WHO)
    assert who is not None
    db_login, owner, groups = who["db_login"], bool(who["owner"]), list(who["groups"])
    found = r.scalars(_PG_AGENT, u=db_login)
    agent = found[0] if found else None
    login = agent or db_login
    role = roles.MANAGER if owner else _role_of_groups(groups)
    how = f"database login {db_login}"
    claimed = os.environ.get("DESKCTL_USER")
    if claimed and claimed != login:
        if not (owner or (act_as and roles.may(role, roles.Act.ACT_AS))):
            raise Refused(
                f"DESKCTL_USER={claimed} refused: on PostgreSQL you act as your database "
                f"login ({db_login}, agent {login}); only a manager may act as another agent, "
                "and only in commands that import or replay history"
            )
        login, how = claimed, f"DESKCTL_USER, acted as by {db_login}"
    return Identity(login, role, "postgresql", how, agent is not None, db_login, owner)


def _role_of_groups(groups: list[str]) -> str | None:
    for role in (roles.MANAGER, roles.AGENT, roles.READONLY):
        if GROUPS[role] in groups:
            return role
    return None


def require(session: Any, act: roles.Act, *, act_as: bool = False) -> Identity:
    """The acting identity, refused (exit 1) unless its role may do ``act``."""
    return require_on(Reader.over(session), act, act_as=act_as)


def require_on(r: Reader, act: roles.Act, *, act_as: bool = False) -> Identity:
    """:func:`require` on a DBAPI transaction (``services.moves``)."""
    who = identify_on(r, act_as=act_as)
    if not roles.may(who.role, act):
        raise Refused(refusal(who, act))
    return who


def refusal(who: Identity, act: roles.Act) -> str:
    if who.role is None:
        is_what = f"has no deskctl role (database login {who.db_login})"
    else:
        is_what = f"is {'an' if who.role[0] in 'aeiou' else 'a'} {who.role}"
    return f"{roles.DESCRIPTIONS[act]} needs {roles.needed(act)}; {who.login} {is_what}"
