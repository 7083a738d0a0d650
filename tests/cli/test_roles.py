"""The role table on SQLite: bootstrap, manager-only acts, read-only agents, history triggers."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import pytest

from deskctl.domain import roles
from deskctl.domain.roles import Act
from tests.cli.test_billing_cli import PERIOD, log, open_dms
from tests.conftest import EXAMPLES
from tests.factory import open_ticket, seed_dms, seed_medisoft

NOW = "2026-04-01T08:00:00Z"


def as_user(monkeypatch: pytest.MonkeyPatch, login: str) -> None:
    monkeypatch.setenv("DESKCTL_USER", login)


def test_role_table_gives_manager_only_acts_to_managers() -> None:
    for act in (Act.OVERRIDE, Act.LOAD_POLICY, Act.STANDING, Act.FINALISE, Act.VOID, Act.AGENTS):
        assert roles.may("manager", act)
        assert not roles.may("agent", act)
        assert not roles.may("readonly", act)
    assert roles.may("agent", Act.WORK) and not roles.may("readonly", Act.WORK)
    assert all(roles.may(r, Act.READ) for r in roles.ROLES)
    assert not roles.may(None, Act.READ)
    assert roles.normalise("admin") == "manager" and roles.normalise("root") is None


def test_an_empty_store_bootstraps_its_first_agent_as_manager(cli, monkeypatch) -> None:
    cli("init", "--policy", str(EXAMPLES / "medisoft.toml"))  # no agents: one user, every act
    refused = cli("agent", "add", "carla", "--role", "agent", code=1)
    assert "the first agent of a store is its manager" in refused.stderr
    assert cli.json("agent", "add", "boss")["role"] == "manager"
    assert cli.json("agent", "list") == [
        {"login": "boss", "name": "", "role": "manager", "team": None, "email": None,
         "db_role": None}
    ]


def test_an_unregistered_user_cannot_make_itself_a_manager(cli, monkeypatch) -> None:
    seed_medisoft(cli)
    cli("agent", "add", "boss")
    as_user(monkeypatch, "eve")
    result = cli("agent", "add", "eve", "--role", "admin", code=1)
    assert "add agents, change roles needs a manager; eve is an agent" in result.stderr
    cli("agent", "set", "boss", "--role", "readonly", code=1)
    assert [a["login"] for a in cli.json("agent", "list")] == ["boss"]
    who = cli.json("agent", "whoami")
    assert who["login"] == "eve" and who["role"] == "agent" and not who["registered"]


def test_manager_only_acts_refused_to_agents(cli, monkeypatch) -> None:
    seed = seed_dms(cli)
    cli("agent", "add", "boss")
    as_user(monkeypatch, "boss")
    cli("agent", "add", "carla", "--role", "agent")
    ticket = open_dms(cli, seed)
    log(cli, ticket, "1h")
    as_user(monkeypatch, "carla")
    assert cli.json("agent", "whoami")["role"] == "agent"
    checks = [
        (["policy", "load", str(EXAMPLES / "medisoft.toml")], "load policies"),
        (["contract", "standing", "studio", "--paid"], "record account standing"),
        (["bill", "finalize", "--customer", "studio", *PERIOD], "finalise invoices"),
        (["agent", "set", "carla", "--role", "manager"], "change roles"),
        (["agent", "add", "mallory", "--role", "agent"], "add agents"),
    ]
    for args, what in checks:
        result = cli(*args, code=1)
        assert what in result.stderr and "needs a manager; carla is an agent" in result.stderr
    assert cli.json("agent", "whoami")["role"] == "agent"  # no self-escalation
    as_user(monkeypatch, "boss")
    number = cli("bill", "finalize", "--customer", "studio", *PERIOD).stdout.strip()
    as_user(monkeypatch, "carla")
    assert "void invoices (invoice void) needs a manager" in cli(
        "invoice", "void", number, "--reason", "typo", code=1
    ).stderr
    as_user(monkeypatch, "boss")
    cli("invoice", "void", number, "--reason", "typo")
    cli("agent", "set", "carla", "--role", "manager")
    as_user(monkeypatch, "carla")
    cli("contract", "standing", "studio", "--paid")


def test_a_readonly_agent_reads_but_never_writes(cli, monkeypatch) -> None:
    seed = seed_medisoft(cli)
    cli("agent", "add", "boss")
    as_user(monkeypatch, "boss")
    cli("agent", "add", "rita", "--role", "readonly")
    ticket = open_ticket(cli, seed)
    as_user(monkeypatch, "rita")
    assert [t["id"] for t in cli.json("ticket", "list")] == [ticket]
    cli("ticket", "show", ticket)
    result = cli("ticket", "open", "--customer", "hosp", "--contact", "ana@hosp.example",
                 "--title", "x", code=1)
    assert "needs an agent or a manager; rita is a readonly" in result.stderr
    cli("customer", "add", "x", "--name", "X", "--country", "BR", code=1)
    assert [t["id"] for t in cli.json("ticket", "list")] == [ticket]


def _sqlite(cli: Any) -> sqlite3.Connection:
    return sqlite3.connect(os.environ["DESKCTL_DB"])


def test_history_cannot_be_rewritten_from_a_stray_sqlite3_session(cli) -> None:
    seed = seed_dms(cli)
    ticket = open_dms(cli, seed)
    log(cli, ticket, "1h")
    number = cli("bill", "finalize", "--customer", "studio", *PERIOD).stdout.strip()
    conn = _sqlite(cli)
    statements = [
        "UPDATE ticket_event SET actor = 'framed'",
        "DELETE FROM ticket_event",
        "DELETE FROM worklog",
        "UPDATE worklog SET minutes = 1",
        "UPDATE invoice SET total = '0.00'",
        "DELETE FROM invoice",
        "UPDATE invoice_line SET amount = '0.00'",
        "DELETE FROM invoice_line",
    ]
    for sql in statements:
        with pytest.raises(sqlite3.DatabaseError, match=r"append-only|cannot be"):
            conn.execute(sql)
    conn.close()
    events = cli.json("ticket", "show", ticket)["events"]
    assert {e["actor"] for e in events} == {"tester"}
    cli("invoice", "void", number, "--reason", "wrong period")  # voiding is allowed, once
    conn = _sqlite(cli)
    with pytest.raises(sqlite3.DatabaseError, match="cannot be changed"):
        conn.execute("UPDATE invoice SET status = 'final'")
    conn.close()
    assert bill_lines(cli)  # the voided invoice's work is billable again


def bill_lines(cli: Any) -> list:
    return cli.json("bill", "--customer", "studio", *PERIOD)["lines"]
