"""`deskctl product ...`, `deskctl contract ...` (storage and listing) and `deskctl agent ...`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, optional_date, store_session, sub_app

product_app = sub_app("Products and their current release.")
contract_app = sub_app("Support contracts, account standing and entitlement.")
agent_app = sub_app("Support agents and their roles.")


def register(app: typer.Typer) -> None:
    app.add_typer(product_app, name="product")
    app.add_typer(contract_app, name="contract")
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


@contract_app.command("add")
def contract_add(
    customer: Annotated[str, typer.Argument(help="Customer key.")],
    plan: Annotated[str, typer.Option("--plan", help="Plan of the policy.")],
    start: Annotated[str, typer.Option("--start", help="First day covered.")],
    end: Annotated[str | None, typer.Option("--end", help="Last day covered.")] = None,
    activated: Annotated[
        str | None,
        typer.Option("--activated", help="Close-out signed and first invoice issued on."),
    ] = None,
    license_issued: Annotated[
        str | None, typer.Option("--license-issued", help="Licence issue date (warranty).")
    ] = None,
    product: Annotated[
        list[str] | None, typer.Option("--product", help="A covered product (repeat).")
    ] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Policy name.")] = None,
    hours: Annotated[
        str | None, typer.Option("--consultancy-hours", help="Consultancy hours bought.")
    ] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Add a support contract."""
    from decimal import Decimal, InvalidOperation

    from deskctl import clock
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json, say
    from deskctl.services import masterdata

    start_d = optional_date(start, "--start")
    end_d = optional_date(end, "--end")
    act_d = optional_date(activated, "--activated")
    lic_d = optional_date(license_issued, "--license-issued")
    try:
        hours_d = Decimal(hours) if hours else None
    except InvalidOperation:
        raise BadInput(f"--consultancy-hours: not a number: {hours!r}") from None
    with store_session(write=True) as s:
        row = masterdata.add_contract(
            s,
            customer,
            plan=plan,
            start=start_d,
            end=end_d,
            activated=act_d,
            license_issued=lic_d,
            products=product or [],
            policy_name=policy,
            consultancy_hours=hours_d,
            now=clock.now(),
        )
        doc = masterdata.contract_json(s, row, customer)
    if json_out:
        emit_json(doc)
    else:
        say(f"contract {row.id} added: {customer} on {row.policy}/{row.plan} from {row.start}")


@contract_app.command("list")
def contract_list(
    customer: Annotated[str | None, typer.Argument(help="Only this customer.")] = None,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """List contracts."""
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services import masterdata

    with store_session() as s:
        rows = masterdata.list_contracts(s, customer)
    cols = [
        Column("id", "ID", "right"),
        Column("customer", "CUSTOMER"),
        Column("policy", "POLICY"),
        Column("plan", "PLAN"),
        Column("start", "START"),
        Column("end", "END"),
        Column("products", "PRODUCTS", render=lambda v: ",".join(v or [])),
    ]
    emit_rows(
        rows, cols, choose_format(json_out=json_out, csv_out=csv_out), empty="no contracts yet"
    )


@contract_app.command("show")
def contract_show(
    contract_id: Annotated[int, typer.Argument(help="Contract id.")], json_out: bool = JsonOpt
) -> None:
    """Show a contract."""
    from deskctl.render.output import emit_json, stdout_console
    from deskctl.services import masterdata
    from deskctl.store.models import Customer

    with store_session() as s:
        row = masterdata.contract_by_id(s, contract_id)
        customer = s.get(Customer, row.customer_id)
        doc = masterdata.contract_json(s, row, customer.key if customer else "")
        doc["standing"] = [
            {"at": st.at, "overdue_since": st.overdue_since, "actor": st.actor, "note": st.note}
            for st in masterdata.standing_history(s, row.customer_id)
        ]
    if json_out:
        emit_json(doc)
        return
    con = stdout_console()
    con.print(f"contract {doc['id']}: {doc['customer']} {doc['policy']}/{doc['plan']}")
    for key in ("start", "end", "activated", "license_issued", "consultancy_hours"):
        con.print(f"  {key.replace('_', ' ')}: {doc[key] if doc[key] is not None else '-'}")
    con.print(f"  products: {', '.join(doc['products']) or 'all'}")
    for st in doc["standing"]:
        state = f"overdue since {st['overdue_since']}" if st["overdue_since"] else "paid up"
        con.print(f"  standing {st['at']:%Y-%m-%d}: {state}")


@contract_app.command("standing")
def contract_standing(
    customer: Annotated[str, typer.Argument(help="Customer key.")],
    overdue_since: Annotated[
        str | None, typer.Option("--overdue-since", help="Charges overdue since this date.")
    ] = None,
    paid: Annotated[bool, typer.Option("--paid", help="The account is paid up.")] = False,
    note: Annotated[str, typer.Option("--note", help="Why.")] = "",
    at: Annotated[str | None, typer.Option("--at", help="When (default now).")] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Record the account standing: overdue since a date, or paid up."""
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json, say
    from deskctl.services import masterdata

    if bool(overdue_since) == paid:
        raise BadInput("give exactly one of --overdue-since DATE and --paid")
    since = optional_date(overdue_since, "--overdue-since")
    with store_session(write=True) as s:
        masterdata.record_standing(
            s, customer, overdue_since=since, note=note, now=when(at), actor=acting_user()
        )
    doc = {"customer": customer, "overdue_since": since, "paid": since is None}
    if json_out:
        emit_json(doc)
    else:
        say(f"{customer}: {'overdue since ' + str(since) if since else 'paid up'}")


@agent_app.command("add")
def agent_add(
    login: Annotated[str, typer.Argument(help="Login (as in DESKCTL_USER).")],
    role: Annotated[str, typer.Option("--role", help="agent, manager or admin.")] = "agent",
    name: Annotated[str, typer.Option("--name", help="Full name.")] = "",
    team: Annotated[str | None, typer.Option("--team", help="Team.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail for notices.")] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Add a support agent."""
    from deskctl import clock
    from deskctl.render.output import emit_json, say
    from deskctl.services import masterdata

    with store_session(write=True) as s:
        row = masterdata.add_agent(
            s, login, name=name, role=role, team=team, email=email, now=clock.now()
        )
        doc = {
            "login": row.login,
            "name": row.name,
            "role": row.role,
            "team": row.team,
            "email": row.email,
        }
    if json_out:
        emit_json(doc)
    else:
        say(f"agent {login} added as {role}")


@agent_app.command("list")
def agent_list(json_out: bool = JsonOpt, csv_out: bool = CsvOpt) -> None:
    """List agents."""
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services import masterdata

    with store_session() as s:
        rows = [
            {"login": a.login, "name": a.name, "role": a.role, "team": a.team, "email": a.email}
            for a in masterdata.list_agents(s)
        ]
    cols = [
        Column("login", "LOGIN"),
        Column("name", "NAME"),
        Column("role", "ROLE"),
        Column("team", "TEAM"),
    ]
    emit_rows(rows, cols, choose_format(json_out=json_out, csv_out=csv_out), empty="no agents yet")
