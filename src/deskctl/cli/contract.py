"""`deskctl contract ...`: contracts, account standing, the contract check, renewals, hours."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, optional_date, read_store, store_session, sub_app

contract_app = sub_app("Support contracts, account standing and entitlement.")


def register(app: typer.Typer) -> None:
    app.add_typer(contract_app, name="contract")


def _hours(value: str | None, what: str) -> Any:
    from decimal import Decimal, InvalidOperation

    from deskctl.errors import BadInput

    if value is None:
        return None
    try:
        hours = Decimal(value)
    except InvalidOperation:
        raise BadInput(f"{what}: not a number: {value!r}") from None
    if not hours.is_finite() or hours < 0:
        raise BadInput(f"{what}: must be 0 or more: {value!r}")
    return hours


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
    from deskctl import clock
    from deskctl.render.output import emit_json, say
    from deskctl.services import masterdata

    start_d = optional_date(start, "--start")
    end_d = optional_date(end, "--end")
    act_d = optional_date(activated, "--activated")
    lic_d = optional_date(license_issued, "--license-issued")
    hours_d = _hours(hours, "--consultancy-hours")
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


def _expiring_days(text: str) -> int:
    from deskctl.domain.durations import parse_duration
    from deskctl.errors import BadInput

    seconds = parse_duration(text, what="--expiring", bare_unit="d")
    if seconds < 0 or seconds % 86400:
        raise BadInput(f"--expiring: a whole number of days, like 30d or 4w: {text!r}")
    return seconds // 86400


@contract_app.command("list")
def contract_list(
    customer: Annotated[str | None, typer.Argument(help="Only this customer.")] = None,
    expiring: Annotated[
        str | None,
        typer.Option(
            "--expiring", help="Only contracts ending within this many days (30d), not renewed."
        ),
    ] = None,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """List contracts; with --expiring, those to follow up for renewal (soonest first)."""
    from deskctl import clock
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services import contracts, masterdata

    fmt = choose_format(json_out=json_out, csv_out=csv_out)
    days = _expiring_days(expiring) if expiring is not None else None
    with store_session() as s:
        if days is None:
            rows = masterdata.list_contracts(s, customer)
        else:
            if customer:
                masterdata.customer_by_key(s, customer)
            rows = contracts.expiring(s, today=clock.today(), days=days)
            rows = [r for r in rows if customer is None or r["customer"] == customer]
    cols = [
        Column("id", "ID", "right"),
        Column("customer", "CUSTOMER"),
        Column("policy", "POLICY"),
        Column("plan", "PLAN"),
        Column("start", "START"),
        Column("end", "END"),
        Column("products", "PRODUCTS", render=lambda v: ",".join(v or [])),
    ]
    if days is not None:
        cols.append(Column("days_left", "DAYS LEFT", "right"))
    empty = "no contracts expiring" if days is not None else "no contracts yet"
    emit_rows(rows, cols, fmt, empty=empty)


@contract_app.command("show")
def contract_show(
    contract_id: Annotated[int, typer.Argument(help="Contract id.")], json_out: bool = JsonOpt
) -> None:
    """Show a contract with its renewals, standing changes, warranty and consultancy hours."""
    from deskctl.render.output import emit_json
    from deskctl.services import contracts

    with store_session() as s:
        doc = contracts.contract_document(s, contract_id)
    if json_out:
        emit_json(doc)
    else:
        _print_contract(doc)


def _print_contract(doc: dict[str, Any]) -> None:
    from deskctl.render.output import stdout_console

    con = stdout_console()
    con.print(f"[bold]contract {doc['id']}[/bold]: {doc['customer']} {doc['policy']}/{doc['plan']}")
    for key in ("start", "end", "activated", "license_issued"):
        con.print(f"  {key.replace('_', ' ')}: {doc[key] if doc[key] is not None else '-'}")
    con.print(f"  products: {', '.join(doc['products']) or 'all'}")
    hours = doc["hours"]
    if hours["bought"]:
        con.print(f"  consultancy hours: {hours['balance']} left of {hours['bought']}")
    if len(doc["renewals"]) > 1:
        con.print("renewals:")
        for c in doc["renewals"]:
            mark = " (this one)" if c["id"] == doc["id"] else ""
            con.print(f"  contract {c['id']}: {c['plan']} {c['start']} → {c['end'] or '-'}{mark}")
    for w in doc["warranty"]:
        con.print(
            f"warranty (contract {w['contract']}): {w['from']} → {w['last_day']} ({w['days']} days)"
        )
    for st in doc["standing"]:
        state = f"overdue since {st['overdue_since']}" if st["overdue_since"] else "paid up"
        con.print(
            f"standing {st['at']:%Y-%m-%d}: {state}" + (f" ({st['note']})" if st["note"] else "")
        )


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


@contract_app.command("check")
def contract_check(
    customer: Annotated[str, typer.Argument(help="Customer key.")],
    contact: Annotated[str | None, typer.Option("--contact", help="Contact e-mail.")] = None,
    product: Annotated[str | None, typer.Option("--product", help="Product name.")] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="Version in use (with --product).")
    ] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="Channel of the request.")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Judge at this instant (default now).")
    ] = None,
    json_out: bool = JsonOpt,
) -> None:
    """May this customer get support? Every reason, plan, calendar, SLA targets, billing.

    Exit 0 entitled, 1 not entitled (3 unknown customer, 2 bad input).
    """
    from deskctl.cli._base import when
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json
    from deskctl.services import entitlement

    if version is not None and not product:
        raise BadInput("--version needs --product")
    request = entitlement.Request(
        at=when(at),
        contact=contact.strip().lower() if contact else None,
        product=product,
        version=version,
        channel=channel,
    )
    with read_store() as r:
        doc = entitlement.check(r, customer, request).to_json()
    if json_out:
        emit_json(doc)
    else:
        _print_check(doc)
    if not doc["entitled"]:
        from deskctl.errors import AnsweredNo

        raise AnsweredNo()


def _target_text(target: dict[str, int]) -> str:
    from deskctl.domain.durations import format_duration

    goal, limit = target["goal_seconds"], target["limit_seconds"]
    if goal == limit:
        return format_duration(goal)
    return f"goal {format_duration(goal)}, limit {format_duration(limit)}"


def _print_check(doc: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from deskctl.render.output import stdout_console

    con = stdout_console()
    verdict = "[green]ENTITLED[/green]" if doc["entitled"] else "[red]NOT ENTITLED[/red]"
    con.print(
        f"[bold]{doc['customer']}[/bold]: {verdict} on {doc['on']} "
        f"(policy {doc['policy']} v{doc['policy_version']})"
    )
    if doc["contract_id"] is not None:
        con.print(
            f"  contract  {doc['contract_id']}: plan {doc['plan']}, calendar {doc['calendar']}"
        )
    con.print(f"  billing   {(doc['billing_mode'] or '-').replace('_', ' ')}")
    if doc["warranty_days_left"] is not None:
        con.print(f"  warranty  {doc['warranty_days_left']} days left")
    if doc["channels"]:
        con.print(f"  channels  {', '.join(doc['channels'])}")
    if doc["services"]:
        con.print(f"  services  {', '.join(doc['services'])}")
    if not doc["reasons"]:
        con.print("reasons: none")
    for reason in doc["reasons"]:
        mark = "✗ blocks" if reason["blocking"] else "· note  "
        con.print(f"  {mark}  {reason['code']}: {escape(reason['message'])}")
    if not doc["targets"]:
        return
    table = Table(box=None, header_style="bold", pad_edge=False, title="SLA targets")
    for name in ("METRIC", "SEVERITY", "TARGET"):
        table.add_column(name)
    for metric, by_severity in doc["targets"].items():
        for severity, target in by_severity.items():
            table.add_row(metric, severity, _target_text(target))
    con.print(table)


@contract_app.command("renew")
def contract_renew(
    contract_id: Annotated[int, typer.Argument(help="The contract to renew.")],
    end: Annotated[str, typer.Option("--end", help="Last day of the renewal.")],
    start: Annotated[
        str | None, typer.Option("--start", help="First day (default: the day after it ends).")
    ] = None,
    plan: Annotated[
        str | None, typer.Option("--plan", help="Another plan (default: the same).")
    ] = None,
    hours: Annotated[
        str | None, typer.Option("--consultancy-hours", help="Consultancy hours bought.")
    ] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Renew a contract: a new contract for the next period that renews the old one."""
    from deskctl import clock
    from deskctl.render.output import emit_json, say
    from deskctl.services import contracts
    from deskctl.store.models import pk

    end_d = optional_date(end, "--end")
    start_d = optional_date(start, "--start")
    hours_d = _hours(hours, "--consultancy-hours")
    with store_session(write=True) as s:
        row = contracts.renew(
            s,
            contract_id,
            end=end_d,
            start=start_d,
            plan=plan,
            consultancy_hours=hours_d,
            now=clock.now(),
        )
        doc = contracts.contract_document(s, pk(row))
    if json_out:
        emit_json(doc)
    else:
        say(f"contract {row.id} renews contract {contract_id}: {row.start} → {row.end}")


