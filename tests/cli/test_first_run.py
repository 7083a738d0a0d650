"""A new user's first commands: the shipped example policies and a demo that always works."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

NOW = "2026-03-01T10:00:00Z"


@pytest.fixture
def no_store_set(monkeypatch: pytest.MonkeyPatch) -> Path:
    """No DESKCTL_DB: the user's real store is deskctl.db in the data dir."""
    monkeypatch.delenv("DESKCTL_DB")
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    return Path(os.environ["DESKCTL_DATA_DIR"])


def _tickets(path: Path) -> int:
    return sqlite3.connect(path).execute("SELECT COUNT(*) FROM ticket").fetchone()[0]


def test_policy_examples_lists_the_shipped_policies(cli) -> None:
    rows = cli.json("policy", "examples")
    assert [r["name"] for r in rows] == ["dms", "imexhs", "medisoft", "opmon", "progresssoft"]
    assert {r["vendor"] for r in rows} >= {"Medisoft", "IMEXHS"}
    assert all(Path(r["file"]).is_file() for r in rows)


def test_load_an_example_by_name(cli) -> None:
    cli("init", "--example", "medisoft")
    result = cli("policy", "load", "--example", "dms")
    assert result.stderr == "policy dms loaded as version 1\n"
    assert [r["name"] for r in cli.json("policy", "list")] == ["dms", "medisoft"]


def test_unknown_example_names_the_choices(cli) -> None:
    result = cli("policy", "load", "--example", "acme", code=3)
    assert result.stderr.startswith("deskctl: no example policy 'acme'; the examples are: dms,")


def test_policy_load_needs_a_file_or_an_example(cli, tmp_path: Path) -> None:
    assert "--example" in cli("policy", "load", code=2).stderr
    cli("policy", "load", str(tmp_path / "x.toml"), "--example", "dms", code=2)


def test_demo_twice_in_a_row_builds_its_own_store(cli, no_store_set: Path) -> None:
    demo = no_store_set / "demo.db"
    for tickets in ("30", "40"):
        result = cli("demo", "--tickets", tickets)
        assert f"export DESKCTL_DB={demo}\n" in result.stderr
        assert _tickets(demo) == int(tickets)
        assert cli.json("demo", "--tickets", tickets)["counts"]["tickets"] == int(tickets)
    assert not (no_store_set / "deskctl.db").exists()
    # the demo store (and its WAL files), and the holiday tables its calendars used
    kept = {p.name.partition("-")[0] for p in no_store_set.iterdir()}
    assert kept - {"holidays.json"} == {"demo.db"}


def test_demo_never_touches_the_real_store(cli, no_store_set: Path) -> None:
    cli("customer", "add", "acme", "--name", "ACME", "--country", "IT")
    real = no_store_set / "deskctl.db"
    before = real.read_bytes()
    doc = cli.json("demo", "--tickets", "10")
    assert doc["store"] == f"sqlite:///{no_store_set / 'demo.db'}"
    assert real.read_bytes() == before
    assert cli.json("customer", "list")[0]["key"] == "acme"


def test_demo_store_is_usable_with_the_printed_line(cli, no_store_set: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    line = cli("demo", "--tickets", "25").stderr.splitlines()[-1]
    name, _, value = line.removeprefix("export ").partition("=")
    monkeypatch.setenv(name, value)
    assert len(cli.json("ticket", "list", "--limit", "0")) == 25


def test_explicit_store_is_still_refused_when_it_holds_data(cli) -> None:
    cli("demo", "--tickets", "5")
    result = cli("demo", "--tickets", "5", code=1)
    assert "export" not in result.stderr
    assert "already holds data" in result.stderr
