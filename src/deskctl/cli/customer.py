"""`deskctl customer ...` and `deskctl contact ...`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, store_session, sub_app

customer_app = sub_app("Customers: the accounts that buy support.")
contact_app = sub_app("Contacts: the people who ask for support.")


def register(app: typer.Typer) -> None:
    app.add_typer(customer_app, name="customer")
    app.add_typer(contact_app, name="contact")


def _customer_row(c: Any) -> dict:
    return {
        "key": c.key,
        "name": c.name,
        "country": c.country,
        "vat_rate": c.vat_rate,
        "policy": c.policy,
        "locale": c.locale,
        "billing_address": c.billing_address.split("\n") if c.billing_address else [],
        "vat_id": c.vat_id,
        "created_at": c.created_at,
    }


LOCALE_HELP = "Language of its e-mails: pt-BR, es-CO, it-IT, pt-PT or en."
AddressOpt = typer.Option(
    "--address",
    help="A line of the billing address printed on invoices; repeat for each line.",
    metavar="LINE",
)
VatIdOpt = typer.Option(
    "--vat-id", help="The customer's VAT number, printed on invoices (e.g. IT01234567890)."
)


@customer_app.command("add")
def customer_add(
    key: Annotated[str, typer.Argument(help="Short unique key, e.g. acme.")],
    name: Annotated[str, typer.Option("--name", help="Company name.")],
    country: Annotated[str, typer.Option("--country", help="Two-letter country code.")],
    vat_rate: Annotated[
        str | None, typer.Option("--vat-rate", help="VAT rate: 22% or 0.22.")
    ] = None,
    policy: Annotated[
        str | None, typer.Option("--policy", help="Policy name, when several are loaded.")
    ] = None,
    locale: Annotated[str | None, typer.Option("--locale", help=LOCALE_HELP)] = None,
    address: Annotated[list[str] | None, AddressOpt] = None,
    vat_id: Annotated[str | None, VatIdOpt] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Add a customer; its e-mails are in --locale, by default its country's language."""
    from deskctl import clock
    from deskctl.domain.billing import parse_vat_rate
    from deskctl.render.output import emit_json, say
    from deskctl.services import masterdata

    rate = parse_vat_rate(vat_rate) if vat_rate else None
    with store_session(write=True) as s:
        row = masterdata.add_customer(
            s,
            key,
            name=name,
            country=country,
            vat_rate=rate,
            policy=policy,
            now=clock.now(),
            locale=locale,
            billing_address=address or (),
            vat_id=vat_id,
        )
        doc = _customer_row(row)
    if json_out:
        emit_json(doc)
    else:
        say(f"customer {key} added")


