"""Who may do what: the one role table, checked by the program on every backend.

PostgreSQL enforces the same table itself (GRANTs, triggers: migration 0009), so
a client that skips these checks gets nowhere; on SQLite (a single-user file)
this table is the whole enforcement.

A store with no agent at all is a single-user store: its one user may do
everything, and the first agent added becomes the manager (bootstrap). After
that only a manager adds agents or changes roles. On SQLite an acting user who
is not registered works as an agent; the manager-only acts need a registered
manager.
"""

from __future__ import annotations

from enum import StrEnum

READONLY = "readonly"
AGENT = "agent"
MANAGER = "manager"
ROLES = (READONLY, AGENT, MANAGER)

# Stores written before roles were enforced called managers "admin".
_ALIASES = {"admin": MANAGER, "read-only": READONLY, "read_only": READONLY}


class Act(StrEnum):
    READ = "read"  # lists, reports, billing export, attachments
    WORK = "work"  # tickets, work log, customers, contracts, kb, mail, sweep
    OVERRIDE = "override"  # open a ticket the contract does not cover
    LOAD_POLICY = "load-policy"
    STANDING = "standing"  # record an account's payment standing
    FINALISE = "finalise"  # finalise invoices
    VOID = "void"  # void invoices
    AGENTS = "agents"  # add agents, change roles
    ACT_AS = "act-as"  # write history in another agent's name (imports, replays)


_MANAGER_ONLY = frozenset(
    {Act.OVERRIDE, Act.LOAD_POLICY, Act.STANDING, Act.FINALISE, Act.VOID, Act.AGENTS, Act.ACT_AS}
)

PERMISSIONS: dict[Act, frozenset[str]] = {
    act: frozenset({MANAGER})
    if act in _MANAGER_ONLY
    else frozenset({AGENT, MANAGER})
    if act is Act.WORK
    else frozenset(ROLES)
    for act in Act
}

# What each act covers, for the README table and refusal messages.
DESCRIPTIONS: dict[Act, str] = {
    Act.READ: "read tickets, queues, reports, bills (draft), invoices, attachments",
    Act.WORK: "open and move tickets, log work, add customers/contacts/contracts, kb, "
    "mail fetch, sweep",
    Act.OVERRIDE: "open a ticket with --override (not entitled)",
    Act.LOAD_POLICY: "load policies (policy load, init --policy)",
    Act.STANDING: "record account standing (contract standing)",
    Act.FINALISE: "finalise invoices (bill finalize)",
    Act.VOID: "void invoices (invoice void)",
    Act.AGENTS: "add agents, change roles",
    Act.ACT_AS: "act as another agent (DESKCTL_USER on PostgreSQL: demo, imports)",
}


def normalise(role: str) -> str | None:
    """The canonical role name, or None when it is not a role."""
    name = role.strip().lower()
    name = _ALIASES.get(name, name)
    return name if name in ROLES else None


def may(role: str | None, act: Act) -> bool:
    return role is not None and role in PERMISSIONS[act]


def needed(act: Act) -> str:
    """Who may do it, for a refusal message: 'a manager' or 'an agent or a manager'."""
    allowed = [r for r in ROLES if r in PERMISSIONS[act]]
    return " or ".join(f"{'an' if r[0] in 'aeiou' else 'a'} {r}" for r in allowed)
