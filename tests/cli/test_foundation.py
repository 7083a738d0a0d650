"""The ground every command stands on: start-up, init, errors and exit codes, master data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_version_and_help_do_not_load_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from deskctl.cli.app import app\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(app, ['--version'])\n"
        "assert r.exit_code == 0 and 'deskctl' in r.output, r.output\n"
        "heavy = ['sqlmodel', 'sqlalchemy', 'alembic', 'keyring', 'psycopg', 'holidays']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"loaded at start-up: {done.stdout.strip()}"


def test_init_is_idempotent(cli) -> None:
    first = cli.json("init")
    assert first["revision"] == first["revision"] and first["revision"] is not None
    again = cli.json("init")
    assert again["revision_before"] == again["revision"] == first["revision"]


def test_db_current_reports_head(cli) -> None:
    cli("init")
    doc = cli.json("db", "current")
    assert doc["up_to_date"] is True
    assert "password" not in doc["store"]


def test_schema_head_constant_matches_migrations() -> None:
    from deskctl.store import db

    assert db.head_revision() == db.SCHEMA_HEAD


def test_migrations_numbered_in_the_order_they_apply() -> None:
    """0001, 0002, … with no gap; each file's id, down_revision and docstring agree."""
    import re

    from alembic.script import ScriptDirectory

    from deskctl.store import db

    script = ScriptDirectory.from_config(db.alembic_config(db.default_engine_placeholder()))
    chain = list(reversed(list(script.walk_revisions())))
    assert [r.revision for r in chain] == [f"{n:04d}" for n in range(1, len(chain) + 1)]
    for previous, rev in zip([None, *chain], chain, strict=False):
        expected = previous.revision if previous else None
        assert rev.down_revision == expected
        assert rev.path is not None and rev.path.split("/")[-1].startswith(rev.revision + "_")
        doc = rev.module.__doc__ or ""
        revises = re.search(r"^Revises:[ \t]*(\S*)", doc, re.M)
        assert revises is not None and (revises.group(1) or None) == expected, rev.revision


def test_customer_add_list_and_duplicate(cli, store) -> None:
    cli("init")
    cli("customer", "add", "acme", "--name", "ACME Srl", "--country", "it", "--vat-rate", "22%")
    rows = cli.json("customer", "list")
    assert rows == [
        {"key": "acme", "name": "ACME Srl", "country": "IT", "vat_rate": "0.22", "policy": None,
         "locale": "it-IT", "created_at": rows[0]["created_at"]}
    ]
    dup = cli("customer", "add", "acme", "--name", "Other", "--country", "IT", code=2)
    assert dup.stderr.strip() == "deskctl: customer 'acme' already exists"
    assert len(cli.json("customer", "list")) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--country", "Italy"], "two-letter country code"),
        (["--country", "IT", "--vat-rate", "22"], "vat"),
        (["--country", "IT", "--vat-rate", "abc"], "vat"),
    ],
)
def test_customer_bad_input_writes_nothing(cli, args, message) -> None:
    cli("init")
    result = cli("customer", "add", "acme", "--name", "ACME", *args, code=2)
    assert message.lower() in result.stderr.lower()
    assert len(result.stderr.strip().splitlines()) == 1
    assert cli.json("customer", "list") == []


def test_unknown_customer_is_not_found(cli) -> None:
    cli("init")
    result = cli("contact", "add", "nobody", "a@b.example", code=3)
    assert result.stderr.strip() == "deskctl: no customer 'nobody'"


def test_contact_naming_history(cli) -> None:
    cli("customer", "add", "acme", "--name", "ACME", "--country", "IT")
    cli("contact", "add", "acme", "Ann@Acme.example", "--name", "Ann", "--named")
    cli("contact", "unname", "acme", "ann@acme.example", "--at", "2026-05-01T00:00:00Z")
    rows = cli.json("contact", "list", "acme")
    assert rows == [{"customer": "acme", "email": "ann@acme.example", "name": "Ann",
                     "named": False}]


def test_standing_needs_exactly_one_option(cli) -> None:
    cli("customer", "add", "acme", "--name", "ACME", "--country", "IT")
    cli("contract", "standing", "acme", code=2)
    cli("contract", "standing", "acme", "--paid", "--overdue-since", "2026-01-01", code=2)
    cli("contract", "standing", "acme", "--overdue-since", "2026-01-01")
    doc = cli.json("customer", "show", "acme")
    assert doc["overdue_since"] == "2026-01-01"


def test_bad_date_is_usage_error(cli) -> None:
    cli("product", "add", "opmon", "--current", "6.2", "--eol", "31/12/2027", code=2)
    assert cli.json("product", "list") == []


def test_store_unavailable_exit_5(cli, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DESKCTL_DB", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = cli("customer", "list", code=5)
    assert result.stderr.startswith("deskctl: store unavailable")
    assert len(result.stderr.strip().splitlines()) == 1


def test_json_output_is_a_single_document(cli) -> None:
    cli("customer", "add", "acme", "--name", "ACME", "--country", "IT")
    result = cli("customer", "add", "beta", "--name", "Beta", "--country", "ES", "--json")
    assert json.loads(result.stdout)["key"] == "beta"


def test_piped_list_is_tab_separated(cli) -> None:
    cli("customer", "add", "acme", "--name", "ACME", "--country", "IT")
    out = cli("customer", "list").stdout
    assert out.splitlines() == ["acme\tACME\tIT\t\t"]


def test_policy_with_unknown_holiday_code_is_refused_and_not_stored(cli, tmp_path) -> None:
    from tests.conftest import EXAMPLES

    original = (EXAMPLES / "medisoft.toml").read_text()
    text = original.replace('holidays = ["BR"]', 'holidays = ["XQ"]')
    assert 'holidays = ["XQ"]' in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    result = cli("policy", "load", str(bad), code=2)
    assert "calendars.medisoft.holidays" in result.stderr and "XQ" in result.stderr
    assert cli.json("policy", "list") == []