@customer_app.command("billing")
def customer_billing(
    key: Annotated[str, typer.Argument(help="Customer key.")],
    address: Annotated[list[str] | None, AddressOpt] = None,
    vat_id: Annotated[str | None, VatIdOpt] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Set the billing address (all lines at once) or VAT number invoices print.

    `--vat-id ""` removes the VAT number.
    """
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json, say
    from deskctl.services import masterdata

    if address is None and vat_id is None:
        raise BadInput("give --address LINE (repeated) or --vat-id N")
    with store_session(write=True) as s:
        row = masterdata.set_billing(s, key, billing_address=address, vat_id=vat_id)
        doc = _customer_row(row)
    if json_out:
        emit_json(doc)
    else:
        say(f"customer {key}: billing details updated")


@customer_app.command("list")
def customer_list(json_out: bool = JsonOpt, csv_out: bool = CsvOpt) -> None:
    """List customers."""
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services import masterdata

    with store_session() as s:
        rows = [_customer_row(c) for c in masterdata.list_customers(s)]
    cols = [
        Column("key", "KEY"),
        Column("name", "NAME"),
        Column("country", "CC"),
        Column("vat_rate", "VAT"),
        Column("policy", "POLICY"),
    ]
    emit_rows(
        rows, cols, choose_format(json_out=json_out, csv_out=csv_out), empty="no customers yet"
    )


@customer_app.command("show")
def customer_show(
    key: Annotated[str, typer.Argument(help="Customer key.")], json_out: bool = JsonOpt
) -> None:
    """Show a customer with contacts, contracts and standing."""
    from deskctl import clock
    from deskctl.render.output import emit_json, stdout_console
    from deskctl.services import masterdata
    from deskctl.store.models import pk

    with store_session() as s:
        c = masterdata.customer_by_key(s, key)
        doc = _customer_row(c)
        doc["contacts"] = masterdata.list_contacts(s, key)
        doc["contracts"] = masterdata.list_contracts(s, key)
        doc["overdue_since"] = masterdata.current_overdue_since(s, pk(c), clock.now())
    if json_out:
        emit_json(doc)
        return
    con = stdout_console()
    con.print(f"[bold]{doc['key']}[/bold] {doc['name']} ({doc['country']})")
    if doc["billing_address"] or doc["vat_id"]:
        vat = f" — VAT {doc['vat_id']}" if doc["vat_id"] else ""
        con.print(f"billing: {', '.join(doc['billing_address'])}{vat}", markup=False)
    since = doc["overdue_since"]
    con.print(f"standing: {'overdue since ' + str(since) if since else 'paid up'}")
    for k in doc["contracts"]:
        end = k["end"] or "open-ended"
        con.print(f"contract {k['id']}: {k['policy']}/{k['plan']} {k['start']} → {end}")
    for p in doc["contacts"]:
        con.print(f"contact {p['email']} {p['name']}{' (named)' if p['named'] else ''}")


@contact_app.command("add")
def contact_add(
    customer: Annotated[str, typer.Argument(help="Customer key.")],
    email: Annotated[str, typer.Argument(help="Contact e-mail address.")],
    name: Annotated[str, typer.Option("--name", help="Full name.")] = "",
    named: Annotated[
        bool, typer.Option("--named", help="A support contact named by the customer.")
    ] = False,
    locale: Annotated[
        str | None, typer.Option("--locale", help="Their e-mails' language (else the customer's).")
    ] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Add a contact to a customer."""
    from deskctl import clock
    from deskctl.config import acting_user
    from deskctl.render.output import emit_json, say
    from deskctl.services import masterdata

    with store_session(write=True) as s:
        row = masterdata.add_contact(
            s,
            customer,
            email,
            name=name,
            named=named,
            now=clock.now(),
            actor=acting_user(),
            locale=locale,
        )
        doc = {
            "customer": customer,
            "email": row.email,
            "name": row.name,
            "named": row.named,
            "locale": masterdata.contact_locale(s, row),
        }
    if json_out:
        emit_json(doc)
    else:
        say(f"contact {row.email} added to {customer}" + (" (named)" if named else ""))


def _set_named(customer: str, email: str, named: bool, at: str | None, json_out: bool) -> None:
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.render.output import emit_json, say
    from deskctl.services import masterdata

    with store_session(write=True) as s:
        row = masterdata.set_named(
            s, customer, email, named=named, now=when(at), actor=acting_user()
        )
        doc = {"customer": customer, "email": row.email, "named": row.named}
    if json_out:
        emit_json(doc)
    else:
        say(f"{row.email} is {'now' if named else 'no longer'} a named support contact")


@contact_app.command("name")
def contact_name(
    customer: Annotated[str, typer.Argument(help="Customer key.")],
    email: Annotated[str, typer.Argument(help="Contact e-mail address.")],
    at: Annotated[str | None, typer.Option("--at", help="When (default now).")] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Name a contact as a support contact (kept in the contact's history)."""
    _set_named(customer, email, True, at, json_out)


@contact_app.command("unname")
def contact_unname(
    customer: Annotated[str, typer.Argument(help="Customer key.")],
    email: Annotated[str, typer.Argument(help="Contact e-mail address.")],
    at: Annotated[str | None, typer.Option("--at", help="When (default now).")] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Withdraw a contact's naming as a support contact."""
    _set_named(customer, email, False, at, json_out)


@contact_app.command("list")
def contact_list(
    customer: Annotated[str | None, typer.Argument(help="Only this customer.")] = None,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """List contacts."""
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services import masterdata

    with store_session() as s:
        rows = masterdata.list_contacts(s, customer)
    cols = [
        Column("customer", "CUSTOMER"),
        Column("email", "EMAIL"),
        Column("name", "NAME"),
        Column("named", "NAMED", render=lambda v: "yes" if v else "no"),
    ]
    emit_rows(
        rows, cols, choose_format(json_out=json_out, csv_out=csv_out), empty="no contacts yet"
    )
