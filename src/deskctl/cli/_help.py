"""Help that reads like a Unix tool's: conventional metavars, each time format said once,
an example for every command group, and the values the shell completes for each metavar.

Applied to each command as it is loaded (``cli.app``: only the group invoked is
built), so a new option gets a metavar from its name or type without anyone writing
one by hand; an explicit ``metavar=`` in a command always wins. The same walk gives
each parameter its pydantic-free coercion (``cli._coerce``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

INSTANT_FORMAT = "ISO-8601 with offset, e.g. 2026-03-05T16:00-03:00"
DATE_FORMAT = "YYYY-MM-DD"

# Option or argument name -> metavar.
BY_NAME = {
    "--at": "INSTANT", "--from": "DATE", "--to": "DATE", "--start": "DATE", "--end": "DATE",
    "--activated": "DATE", "--eol": "DATE", "--eol-announced": "DATE",
    "--license-issued": "DATE", "--overdue-since": "DATE", "--month": "YYYY-MM",
    "--in": "DURATION", "--expiring": "DURATION", "--customer": "CUSTOMER",
    "--contact": "EMAIL", "--email": "EMAIL", "--assignee": "AGENT", "--team": "TEAM",
    "--status": "STATUS", "--severity": "SEVERITY", "--category": "CATEGORY",
    "--outcome": "OUTCOME", "--on": "PARTY", "--channel": "CHANNEL", "--plan": "PLAN",
    "--policy": "POLICY", "--product": "PRODUCT", "--version": "VERSION",
    "--current": "VERSION", "--kb": "ARTICLE", "--html": "FILE", "--attach": "FILE",
    "--from-eml": "FILE", "--vat-rate": "RATE", "--consultancy-hours": "HOURS",
    "--share-ratio": "RATIO", "--if-rev": "REV", "--role": "ROLE", "--limit": "N",
    "--seed": "N", "--tickets": "N", "--recur-days": "DAYS", "--misuse-repeats": "N",
    "--min-comebacks": "N", "--min-defects": "N", "--by": "PERIOD", "--csv-table": "TABLE",
    "--url": "URL", "--kind": "KIND", "--via": "VIA", "--what": "WHAT", "--topic": "TOPIC",
    "--impact": "LEVEL", "--urgency": "LEVEL", "--country": "CC", "--sort": "ORDER",
    "--name": "NAME", "--note": "TEXT", "--reason": "TEXT", "--solution": "TEXT",
    "--override": "REASON", "--title": "TEXT", "--message": "TEXT", "--body": "TEXT",
    "--vendor": "NAME", "--part": "TITLE",
    "ticket_id": "ID", "ticket_ids": "ID", "contract_id": "ID", "customer": "CUSTOMER",
    "email": "EMAIL",
    "name": "NAME", "key": "KEY", "path": "FILE", "file": "FILE", "text": "TEXT",
    "number": "NUMBER", "hours": "HOURS", "url": "URL", "login": "AGENT", "minutes": "MINUTES",
    "shell": "SHELL",
}
# Where the same name means something else: (command path, option) -> metavar.
BY_COMMAND = {
    ("ticket assign", "--to"): "AGENT",
    ("ticket forward", "--to"): "THIRD_PARTY",
    ("calendar due", "--from"): "INSTANT",
    ("calendar elapsed", "--from"): "INSTANT",
    ("calendar elapsed", "--to"): "INSTANT",
}
# Typer's type names, for options nobody named above.
BY_TYPE = {"<str>": "TEXT", "<int>": "INTEGER", "<int range>": "INTEGER", "<float>": "NUMBER",
           "<path>": "FILE", "<list[str]>": "TEXT", "<list[int]>": "INTEGER"}


# An example invocation for every command group, shown at the end of its help.
GROUP_EXAMPLES = {
    "db": "deskctl db current; deskctl db backup deskctl-2026-03-01.db",
    "policy": "deskctl policy examples; deskctl policy load --example medisoft; "
    "deskctl policy show medisoft",
    "customer": 'deskctl customer add hosp --name "Hospital São Lucas" --country BR',
    "contact": 'deskctl contact add hosp ana@hosp.example --name "Ana Souza" --named',
    "product": "deskctl product add pacs --current 6.2",
    "agent": 'deskctl agent add maria --name "Maria Lima" --email maria@vendor.example',
    "contract": "deskctl contract add hosp --plan maintenance --start 2026-01-01 "
    "--product pacs; deskctl contract check hosp --contact ana@hosp.example",
    "ticket": 'id=$(deskctl ticket open --customer hosp --contact ana@hosp.example --title '
    '"Viewer crashes"); deskctl ticket triage $id --severity high; '
    "deskctl ticket assign $id --to maria",
    "kb": 'deskctl kb search "merge studies"',
    "bill": "deskctl bill --customer studio --from 2026-05-01 --to 2026-05-31",
    "invoice": "deskctl invoice list; deskctl invoice show INV-2026-0001",
    "report": "deskctl report overview --from 2026-01-01 --to 2026-03-31 --html q1.html",
    "mail": "deskctl mail outbox",
    "calendar": "deskctl calendar due medisoft --from 2026-04-02T15:00-03:00 --in 8h",
    "sla": "deskctl sla status 42; deskctl sla report --from 2026-03-01 --to 2026-03-31",
}


def apply(root: Any) -> None:
    """Give every option and argument of the tree under ``root`` its metavar (once)."""
    if getattr(root, "_deskctl_help_applied", False):
        return
    root._deskctl_help_applied = True
    _walk(root, "", help_names(root))


def apply_loaded(command: Any, path: str, names: list[str]) -> None:
    """The same for a command or group loaded on demand under the root (``cli.app``)."""
    if getattr(command, "_deskctl_help_applied", False):
        return
    command._deskctl_help_applied = True
    _example(command, path)
    _walk(command, path, names)


def help_names(root: Any) -> list[str]:
    return list(root.context_settings.get("help_option_names", ["--help"]))


def _walk(command: Any, path: str, help_names: list[str]) -> None:
    from typer import _click as click

    from deskctl.cli import _coerce

    ctx = click.Context(command, help_option_names=help_names)
    for param in command.params:
        _apply_param(param, path, ctx)
    help_option = command.get_help_option(ctx)  # built once and kept by the command
    if help_option is not None:
        help_option.display_type_rich = _no_type
        _coerce.install(help_option)
    for name, sub in (getattr(command, "commands", None) or {}).items():
        sub_path = f"{path} {name}".strip()
        _example(sub, sub_path)
        _walk(sub, sub_path, help_names)


def _example(command: Any, path: str) -> None:
    example = GROUP_EXAMPLES.get(path)
    if example and "Example" not in (command.help or ""):
        command.help = f"{(command.help or '').rstrip()}\n\nExamples: {example}"


def _no_type(ctx: Any = None) -> None:
    return None


def _usage_name(param: Any) -> Callable[[], str]:
    """``KEY`` for a required argument and ``[KEY]`` for an optional one, as man pages write."""

    def usage() -> str:
        name = param.metavar or param.name.upper()
        name = name if param.required else f"[{name}]"
        return f"{name}..." if param.nargs != 1 else name

    return usage


def _apply_param(param: Any, path: str, ctx: Any) -> None:
    from deskctl.cli import _coerce

    _coerce.install(param)
    if param.param_type_name == "argument":
        param._usage_display_name = _usage_name(param)
    if param.param_type_name == "argument" or getattr(param, "is_flag", False):
        # Rich help's type column would show <str> next to an argument's NAME and <bool>
        # for a flag; the name (or the flag itself) already says it.
        param.display_type_rich = _no_type
    if param.metavar is not None or getattr(param, "is_flag", False) or param.name == "help":
        return
    name = param.opts[-1] if param.param_type_name == "option" else param.name
    metavar = BY_COMMAND.get((path, name)) or BY_NAME.get(name)
    if metavar is None:
        shown = param.display_type(ctx)
        metavar = BY_TYPE.get(shown) or (shown.strip("<>") if shown else None)
    if metavar is None:
        return
    param.metavar = metavar
    if getattr(param, "_custom_shell_complete", None) is None:
        from deskctl.cli._complete import completer

        param._custom_shell_complete = completer(metavar)
    if param.param_type_name == "option":
        param.help = _with_format(param.help or "", metavar)


def _with_format(help_text: str, metavar: str) -> str:
    if metavar == "INSTANT" and "ISO-8601" not in help_text:
        return f"{help_text.rstrip()} ({INSTANT_FORMAT})".lstrip()
    if metavar == "DATE" and DATE_FORMAT not in help_text:
        return f"{help_text.rstrip()} ({DATE_FORMAT})".lstrip()
    return help_text
