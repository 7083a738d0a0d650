"""Shell completion: the scripts shipped in completions/, and a fast completion path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

HEAVY = ("sqlmodel", "sqlalchemy", "alembic", "keyring", "psycopg", "holidays")
GENERATOR = ROOT / "scripts" / "gen_completions.py"
SHIPPED = {"bash": "deskctl.bash", "zsh": "_deskctl", "fish": "deskctl.fish"}


@pytest.mark.parametrize("shell", sorted(SHIPPED))
def test_shipped_script_is_what_the_command_prints(cli, shell: str) -> None:
    """Fails when completions/ is stale: run scripts/gen_completions.py."""
    printed = cli("completion", shell).stdout
    assert (ROOT / "completions" / SHIPPED[shell]).read_text(encoding="utf-8") == printed
    assert "_DESKCTL_COMPLETE=complete_" + shell in printed


def test_zsh_script_starts_with_its_compdef_tag(cli) -> None:
    assert cli("completion", "zsh").stdout.splitlines()[0] == "#compdef deskctl"


def test_unknown_shell_is_usage_error(cli) -> None:
    result = cli("completion", "tcsh", code=2)
    assert "tcsh" in result.stderr


def _generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *args], capture_output=True, text=True, check=False
    )


def test_generator_check_passes_on_the_repository() -> None:
    done = _generate("--check")
    assert done.returncode == 0, done.stderr


def test_generator_writes_and_detects_stale_files(tmp_path: Path) -> None:
    assert _generate("--out", str(tmp_path)).returncode == 0
    for name in SHIPPED.values():
        shipped = (ROOT / "completions" / name).read_text(encoding="utf-8")
        assert (tmp_path / name).read_text(encoding="utf-8") == shipped
    assert _generate("--check", "--out", str(tmp_path)).returncode == 0
    (tmp_path / "deskctl.fish").write_text("# edited by hand\n", encoding="utf-8")
    (tmp_path / "_deskctl").unlink()
    done = _generate("--check", "--out", str(tmp_path))
    assert done.returncode == 1
    assert "deskctl.fish" in done.stderr and "_deskctl" in done.stderr
    assert "deskctl.bash" not in done.stderr
    assert not (tmp_path / "_deskctl").exists()  # --check writes nothing


def _complete(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the completion path in a fresh interpreter; report heavy modules at exit."""
    code = (
        "import atexit, sys\n"
        f"heavy = {HEAVY!r}\n"
        "atexit.register(lambda: sys.stderr.write("
        "'loaded:' + ','.join(m for m in heavy if m in sys.modules) + '\\n'))\n"
        "from deskctl.cli.app import main\n"
        "main()\n"
    )
    full = dict(os.environ, PYTHONPATH=str(ROOT / "src"), **env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, check=False
    )


def test_bash_completion_answers_without_loading_the_store() -> None:
    done = _complete(
        {"_DESKCTL_COMPLETE": "complete_bash", "COMP_WORDS": "deskctl tic", "COMP_CWORD": "1"}
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ticket"]
    assert "loaded:\n" in done.stderr, done.stderr


def test_bash_completion_of_subcommands_and_options() -> None:
    done = _complete(
        {
            "_DESKCTL_COMPLETE": "complete_bash",
            "COMP_WORDS": "deskctl ticket list --st",
            "COMP_CWORD": "3",
        }
    )
    assert done.stdout.split() == ["--status"]
    done = _complete(
        {
            "_DESKCTL_COMPLETE": "complete_bash",
            "COMP_WORDS": "deskctl completion ",
            "COMP_CWORD": "2",
        }
    )
    assert done.stdout.split() == ["bash", "zsh", "fish"]


def test_zsh_completion_lists_commands_with_help() -> None:
    done = _complete(
        {"_DESKCTL_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "deskctl ticket "}
    )
    assert done.returncode == 0, done.stderr
    for command in ("open", "list", "show"):
        assert f'"{command}":' in done.stdout
    assert "loaded:\n" in done.stderr
