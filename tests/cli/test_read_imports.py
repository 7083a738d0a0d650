"""Read commands load only what they use: no ORM, no migrations, no keyring.

Each command runs in a fresh interpreter on a store built by the CLI; the test
reads ``sys.modules`` at exit. Start-up is most of a read command's time, and
SQLModel alone costs more than the whole command should.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.factory import open_ticket, seed_dms

# Never on a read path: the ORM and its schema machinery, the keyring probe, the
# document stack, and pydantic (typer's own coercion; cli._coerce replaces it).
NEVER = (
    "pydantic",
    "sqlmodel",
    "sqlalchemy",
    "alembic",
    "keyring",
    "babel",
    "jinja2",
    "weasyprint",
)
# Only the commands that compute business time (ticket show, sla status) need the
# holiday tables, and only until they are kept in the data dir (services.holiday_cache).

PROBE = (
    "import sys\n"
    "from deskctl.cli.app import main\n"
    "sys.argv = ['deskctl', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exc:\n"
    "    code = exc.code or 0\n"
    "else:\n"
    "    code = 0\n"
    "names = {heavy}\n"
    "print('LOADED=' + ','.join(m for m in names if m in sys.modules), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _loaded(*args: str) -> set[str]:
    heavy = [*NEVER, "holidays", "psycopg"]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=heavy), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stderr}"
    line = [ln for ln in done.stderr.splitlines() if ln.startswith("LOADED=")][-1]
    return {m for m in line.removeprefix("LOADED=").split(",") if m}


@pytest.fixture
def seeded(cli, store, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-10T12:00:00Z")
    seed = seed_dms(cli)
    ticket = open_ticket(cli, seed, at="2026-03-02T09:00:00Z")
    cli("ticket", "triage", ticket, "--severity", "high", "--at", "2026-03-02T09:30:00Z")
    cli("kb", "add", "kb-a", "--title", "Index", "--url", "https://kb.example/a", "--topic", "x")
    return ticket


def _commands(ticket: int) -> list[tuple[str, list[str]]]:
    return [
        ("ticket list", ["ticket", "list", "--limit", "50"]),
        ("ticket list", ["ticket", "list", "--limit", "50", "--customer", "studio", "--json"]),
        ("ticket show", ["ticket", "show", str(ticket)]),
        ("ticket show", ["ticket", "show", str(ticket), "--json"]),
        ("queue", ["queue", "--no-pager"]),
        ("sla status", ["sla", "status", str(ticket)]),
        ("contract check", ["contract", "check", "studio", "--contact", "marco@studio.example"]),
        ("kb search", ["kb", "search", "index"]),
        ("invoice list", ["invoice", "list"]),
    ]


def test_read_commands_load_no_orm_alembic_or_keyring(seeded, store) -> None:
    _loaded("ticket", "show", str(seeded))  # keeps the holiday tables it used, if not yet
    for _name, args in _commands(seeded):
        loaded = _loaded(*args)
        assert not loaded & set(NEVER), f"{' '.join(args)} loaded {sorted(loaded & set(NEVER))}"
        assert "holidays" not in loaded, f"{' '.join(args)} loaded holidays"
        # The driver of the store in use, and only that one.
        assert ("psycopg" in loaded) == (store == "postgresql"), f"{args}: {sorted(loaded)}"


def test_a_store_not_yet_created_is_still_created_on_first_read(cli, tmp_path) -> None:
    """The light path hands a missing SQLite store to the full one, which creates it."""
    db = tmp_path / "fresh" / "store.db"
    result = cli("ticket", "list", env={"DESKCTL_DB": str(db)})
    assert result.stdout == ""
    assert db.is_file()
    assert cli.json("db", "current", env={"DESKCTL_DB": str(db)})["up_to_date"] is True


def test_ticket_assign_loads_no_orm_either(cli, seeded, store) -> None:
    """The move scripts run on many tickets writes through the DBAPI (services.moves)."""
    cli("agent", "add", "tester", "--role", "manager")
    _loaded("ticket", "show", str(seeded))  # keeps the holiday tables it used, if not yet
    for args in (["ticket", "assign", str(seeded), "--to", "tester"],
                 ["ticket", "assign", str(seeded), "--to", "tester", "--json"]):
        loaded = _loaded(*args)
        assert not loaded & {*NEVER, "holidays"}, f"{' '.join(args)} loaded {sorted(loaded)}"
        assert ("psycopg" in loaded) == (store == "postgresql"), f"{args}: {sorted(loaded)}"
