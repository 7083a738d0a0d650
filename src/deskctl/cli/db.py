"""`deskctl init` and `deskctl db ...`: create, upgrade, inspect and back up the store."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from deskctl.cli._base import JsonOpt, sub_app

db_app = sub_app("The store: upgrade, current revision, backup, login.")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(db_app, name="db")


def init(
    policy_file: Annotated[
        str | None, typer.Option("--policy", metavar="FILE", help="Also load this policy file.")
    ] = None,
    example: Annotated[
        str | None,
        typer.Option(
            "--example", metavar="NAME", help="Also load this shipped example policy."
        ),
    ] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Create or upgrade the store (idempotent), and optionally load a policy.

    Examples: `deskctl init`, `deskctl init --example medisoft`, `deskctl init --policy acme.toml`.
    """
    from deskctl import clock
    from deskctl.config import acting_user
    from deskctl.render.output import emit_json, say
    from deskctl.services import policies
    from deskctl.store import db

    if policy_file and example:
        from deskctl.errors import BadInput

        raise BadInput("give --policy FILE or --example NAME, not both")
    if example:
        policy_file = policies.example_path(example)
    engine = db.default_engine()
    text = None
    if policy_file:
        text = policies.read_policy_file(policy_file)
        policies.validate(text, policy_file)  # validate before touching the store
    before, after = db.upgrade(engine)
    loaded = None
    if text is not None:
        with db.session(engine, write=True) as s:
            loaded = policies.load(
                s, text, source=str(policy_file), actor=acting_user(), now=clock.now()
            )
    doc = {
        "store": db.redacted(engine.url),
        "revision_before": before,
        "revision": after,
        "policy": loaded.to_json() if loaded else None,
    }
    if json_out:
        emit_json(doc)
        return
    say(f"store {doc['store']} at revision {after}" + ("" if before != after else " (unchanged)"))
    if loaded:
        say(_loaded_line(loaded))


def _loaded_line(loaded: Any) -> str:
    name = loaded.name
    version = loaded.version
    if loaded.changed:
        return f"policy {name} loaded as version {version}"
    return f"policy {name} unchanged (version {version})"


@db_app.command("upgrade")
def upgrade(json_out: bool = JsonOpt) -> None:
    """Apply every pending migration."""
    from deskctl.render.output import emit_json, say
    from deskctl.store import db

    engine = db.default_engine()
    before, after = db.upgrade(engine)
    if json_out:
        emit_json({"revision_before": before, "revision": after})
    else:
        say(f"revision {before or 'none'} -> {after}" if before != after else f"at {after}")


@db_app.command("current")
def current(json_out: bool = JsonOpt) -> None:
    """Show the store's URL (without password) and schema revision."""
    from deskctl.render.output import emit_json
    from deskctl.store import db

    engine = db.default_engine()
    rev = db.current_revision(engine)
    doc = {
        "store": db.redacted(engine.url),
        "revision": rev,
        "expected": db.SCHEMA_HEAD,
        "up_to_date": rev == db.SCHEMA_HEAD,
    }
    if json_out:
        emit_json(doc)
    else:
        from deskctl.render.output import emit_text

        emit_text(
            f"{doc['store']}\trevision {rev or 'none'}"
            + ("" if doc["up_to_date"] else f" (needs {db.SCHEMA_HEAD})")
        )


@db_app.command("setup-roles")
def setup_roles(json_out: bool = JsonOpt) -> None:
    """PostgreSQL: create the group roles deskctl_readonly/agent/manager and GRANT them.

    Run by the store's owner (with CREATEROLE) once per cluster and database;
    idempotent, and repeated automatically after every `db upgrade`.
    """
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json, say
    from deskctl.store import db, teams

    engine = db.ready_engine()
    if engine.dialect.name != "postgresql":
        raise BadInput("db setup-roles is for PostgreSQL; on SQLite the program checks roles")
    with db.store_errors(), engine.begin() as conn:
        notes = teams.setup_roles(conn)
        ok = teams.groups_exist(conn)
    if not ok:
        from deskctl.errors import Refused

        raise Refused(notes[0])
    if json_out:
        emit_json({"roles": list(teams.GROUPS), "notes": notes})
    else:
        for note in notes:
            say(note)


@db_app.command("backup")
def backup(
    path: Annotated[str, typer.Argument(help="Where to write the backup.")],
    json_out: bool = JsonOpt,
) -> None:
    """Back up the store: SQLite's online backup API, or pg_dump for PostgreSQL."""
    from deskctl.render.output import emit_json, say
    from deskctl.services.backup import backup_store
    from deskctl.store import db

    size = backup_store(db.default_engine(), path)
    if json_out:
        emit_json({"path": path, "bytes": size})
    else:
        say(f"backup written to {path} ({size} bytes)")


@db_app.command("login")
def login(
    url: Annotated[str | None, typer.Argument(help="PostgreSQL URL; default DESKCTL_DB.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Store a PostgreSQL password in the system keyring (never in a file)."""
    from sqlalchemy.engine import make_url

    from deskctl.config import database_url
    from deskctl.errors import BadInput
    from deskctl.render.output import say
    from deskctl.store import db

    target = make_url(url or database_url())
    if not target.drivername.startswith("postgres"):
        raise BadInput("db login is for PostgreSQL URLs (postgresql://user@host/db)")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True)
    else:
        raise BadInput("no terminal to ask for the password: use --password-stdin")
    if not password:
        raise BadInput("empty password: nothing stored")
    from deskctl import keyring_secrets

    backend = keyring_secrets.save(
        db.KEYRING_SERVICE, db.keyring_key(target), password, instead=keyring_secrets.PGPASS_HINT
    )
    say(f"password stored in the keyring ({backend}) for {db.keyring_key(target)}")