@contract_app.command("import")
def contract_import(
    file: Annotated[str, typer.Argument(help="CSV file from the CRM.")],
    json_out: bool = JsonOpt,
) -> None:
    """Import contracts from CSV, all or nothing.

    Columns: customer,plan,start,end,activated,license_issued,products,policy
    (products separated by ';'; only customer, plan and start are required).
    """
    from deskctl import clock, files
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json, say
    from deskctl.services import contracts

    text = files.read_text(file, what="contract import", encoding="utf-8-sig")
    try:
        with store_session(write=True) as s:
            ids = contracts.import_csv(s, text, source=file, now=clock.now())
    except BadInput as exc:
        for line in exc.details.get("errors", [])[:-1]:
            say(f"deskctl: {line}")
        raise
    if json_out:
        emit_json({"imported": len(ids), "ids": ids})
    else:
        say(f"imported {len(ids)} contracts from {file}")


@contract_app.command("use-hours")
def contract_use_hours(
    contract_id: Annotated[int, typer.Argument(help="Contract id.")],
    hours: Annotated[str, typer.Argument(help="Hours used, e.g. 2 or 1.5.")],
    note: Annotated[str | None, typer.Option("--note", help="What they were used for.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When (default now).")] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Draw consultancy hours from a contract (PREMIUM); never beyond the balance (exit 1)."""
    from deskctl import clock
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.render.output import emit_json, say
    from deskctl.services import contracts

    amount = contracts.parse_hours(hours)
    instant = when(at)
    with store_session(write=True) as s:
        doc = contracts.use_hours(
            s, contract_id, amount, at=instant, note=note, actor=acting_user(), now=clock.now()
        )
    doc = {"contract": contract_id, "used_now": amount, **doc}
    if json_out:
        emit_json(doc)
    else:
        say(f"contract {contract_id}: {amount} h used, {doc['balance']} h left")


@contract_app.command("hours")
def contract_hours(
    contract_id: Annotated[int, typer.Argument(help="Contract id.")],
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """Consultancy hours of a contract: bought, used, balance and every draw."""
    from deskctl.render.output import Column, choose_format, emit_rows, say
    from deskctl.services import contracts

    fmt = choose_format(json_out=json_out, csv_out=csv_out)
    with store_session() as s:
        doc = contracts.hours_document(s, contract_id)
    cols = [
        Column("at", "AT"),
        Column("hours", "HOURS", "right"),
        Column("actor", "BY"),
        Column("note", "NOTE"),
    ]
    if fmt in ("table", "tsv"):
        say(
            f"contract {contract_id} ({doc['plan']}): {doc['balance']} h left "
            f"of {doc['bought']} ({doc['used']} used)"
        )
    emit_rows(doc["entries"], cols, fmt, json_doc=doc, empty="no hours used yet")
