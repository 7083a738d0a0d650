"""`deskctl product ...` and `deskctl agent ...` (contracts: cli/contract.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, optional_date, store_session, sub_app

product_app = sub_app("Products and their current release.")
agent_app = sub_app("Support agents and their roles.")


def register(app: typer.Typer) -> None:
    app.add_typer(product_app, name="product")
    app.add_typer(agent_app, name="agent")


def _product_row(p: Any) -> dict:
    return {
        "name": p.name,
        "current": p.current_version,
        "eol": p.eol,
        "eol_announced": p.eol_announced,
    }


@product_app.command("add")
def product_add(
    name: Annotated[str, typer.Argument(help="Product name.")],
    current: Annotated[str, typer.Option("--current", help="Current release, e.g. 6.2.")],
    eol: Annotated[str | None, typer.Option("--eol", help="End-of-life date.")] = None,
    eol_announced: Annotated[
        str | None, typer.Option("--eol-announced", help="When the end of life was announced.")
    ] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Register a product with its current release."""
    from deskctl import clock
    from deskctl.render.output import emit_json, say
    from deskctl.services import masterdata

    eol_d = optional_date(eol, "--eol")
    ann_d = optional_date(eol_announced, "--eol-announced")
    with store_session(write=True) as s:
        row = masterdata.add_product(
            s, name, current=current, eol=eol_d, eol_announced=ann_d, now=clock.now()
        )
        doc = _product_row(row)
    if json_out:
        emit_json(doc)
    else:
        say(f"product {name} added (current release {row.current_version})")


@product_app.command("set")
def product_set(
    name: Annotated[str, typer.Argument(help="Product name.")],
    current: Annotated[str | None, typer.Option("--current", help="New current release.")] = None,
    eol: Annotated[str | None, typer.Option("--eol", help="End-of-life date.")] = None,
    eol_announced: Annotated[
        str | None, typer.Option("--eol-announced", help="When the end of life was announced.")
    ] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Change a product's current release or end of life."""
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json, say
    from deskctl.services import masterdata

    if not (current or eol or eol_announced):
        raise BadInput("nothing to change: give --current, --eol or --eol-announced")
    eol_d = optional_date(eol, "--eol")
    ann_d = optional_date(eol_announced, "--eol-announced")
    with store_session(write=True) as s:
        row = masterdata.set_product(s, name, current=current, eol=eol_d, eol_announced=ann_d)
        doc = _product_row(row)
    if json_out:
        emit_json(doc)
    else:
        say(f"product {name} updated")


@product_app.command("list")
def product_list(json_out: bool = JsonOpt, csv_out: bool = CsvOpt) -> None:
    """List products."""
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services import masterdata

    with store_session() as s:
        rows = [_product_row(p) for p in masterdata.list_products(s)]
    cols = [Column("name", "PRODUCT"), Column("current", "CURRENT"), Column("eol", "EOL")]
    emit_rows(
        rows, cols, choose_format(json_out=json_out, csv_out=csv_out), empty="no products yet"
    )


@agent_app.command("add")
def agent_add(
    login: Annotated[str, typer.Argument(help="Login (DESKCTL_USER on SQLite).")],
    role: Annotated[
        str | None,
        typer.Option("--role", help="readonly, agent or manager; default agent (manager first)."),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Full name.")] = "",
    team: Annotated[str | None, typer.Option("--team", help="Team.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail for notices.")] = None,
    db_role: Annotated[
        str | None,
        typer.Option("--db-role", help="PostgreSQL login it connects as; default LOGIN."),
    ] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Add a support agent (a manager's act; the first agent of a store is its manager)."""
    from deskctl import clock
    from deskctl.services import masterdata

    _change_agent(
        lambda s: masterdata.add_agent(
            s, login, name=name, role=role, team=team, email=email, now=clock.now(),
            db_role=db_role,
        ),
        json_out,
        lambda doc: f"agent {login} added as {doc['role']}",
    )


@agent_app.command("set")
def agent_set(
    login: Annotated[str, typer.Argument(help="The agent's login.")],
    role: Annotated[str, typer.Option("--role", help="readonly, agent or manager.")],
    json_out: bool = JsonOpt,
) -> None:
    """Change an agent's role (a manager's act; on PostgreSQL its group role too)."""
    from deskctl.services import masterdata

    _change_agent(
        lambda s: masterdata.set_role(s, login, role),
        json_out,
        lambda doc: f"agent {login} is now {doc['role']}",
    )


def _change_agent(
    change: Callable[[Any], Any], json_out: bool, done: Callable[[dict[str, Any]], str]
) -> None:
    """Apply ``change`` to the store, then print the agent, with the store's note on its
    login (stderr) and ``done`` as the confirmation."""
    from deskctl.render.output import emit_json, say
    from deskctl.services import masterdata

    with store_session(write=True) as s:
        row = change(s)
        doc = _agent_doc(row)
        note = masterdata.login_note(s, row)
    if note:
        say(f"deskctl: note: {note}")
    if json_out:
        emit_json(doc)
    else:
        say(done(doc))


@agent_app.command("whoami")
def agent_whoami(json_out: bool = JsonOpt) -> None:
    """Who this store says you are, with which role, and how that was decided."""
    from deskctl.render.output import emit_json, emit_text
    from deskctl.store import identity

    with store_session() as s:
        who = identity.identify(s)
    doc = {
        "login": who.login,
        "role": who.role,
        "backend": who.backend,
        "how": who.how,
        "registered": who.registered,
        "db_login": who.db_login,
    }
    if json_out:
        emit_json(doc)
    else:
        emit_text(f"{who.login} ({who.role or 'no role'}) on {who.backend}: {who.how}")


def _agent_doc(row: Any) -> dict:
    return {
        "login": row.login,
        "name": row.name,
        "role": row.role,
        "team": row.team,
        "email": row.email,
        "db_role": row.db_role,
    }


@agent_app.command("list")
def agent_list(json_out: bool = JsonOpt, csv_out: bool = CsvOpt) -> None:
    """List agents."""
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services import masterdata

    with store_session() as s:
        rows = [_agent_doc(a) for a in masterdata.list_agents(s)]
    cols = [
        Column("login", "LOGIN"),
        Column("name", "NAME"),
        Column("role", "ROLE"),
        Column("team", "TEAM"),
    ]
    emit_rows(rows, cols, choose_format(json_out=json_out, csv_out=csv_out), empty="no agents yet")
