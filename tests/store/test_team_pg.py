"""A team on a real PostgreSQL: three LOGIN roles (agent, manager, read-only) and the owner.

Identity is the database login; roles are enforced by GRANTs and triggers, so the
same attempts are made through deskctl and with direct SQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.cli.test_billing_cli import PERIOD, log, open_dms
from tests.conftest import EXAMPLES
from tests.factory import seed_dms
from tests.pg import Cluster

pytestmark = pytest.mark.pg

LOGINS = {"ana": "agent", "mia": "manager", "rob": "readonly"}


@pytest.fixture(scope="session")
def team_logins(pg_cluster: Cluster) -> Cluster:
    with psycopg.connect(host="127.0.0.1", port=pg_cluster.port, user=pg_cluster.user,
                         dbname="postgres", autocommit=True) as conn:
        for login in LOGINS:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone()
            if not exists:
                conn.execute(f"CREATE ROLE {login} LOGIN")
    return pg_cluster


class Team:
    def __init__(self, cluster: Cluster, owner_url: str, mp: pytest.MonkeyPatch) -> None:
        self.cluster = cluster
        self.owner_url = owner_url
        self.database = owner_url.rsplit("/", 1)[1]
        self.mp = mp

    def url(self, login: str) -> str:
        return f"postgresql+psycopg://{login}@127.0.0.1:{self.cluster.port}/{self.database}"

    def become(self, login: str, *, claim: str | None = None) -> None:
        """Connect as ``login``; ``claim``: what DESKCTL_USER says (unset by default)."""
        self.mp.setenv("DESKCTL_DB", self.owner_url if login == "owner" else self.url(login))
        if claim is None:
            self.mp.delenv("DESKCTL_USER", raising=False)
        else:
            self.mp.setenv("DESKCTL_USER", claim)

    def sql(self, login: str, statement: str) -> Any:
        user = self.cluster.user if login == "owner" else login
        with psycopg.connect(host="127.0.0.1", port=self.cluster.port, user=user,
                             dbname=self.database, autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else None


@pytest.fixture
def team(team_logins: Cluster, pg_url: str, cli, monkeypatch) -> Iterator[Team]:
    """A DMS store made by the owner, with mia (manager), ana (agent), rob (read-only)."""
    monkeypatch.setenv("DESKCTL_NOW", "2026-04-01T08:00:00Z")
    seed = seed_dms(cli)
    cli("agent", "add", "mia", "--role", "manager")
    cli("agent", "add", "ana", "--role", "agent")
    cli("agent", "add", "rob", "--role", "readonly")
    t = Team(team_logins, pg_url, monkeypatch)
    t.seed = seed  # type: ignore[attr-defined]
    yield t


def test_identity_is_the_database_login_and_forged_users_are_refused(team, cli) -> None:
    team.become("ana")
    assert cli.json("agent", "whoami")["login"] == "ana"
    ticket = open_dms(cli, team.seed)
    assert {e["actor"] for e in cli.json("ticket", "show", ticket)["events"]} == {"ana"}
    team.become("ana", claim="mia")
    refused = cli("ticket", "log", ticket, "30m", code=1)
    assert "DESKCTL_USER=mia refused" in refused.stderr
    team.become("mia", claim="ana")  # a manager too: ticket commands are not act-as
    assert "DESKCTL_USER=ana refused" in cli("ticket", "respond", ticket, code=1).stderr
    team.become("ana", claim="ana")  # naming yourself is fine
    cli("ticket", "log", ticket, "30m")
    worklog = cli.json("ticket", "worklog", ticket)["entries"]
    assert [e["actor"] for e in worklog] == ["ana"]


def test_queue_mine_is_the_database_logins_queue(team, cli, monkeypatch) -> None:
    team.become("mia")
    mine = open_dms(cli, team.seed)
    theirs = open_dms(cli, team.seed)
    cli("ticket", "triage", mine, theirs, "--severity", "high")
    cli("ticket", "assign", mine, "--to", "ana")
    cli("ticket", "assign", theirs, "--to", "mia")
    monkeypatch.setenv("USER", "someone-else")  # the OS login of a shared jump host
    team.become("ana")
    queued = cli.json("queue", "--mine")
    assert queued["filter"]["assignee"] == "ana"
    ids = [t["id"] for g in queued["groups"] for t in g["tickets"]]
    assert ids == [int(mine)]
    team.become("ana", claim="mia")  # not trusted: still ana's own queue
    assert cli.json("queue", "--mine")["filter"]["assignee"] == "ana"


def test_an_agent_cannot_escalate_itself(team, cli) -> None:
    team.become("ana")
    for args in (
        ["agent", "add", "eve", "--role", "manager"],
        ["agent", "set", "ana", "--role", "manager"],
        ["policy", "load", str(EXAMPLES / "medisoft.toml")],
        ["contract", "standing", "studio", "--paid"],
    ):
        assert cli(*args, code=1).stderr.startswith("deskctl: ")
    for statement in (
        "UPDATE agent SET role = 'manager' WHERE login = 'ana'",
        "INSERT INTO agent (login, name, role, created_at) VALUES ('eve', '', 'manager', now())",
        "GRANT deskctl_manager TO ana",
        "SELECT deskctl_grant_role('ana', 'manager')",
        "INSERT INTO standing (customer_id, at, actor, note) VALUES (1, now(), 'ana', '')",
        "INSERT INTO policy_version (name, version, digest, source, text, loaded_at, loaded_by)"
        " VALUES ('x', 9, 'x', '', '', now(), 'ana')",
    ):
        with pytest.raises(psycopg.Error):
            team.sql("ana", statement)
    assert cli.json("agent", "whoami")["role"] == "agent"
    team.become("mia")
    cli("agent", "set", "ana", "--role", "manager")
    team.become("ana")
    assert cli.json("agent", "whoami")["role"] == "manager"
    cli("contract", "standing", "studio", "--paid")


def test_history_cannot_be_rewritten_by_any_deskctl_role(team, cli) -> None:
    team.become("ana")
    ticket = open_dms(cli, team.seed, at="2026-03-02T09:00:00Z")
    log(cli, ticket, "1h")
    team.become("ana")
    refused = cli("bill", "finalize", "--customer", "studio", *PERIOD, code=1)
    assert "finalise invoices (bill finalize) needs a manager" in refused.stderr
    team.become("mia")
    number = cli("bill", "finalize", "--customer", "studio", *PERIOD).stdout.strip()
    for login in ("ana", "mia", "rob", "owner"):
        for statement in (
            "UPDATE ticket_event SET actor = 'framed'",
            "DELETE FROM ticket_event",
            "UPDATE worklog SET minutes = 1",
            "DELETE FROM worklog",
            "UPDATE invoice SET total = 0",
            "DELETE FROM invoice",
            "UPDATE invoice_line SET amount = 0",
            "DELETE FROM invoice_line",
        ):
            with pytest.raises(psycopg.Error):
                team.sql(login, statement)
    events = cli.json("ticket", "show", ticket)["events"]
    assert "framed" not in {e["actor"] for e in events}
    team.become("ana")
    assert "void invoices (invoice void) needs a manager" in cli(
        "invoice", "void", number, "--reason", "typo", code=1
    ).stderr
    team.become("mia")
    cli("invoice", "void", number, "--reason", "typo")
    assert cli.json("invoice", "show", number)["status"] == "void"


def test_the_database_writes_the_event_actor(team, cli) -> None:
    team.become("ana")
    ticket = open_dms(cli, team.seed)
    team.sql(
        "ana",
        "INSERT INTO ticket_event (ticket_id, seq, at, kind, actor)"
        f" VALUES ({ticket}, 99, now(), 'note', 'framed')",
    )
    rows = team.sql("owner", f"SELECT actor FROM ticket_event WHERE ticket_id = {ticket}")
    assert {r[0] for r in rows} == {"ana"}


def test_a_readonly_login_reads_and_cannot_write(team, cli) -> None:
    team.become("ana")
    ticket = open_dms(cli, team.seed)
    team.become("rob")
    assert [t["id"] for t in cli.json("ticket", "list")] == [ticket]
    assert cli.json("agent", "whoami")["role"] == "readonly"
    refused = cli("ticket", "respond", ticket, code=1)
    assert "rob is a readonly" in refused.stderr
    cli("customer", "add", "x", "--name", "X", "--country", "BR", code=1)
    for statement in (
        "INSERT INTO customer (key, name, country, created_at) VALUES ('x', 'X', 'BR', now())",
        f"UPDATE ticket SET title = 'x' WHERE id = {ticket}",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            team.sql("rob", statement)


def test_an_agent_may_not_override_entitlement_even_in_sql(team, cli) -> None:
    team.become("ana")
    result = cli("ticket", "open", "--customer", "studio", "--contact", "marco@studio.example",
                 "--title", "x", "--override", "please", code=1)
    assert "needs a manager" in result.stderr
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        team.sql(
            "ana",
            "INSERT INTO ticket (customer_id, title, channel, status, entitlement, opened_at,"
            " updated_at, rev) VALUES (1, 'x', 'email', 'draft', '{\"override\": \"me\"}',"
            " now(), now(), 0)",
        )


def test_setup_roles_is_idempotent_and_refused_on_sqlite(team, cli, monkeypatch) -> None:
    team.become("owner")
    cli("db", "setup-roles")
    cli("db", "setup-roles")
    monkeypatch.setenv("DESKCTL_DB", os.path.join(os.environ["DESKCTL_DATA_DIR"], "x.db"))
    cli("db", "setup-roles", code=2)


def test_attachments_opened_by_one_login_are_read_by_another(team, cli, tmp_path) -> None:
    shot = tmp_path / "screen.png"
    shot.write_bytes(b"\x89PNG pixels from ana's machine")
    team.become("ana")
    ticket = int(cli(
        "ticket", "open", "--customer", "studio", "--contact", "marco@studio.example",
        "--title", "Index rebuild", "--product", "dms", "--version", "10.4",
        "--channel", "email", "--attach", str(shot),
    ).stdout)
    shot.unlink()  # gone from ana's disk: the store has it
    for login in ("mia", "rob"):
        team.become(login)
        [att] = cli.json("ticket", "attachment", "list", ticket)
        assert att["filename"] == "screen.png"
        got = cli("ticket", "attachment", "get", ticket, "screen.png", "-o", "-").stdout_bytes
        assert got == b"\x89PNG pixels from ana's machine"
