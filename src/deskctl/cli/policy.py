"""`deskctl policy load | show | list`."""

from __future__ import annotations

from typing import Annotated

import typer

from deskctl.cli._base import JsonOpt, store_session, sub_app

policy_app = sub_app("Support policies: load a TOML file, show what is in force.")


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")


@policy_app.command("load")
def load(
    path: Annotated[
        str | None, typer.Argument(help="The policy file (TOML).", show_default=False)
    ] = None,
    example: Annotated[
        str | None,
        typer.Option(
            "--example",
            metavar="NAME",
            help="Load a shipped example policy instead of a file (see `policy examples`).",
        ),
    ] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Validate a policy file and store it as a new version (unchanged files store nothing).

    Examples: `deskctl policy load acme.toml`, `deskctl policy load --example medisoft`.
    """
    from deskctl import clock
    from deskctl.config import acting_user
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json, say
    from deskctl.services import policies

    if (path is None) == (example is None):
        raise BadInput("name a policy file or --example NAME (one of them)")
    path = path or policies.example_path(str(example))
    text = policies.read_policy_file(path)
    policies.validate(text, path)  # a bad file never opens a write transaction
    with store_session(write=True) as s:
        loaded = policies.load(s, text, source=path, actor=acting_user(), now=clock.now())
    if json_out:
        emit_json(loaded.to_json())
    elif loaded.changed:
        say(f"policy {loaded.name} loaded as version {loaded.version}")
    else:
        say(f"policy {loaded.name} unchanged (version {loaded.version})")


@policy_app.command("examples")
def examples(json_out: bool = JsonOpt) -> None:
    """The example policies shipped with deskctl (load one with `policy load --example NAME`)."""
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services import policies

    cols = [Column("name", "NAME"), Column("vendor", "VENDOR"), Column("file", "FILE")]
    emit_rows(policies.examples(), cols, choose_format(json_out=json_out))


@policy_app.command("show")
def show(
    name: Annotated[str | None, typer.Argument(help="Policy name; default the only one.")] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Show the policy in force: calendars, plans, severities, targets, rules."""
    from deskctl.render.output import emit_json
    from deskctl.render.policy import policy_doc, print_policy
    from deskctl.services import policies

    with store_session() as s:
        row, policy = policies.latest(s, name)
    doc = policy_doc(policy, version=row.version, loaded_at=row.loaded_at)
    if json_out:
        emit_json(doc)
    else:
        print_policy(doc)


@policy_app.command("list")
def list_(json_out: bool = JsonOpt) -> None:
    """Every stored version of every policy."""
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services import policies

    with store_session() as s:
        rows = policies.versions(s)
    cols = [
        Column("name", "POLICY"),
        Column("version", "VERSION", "right"),
        Column("loaded_at", "LOADED"),
        Column("loaded_by", "BY"),
        Column("source", "FILE"),
    ]
    emit_rows(rows, cols, choose_format(json_out=json_out), empty="no policy loaded")
