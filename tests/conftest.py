"""Shared fixtures: an isolated home per test, a CLI runner, SQLite and PostgreSQL stores."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.pg import Cluster

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
_db_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own HOME, data dir and SQLite store, and no colour."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"),
                     ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("DESKCTL_DATA_DIR", str(tmp_path / "deskctl-data"))
    monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "deskctl.db"))
    monkeypatch.setenv("DESKCTL_USER", "tester")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.delenv("DESKCTL_NOW", raising=False)
    monkeypatch.delenv("DESKCTL_CONFIG", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    yield tmp_path
    from deskctl.store import db

    db.dispose_all()


_COMMAND: Any = None


def _command_once(app: Any) -> Any:
    """Build the click command tree once per test process, not once per invocation."""
    global _COMMAND
    if _COMMAND is None:
        import typer.main

        _COMMAND = typer.main.get_command(app)
    return _COMMAND


class Cli:
    """Runs deskctl in-process; ``json=True`` parses stdout as one JSON document."""

    def __init__(self) -> None:
        import typer.testing

        typer.testing._get_command = _command_once  # type: ignore[attr-defined]
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int | None = 0, input: str | None = None,
                 env: dict[str, str] | None = None) -> Any:
        from deskctl.cli.app import app

        result = self.runner.invoke(app, [str(a) for a in args], input=input, env=env)
        if code is not None and result.exit_code != code:
            raise AssertionError(
                f"deskctl {' '.join(map(str, args))} exited {result.exit_code}, expected {code}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
            )
        return result

    def json(self, *args: str, **kw: Any) -> Any:
        result = self(*args, "--json", **kw)
        return json.loads(result.stdout)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    explicit = os.environ.get("DESKCTL_TEST_PG_URL")
    if explicit:
        pytest.skip("using DESKCTL_TEST_PG_URL")  # pragma: no cover
    cluster = Cluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh PostgreSQL database for this test, set as DESKCTL_DB."""
    url = pg_cluster.create_database(f"t{os.getpid()}_{next(_db_counter)}")
    monkeypatch.setenv("DESKCTL_DB", url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on SQLite and on PostgreSQL; returns the backend name."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_url")
    return str(request.param)

