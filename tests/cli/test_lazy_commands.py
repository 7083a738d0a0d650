"""Only the command invoked is imported and built; help, docs and completion see them all.

``cli.app.COMMANDS`` lists the top-level commands by hand (that is what lets the
root skip importing the others), so these tests hold the list to what the modules
actually register.
"""

from __future__ import annotations

import os
import subprocess
import sys

import typer
import typer.main

from deskctl.cli import app as app_module
from tests.conftest import ROOT

CLI = ROOT / "src" / "deskctl" / "cli"


def _registered() -> list[str]:
    """Every command the cli modules register when all of them are imported."""
    import importlib

    eager = typer.Typer()
    for path in sorted(CLI.glob("*.py")):
        module = importlib.import_module(f"deskctl.cli.{path.stem}")
        if hasattr(module, "register"):
            module.register(eager)
    group = typer.main.get_group(eager)
    return list(group.commands)


def test_the_lazy_list_is_every_registered_command_in_help_order() -> None:
    assert sorted(app_module.COMMANDS) == sorted(_registered())


def test_each_name_is_built_from_the_module_that_registers_it() -> None:
    for name in app_module.COMMANDS:
        command = app_module.load(name)
        assert command.name == name


def test_root_help_lists_every_command(cli) -> None:
    out = cli("--help").stdout
    for name in app_module.COMMANDS:
        assert f" {name} " in out, name


def test_an_unknown_command_is_a_usage_error(cli) -> None:
    result = cli("tickets", "list", code=2)
    assert "No such command" in result.stderr


def _modules_after(*args: str) -> set[str]:
    probe = (
        "import sys\n"
        "from deskctl.cli.app import main\n"
        "sys.argv = ['deskctl', *sys.argv[1:]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('LOADED=' + ','.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                          env=env, check=False)
    line = [ln for ln in done.stderr.splitlines() if ln.startswith("LOADED=")][-1]
    return set(line.removeprefix("LOADED=").split(","))


def test_a_command_imports_only_its_own_group(cli) -> None:
    cli("init")  # a store to read: a first use would create it through the ORM
    loaded = _modules_after("queue", "--no-pager")
    cli_modules = {m for m in loaded if m.startswith("deskctl.cli.") and not m.startswith(
        "deskctl.cli._")}
    assert cli_modules == {"deskctl.cli.app", "deskctl.cli.queue"}
    assert "pydantic" not in loaded


def test_completion_still_offers_every_top_level_command() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), _DESKCTL_COMPLETE="complete_bash",
               COMP_WORDS="deskctl ti", COMP_CWORD="1")
    done = subprocess.run([sys.executable, "-m", "deskctl"], capture_output=True, text=True,
                          env=env, check=False)
    assert "ticket" in done.stdout.split()
