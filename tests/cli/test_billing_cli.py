"""Bills and invoices end to end (docs/rules.md §7, §10): `ticket log` -> `bill` -> `bill finalize`.

Triage and split go through the ticket service (lifecycle builders + apply) until
`ticket triage` / `ticket split` are on main. Previous-version tickets are opened
with a version older than the product's current release: the contract check
stores ``per_intervention_previous`` on them at open, and billing follows the
stored mode; for a ticket with no stored mode, billing derives it from the
version (see services/billing/drafts.py), which one test covers.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskctl.errors import Refused
from tests.conftest import EXAMPLES
from tests.factory import seed_dms, seed_medisoft

PERIOD = ("--from", "2026-03-01", "--to", "2026-03-31")
AT = "2026-03-02T09:00:00Z"
LATER = "2026-03-20T09:00:00Z"
NOW = "2026-04-01T08:00:00Z"


# -- helpers shared with test_worklog and the concurrency tests ---------------------------


def open_dms(
    cli: Any, seed: dict, version: str = "10.4", title: str = "Index rebuild", at: str = AT
) -> int:
    result = cli(
        "ticket",
        "open",
        "--customer",
        seed["customer"],
        "--contact",
        seed["contact"],
        "--title",
        title,
        "--product",
        seed["product"],
        "--version",
        version,
        "--channel",
        "email",
        "--at",
        at,
    )
    return int(result.stdout.strip())


def log(cli: Any, ticket: int, duration: str, *extra: str, at: str = AT) -> None:
    cli("ticket", "log", ticket, duration, "--at", at, *extra)


def bill(cli: Any, customer: str = "studio", period: tuple[str, ...] = PERIOD) -> dict:
    return cli.json("bill", "--customer", customer, *period)


def _session() -> Any:
    from deskctl.store import db

    return db.session(db.ready_engine(), write=True)


def triage(ticket_id: int, category: str, topic: str | None = None, at: str = AT) -> None:
    """Triage through the ticket service, the way `ticket triage` will."""
    from deskctl.clock import parse_instant
    from deskctl.domain import lifecycle
    from deskctl.services import tickets as svc

    now = parse_instant(at)
    with _session() as s:
        ticket, history, state = svc.current(s, ticket_id)
        policy = svc.policy_of(s, ticket)
        events = lifecycle.plan_triage(
            state,
            now=now,
            actor="tester",
            scheme=policy.severities,
            category=category,
            severity=policy.severities.order[-1],
            topic=topic,
            kb_article="kb-1" if category == "misuse" else None,
        )
        svc.apply(s, ticket, history, events, now=now, policy=policy)


def split(parent_id: int, titles: list[str], tmp: Path, at: str = AT) -> list[int]:
    """Split a triaged ticket into sub-tickets through the ticket service."""
    from deskctl.clock import parse_instant
    from deskctl.domain import lifecycle
    from deskctl.services import tickets as svc

    now = parse_instant(at)
    with _session() as s:
        parent, history, state = svc.current(s, parent_id)
        policy = svc.policy_of(s, parent)
        children = []
        for title in titles:
            req = svc.OpenRequest(
                customer=None,
                contact=state.contact or "",
                title=title,
                channel=parent.channel,
                fields={"product": parent.product, "version": parent.version},
                parent_id=parent_id,
            )
            child = svc.open_ticket(s, req, now=now, actor="tester")
            children.append(int(child.id))
        svc.apply(
            s,
            parent,
            history,
            lifecycle.plan_split(state, children, now=now, actor="tester"),
            now=now,
            policy=policy,
        )
    return children


def set_billing_mode(ticket_id: int, mode: str | None) -> None:
    """What the entitlement check stores on the ticket at open."""
    from sqlalchemy import update

    from deskctl.store.models import Ticket

    with _session() as s:
        s.execute(update(Ticket).where(Ticket.id == ticket_id).values(billing_mode=mode))


def money(value: str) -> Decimal:
    assert re.fullmatch(r"-?\d+\.\d\d", value), f"not a money string: {value!r}"
    return Decimal(value)


_TEMPLATES: dict[str, Path] = {}


def seeded(cli: Any, name: str, seeder: Any, tmp_path_factory: Any) -> None:
    """Seed through the CLI once per worker, then give each test a copy of that store."""
    from deskctl.store import db

    target = Path(os.environ["DESKCTL_DB"])
    template = _TEMPLATES.get(name)
    if template is not None:
        shutil.copy(template, target)
        return
    seeder(cli)
    db.dispose_all()  # closes the connections, so the WAL is folded into the file
    template = tmp_path_factory.mktemp("store") / f"{name}.db"
    shutil.copy(target, template)
    _TEMPLATES[name] = template


DMS = {"customer": "studio", "contact": "marco@studio.example", "product": "dms"}


@pytest.fixture
def dms(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: Any) -> dict:
    """seed_dms: policy dms, customer studio (22% VAT), product dms 10.4, maintenance."""
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    seeded(cli, "dms", seed_dms, tmp_path_factory)
    return dict(DMS)


# -- docs/rules.md §7 examples -------------------------------------------------------------------


@pytest.mark.parametrize(
    "version, minutes, base, blocks, amount",
    [
        ("10.4", 20, "45.00", 0, "45.00"),
        ("10.4", 21, "45.00", 1, "80.00"),
        ("10.4", 50, "45.00", 1, "80.00"),
        ("10.4", 51, "45.00", 2, "115.00"),
        ("9.1", 30, "160.00", 0, "160.00"),
        ("9.1", 31, "160.00", 1, "195.00"),
    ],
)
def test_spec_examples_through_ticket_log_and_bill(
    cli, dms, version, minutes, base, blocks, amount
) -> None:
    ticket = open_dms(cli, dms, version=version)
    stored = cli.json("ticket", "show", ticket)["billing_mode"]
    assert stored == (
        "per_intervention_current" if version == "10.4" else "per_intervention_previous"
    )
    log(cli, ticket, f"{minutes}m")
    doc = bill(cli)
    assert doc["customer"] == "studio"
    assert len(doc["lines"]) == 1
    line = doc["lines"][0]
    assert {k: line[k] for k in ("ticket", "minutes", "base", "extra_half_hours", "amount")} == {
        "ticket": ticket,
        "minutes": minutes,
        "base": base,
        "extra_half_hours": blocks,
        "amount": amount,
    }
    assert line["kind"] == (
        "intervention_current" if version == "10.4" else "intervention_previous"
    )
    assert line["rate"] == "35.00"
    vat = (money(amount) * Decimal("0.22")).quantize(Decimal("0.01"))
    assert (doc["subtotal"], doc["vat"], doc["total"]) == (
        amount,
        str(vat),
        str(money(amount) + vat),
    )


def test_one_intervention_may_take_several_contacts(cli, dms) -> None:
    ticket = open_dms(cli, dms)
    log(cli, ticket, "30m", at="2026-03-02T09:00:00Z")
    log(cli, ticket, "15m", at="2026-03-05T09:00:00Z")
    log(cli, ticket, "6m", at="2026-03-09T09:00:00Z")
    [line] = bill(cli)["lines"]
    assert (line["minutes"], line["amount"]) == (51, "115.00")


@pytest.mark.parametrize("version, amount", [("9.1", "160.00"), ("10.4", "45.00")])
def test_without_a_stored_mode_the_version_decides(cli, dms, version, amount) -> None:
    """Tickets opened before the contract check stored a billing mode."""
    ticket = open_dms(cli, dms, version=version)
    set_billing_mode(ticket, None)
    log(cli, ticket, "20m")
    assert bill(cli)["lines"][0]["amount"] == amount


def test_stored_billing_mode_wins_over_the_version(cli, dms) -> None:
    current_version_ticket = open_dms(cli, dms, version="10.4")
    set_billing_mode(current_version_ticket, "per_intervention_previous")
    log(cli, current_version_ticket, "30m")
    [line] = bill(cli)["lines"]
    assert (line["kind"], line["amount"]) == ("intervention_previous", "160.00")


def test_json_money_strings_and_extra_keys(cli, dms) -> None:
    log(cli, open_dms(cli, dms), "25m")
    doc = bill(cli)
    for key in ("subtotal", "vat", "total"):
        money(doc[key])
    for key in ("base", "amount", "rate"):
        money(doc["lines"][0][key])
    assert doc["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    assert (doc["currency"], doc["vat_rate"], doc["status"], doc["number"]) == (
        "EUR",
        "0.22",
        "draft",
        None,
    )
    assert "intervention" in doc["lines"][0]["description"]
    assert {
        "item": "occasional intervention, current version",
        "price": "45.00",
        "unit": "includes 20 min",
    } in doc["rates"]


# -- VAT, totals, period ------------------------------------------------------------------


def test_vat_once_on_the_subtotal_and_totals(cli, dms) -> None:
    for version, minutes in (("10.4", 20), ("10.4", 21), ("9.1", 31)):
        log(cli, open_dms(cli, dms, version=version), f"{minutes}m")
    doc = bill(cli)
    assert [line["amount"] for line in doc["lines"]] == ["45.00", "80.00", "195.00"]
    assert doc["subtotal"] == "320.00"
    assert doc["vat"] == "70.40"
    assert doc["total"] == "390.40"


def test_customer_vat_rate_else_policy_default(cli, dms) -> None:
    cli("customer", "add", "lab", "--name", "Lab Bianchi", "--country", "IT")  # no VAT rate
    cli(
        "customer", "add", "swiss", "--name", "Zahnarzt AG", "--country", "CH", "--vat-rate", "8.1%"
    )
    for key in ("lab", "swiss"):
        cli("contact", "add", key, f"a@{key}.example", "--name", "A")
        cli(
            "contract",
            "add",
            key,
            "--plan",
            "maintenance",
            "--start",
            "2026-01-01",
            "--product",
            "dms",
        )
        ticket = open_dms(cli, {**dms, "customer": key, "contact": f"a@{key}.example"})
        log(cli, ticket, "21m")
    lab, swiss = bill(cli, "lab"), bill(cli, "swiss")
    assert (lab["vat_rate"], lab["vat"], lab["total"]) == ("0.22", "17.60", "97.60")
    assert (swiss["vat_rate"], swiss["vat"], swiss["total"]) == ("0.081", "6.48", "86.48")


def test_bill_takes_only_the_period_and_the_customer(cli, dms) -> None:
    ticket = open_dms(cli, dms, at="2026-02-20T09:00:00Z")
    log(cli, ticket, "20m", at="2026-02-28T23:59:59Z")  # February
    log(cli, ticket, "25m", at="2026-03-01T00:00:00Z")  # first instant of March
    log(cli, ticket, "5m", at="2026-03-31T23:59:59Z")  # last instant of March
    log(cli, ticket, "40m", at="2026-04-01T00:00:00Z")  # April
    cli("customer", "add", "other", "--name", "Other", "--country", "IT", "--vat-rate", "22%")
    cli("contact", "add", "other", "o@other.example", "--name", "O")
    cli("contract", "add", "other", "--plan", "maintenance", "--start", "2026-01-01")
    log(cli, open_dms(cli, {**dms, "customer": "other", "contact": "o@other.example"}), "90m")
    [line] = bill(cli)["lines"]
    assert (line["ticket"], line["minutes"], line["amount"]) == (ticket, 30, "80.00")


def test_nothing_to_bill_is_an_empty_bill(cli, dms) -> None:
    doc = bill(cli)
    assert (doc["lines"], doc["subtotal"], doc["total"]) == ([], "0.00", "0.00")


def test_corrections_reduce_the_billed_time(cli, dms) -> None:
    ticket = open_dms(cli, dms)
    log(cli, ticket, "31m")
    log(cli, ticket, "-11m", "--reason", "double-counted the call-back")
    [line] = bill(cli)["lines"]
    assert (line["minutes"], line["amount"]) == (20, "45.00")


# -- categories, split tickets, plans -------------------------------------------------------


def test_split_children_are_billed_each_on_their_own(cli, dms, tmp_path) -> None:
    parent = open_dms(cli, dms, title="Two problems")
    triage(parent, "defect")
    first, second = split(parent, ["Password reset", "Index alignment"], tmp_path)
    log(cli, parent, "10m")  # triage call on the parent: no intervention of its own
    log(cli, first, "25m")
    log(cli, second, "15m")
    lines = {line["ticket"]: line for line in bill(cli)["lines"]}
    assert set(lines) == {first, second}
    assert (lines[first]["amount"], lines[second]["amount"]) == ("80.00", "45.00")


def test_always_supported_and_misuse_are_not_billed(cli, dms) -> None:
    download, misuse, defect = (open_dms(cli, dms, title=t) for t in ("a", "b", "c"))
    triage(download, "always_supported", topic="download")
    triage(misuse, "misuse", topic="how-to")
    triage(defect, "defect")
    for ticket in (download, misuse, defect):
        log(cli, ticket, "20m")
    assert [line["ticket"] for line in bill(cli)["lines"]] == [defect]


def test_data_recovery_is_billed_apart_at_its_hourly_rate(cli, dms) -> None:
    ticket = open_dms(cli, dms)
    log(cli, ticket, "20m")
    log(cli, ticket, "1h30m", "--kind", "recovery")
    lines = bill(cli)["lines"]
    assert [(line["kind"], line["minutes"], line["amount"]) for line in lines] == [
        ("intervention_current", 20, "45.00"),
        ("hourly:data_recovery", 90, "90.00"),
    ]


def test_billable_service_uses_the_rate_named_by_its_topic(cli, dms) -> None:
    ticket = open_dms(cli, dms, title="Restore the March archive")
    triage(ticket, "billable_service", topic="data-recovery")
    log(cli, ticket, "45m")
    doc = bill(cli)
    [line] = doc["lines"]
    assert (line["kind"], line["amount"], line["rate"]) == ("hourly:service", "45.00", "60.00")
    assert line["description"].startswith("data recovery")
    assert {"item": "data recovery", "price": "60.00", "unit": "per hour"} in doc["rates"]


def test_a_rate_missing_from_the_policy_is_reported(cli, dms) -> None:
    ticket = open_dms(cli, dms)
    triage(ticket, "out_of_scope", topic="network")
    log(cli, ticket, "30m", "--kind", "diagnosis")
    result = cli("bill", "--customer", "studio", *PERIOD, "--json", code=2)
    assert "rates.hourly.diagnosis" in result.stderr
    assert result.stdout == ""


def _medisoft_with_recovery(tmp_path: Path) -> Path:
    text = (EXAMPLES / "medisoft.toml").read_text(encoding="utf-8")
    text = text.replace('service = "220.00"', 'service = "220.00"\ndata-recovery = "150.00"')
    text = text.replace("billable_services = [", 'billable_services = [\n  "data-recovery",')
    path = tmp_path / "medisoft.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_included_plan_bills_services_and_recovery_not_defects(cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    seed = seed_medisoft(cli)
    cli("policy", "load", str(_medisoft_with_recovery(tmp_path)))

    def medisoft_ticket(title: str) -> int:
        return int(
            cli(
                "ticket",
                "open",
                "--customer",
                "hosp",
                "--contact",
                seed["contact"],
                "--title",
                title,
                "--product",
                "pacs",
                "--version",
                "6.2",
                "--at",
                AT,
            ).stdout
        )

    defect, custom, broken_db = (medisoft_ticket(t) for t in ("crash", "report", "db"))
    triage(defect, "defect")
    triage(custom, "billable_service", topic="report-personalisation")
    log(cli, defect, "3h")
    log(cli, custom, "1h30m")
    log(cli, broken_db, "40m")
    log(cli, broken_db, "30m", "--kind", "recovery")
    doc = bill(cli, "hosp")
    assert [(line["ticket"], line["kind"], line["amount"]) for line in doc["lines"]] == [
        (custom, "hourly:service", "330.00"),
        (broken_db, "hourly:data_recovery", "75.00"),
    ]
    assert (doc["currency"], doc["vat_rate"], doc["total"]) == ("BRL", "0", "405.00")
    assert doc["vat_included"] is True


# -- finalising --------------------------------------------------------------------------


def finalize(cli: Any, customer: str = "studio", *extra: str, code: int = 0) -> Any:
    return cli("bill", "finalize", "--customer", customer, *PERIOD, *extra, code=code)


def test_finalize_numbers_and_locks_lines(cli, dms) -> None:
    ticket = open_dms(cli, dms)
    log(cli, ticket, "21m")
    draft = bill(cli)
    result = finalize(cli)
    assert result.stdout.strip() == "INV-2026-0001"
    shown = cli.json("invoice", "show", "INV-2026-0001")
    assert shown["status"] == "final"
    assert shown["finalized_at"] == "2026-04-01T08:00:00Z"
    for key in ("customer", "lines", "subtotal", "vat", "total", "vat_rate", "period"):
        assert shown[key] == draft[key]
    assert bill(cli)["lines"] == []
    entries = cli.json("ticket", "worklog", ticket)["entries"]
    assert [e["invoice"] for e in entries] == ["INV-2026-0001"]


def test_finalizing_twice_bills_nothing_twice_and_skips_no_number(cli, dms) -> None:
    log(cli, open_dms(cli, dms), "21m")
    finalize(cli)
    again = finalize(cli, code=1)
    assert "nothing to bill" in again.stderr
    cli("customer", "add", "lab", "--name", "Lab", "--country", "IT", "--vat-rate", "22%")
    cli("contact", "add", "lab", "a@lab.example", "--name", "A")
    cli("contract", "add", "lab", "--plan", "maintenance", "--start", "2026-01-01")
    log(cli, open_dms(cli, {**dms, "customer": "lab", "contact": "a@lab.example"}), "5m")
    assert finalize(cli, "lab").stdout.strip() == "INV-2026-0002"
    rows = cli.json("invoice", "list")
    assert [(r["number"], r["customer"], r["total"]) for r in rows] == [
        ("INV-2026-0001", "studio", "97.60"),
        ("INV-2026-0002", "lab", "54.90"),
    ]


def test_numbers_restart_each_year(cli, dms, monkeypatch) -> None:
    ticket = open_dms(cli, dms, at="2026-12-01T09:00:00Z")
    log(cli, ticket, "20m", at="2026-12-01T09:00:00Z")
    december = ("--from", "2026-12-01", "--to", "2026-12-31")
    monkeypatch.setenv("DESKCTL_NOW", "2026-12-31T20:00:00Z")
    cli("bill", "finalize", "--customer", "studio", *december)
    monkeypatch.setenv("DESKCTL_NOW", "2027-01-02T09:00:00Z")
    log(cli, ticket, "20m", at="2026-12-31T21:00:00Z")  # logged late, in the new year
    second = cli("bill", "finalize", "--customer", "studio", *december)
    assert second.stdout.strip() == "INV-2027-0001"


@pytest.mark.parametrize(
    "first, second, charges",
    [
        ("21m", "30m", ("80.00", "35.00")),  # 51 min in all: 115.00
        ("20m", "1m", ("45.00", "35.00")),  # 21 min in all: 80.00
        ("21m", "29m", ("80.00", "0.00")),  # 50 min in all: still 80.00
    ],
)
def test_later_work_on_an_invoiced_ticket_charges_the_base_once(
    cli, dms, first, second, charges
) -> None:
    ticket = open_dms(cli, dms)
    log(cli, ticket, first)
    finalize(cli)
    log(cli, ticket, second, at=LATER)
    [line] = bill(cli)["lines"]
    assert line["base"] == "0.00"
    assert line["minutes"] == int(second.removesuffix("m"))
    assert "invoiced before" in line["description"]
    finalize(cli)
    amounts = [
        cli.json("invoice", "show", n)["lines"][0]["amount"]
        for n in ("INV-2026-0001", "INV-2026-0002")
    ]
    assert tuple(amounts) == charges
    minutes = int(first[:-1]) + int(second[:-1])
    single = open_dms(cli, dms, title="same time, one invoice", at="2026-04-01T08:00:00Z")
    log(cli, single, f"{minutes}m", at="2026-04-01T08:00:00Z")
    april = cli.json("bill", "--customer", "studio", "--from", "2026-04-01", "--to", "2026-04-30")
    assert sum(money(a) for a in amounts) == money(april["lines"][0]["amount"])


def test_correcting_invoiced_time_needs_a_void_first(cli, dms) -> None:
    ticket = open_dms(cli, dms)
    log(cli, ticket, "40m")
    finalize(cli)
    refused = cli("ticket", "log", ticket, "-10m", "--reason", "overcounted", code=2)
    assert "void" in refused.stderr
    cli("invoice", "void", "INV-2026-0001", "--reason", "wrong time")
    log(cli, ticket, "-10m", "--reason", "overcounted", at=LATER)
    [line] = bill(cli)["lines"]
    assert (line["minutes"], line["amount"]) == (30, "80.00")


# -- voiding -------------------------------------------------------------------------------


def test_void_keeps_the_number_and_frees_the_lines(cli, dms) -> None:
    ticket = open_dms(cli, dms)
    log(cli, ticket, "51m")
    finalize(cli)
    voided = cli.json("invoice", "void", "INV-2026-0001", "--reason", "wrong customer address")
    assert (voided["status"], voided["void_reason"]) == ("void", "wrong customer address")
    [line] = bill(cli)["lines"]
    assert (line["ticket"], line["amount"]) == (ticket, "115.00")
    assert finalize(cli).stdout.strip() == "INV-2026-0002"
    rows = cli.json("invoice", "list", "--customer", "studio")
    assert [(r["number"], r["status"]) for r in rows] == [
        ("INV-2026-0001", "void"),
        ("INV-2026-0002", "final"),
    ]
    old = cli.json("invoice", "show", "INV-2026-0001")
    assert old["lines"][0]["amount"] == "115.00"  # the void invoice still reads as issued


def test_void_refusals(cli, dms) -> None:
    log(cli, open_dms(cli, dms), "20m")
    finalize(cli)
    assert "reason" in cli("invoice", "void", "INV-2026-0001", "--reason", " ", code=2).stderr
    cli("invoice", "void", "INV-2026-0001", code=2)  # --reason is required
    cli("invoice", "void", "INV-2026-0999", "--reason", "x", code=3)
    cli("invoice", "void", "INV-2026-0001", "--reason", "typo")
    again = cli("invoice", "void", "INV-2026-0001", "--reason", "again", code=1)
    assert "already void" in again.stderr
    assert cli.json("invoice", "show", "INV-2026-0001")["void_reason"] == "typo"


# -- output formats --------------------------------------------------------------------------


def test_bill_all_csv_and_text(cli, dms) -> None:
    cli("customer", "add", "lab", "--name", "Lab", "--country", "IT", "--vat-rate", "22%")
    cli("contact", "add", "lab", "a@lab.example", "--name", "A")
    cli("contract", "add", "lab", "--plan", "maintenance", "--start", "2026-01-01")
    cli("customer", "add", "idle", "--name", "Idle", "--country", "IT")
    log(cli, open_dms(cli, dms), "20m")
    log(cli, open_dms(cli, {**dms, "customer": "lab", "contact": "a@lab.example"}), "21m")
    docs = cli.json("bill", "--all", *PERIOD)
    assert [(d["customer"], d["total"]) for d in docs] == [("lab", "97.60"), ("studio", "54.90")]
    csv_lines = cli("bill", "--all", *PERIOD, "--csv").stdout.splitlines()
    assert csv_lines[0].startswith("customer,ticket,minutes,base,extra_half_hours,amount")
    assert [row.split(",")[0] for row in csv_lines[1:]] == ["lab", "studio"]
    text = cli("bill", "--customer", "studio", *PERIOD).stdout
    assert "DRAFT" in text and "54.90" in text and "prices exclude VAT" in text


def test_html_invoice_is_self_contained_and_complete(cli, dms, tmp_path) -> None:
    """An Italian customer's draft and invoice: in Italian, money as 292,80 €."""
    log(cli, open_dms(cli, dms), "21m")
    log(cli, open_dms(cli, dms, version="9.1", title="Archivio lento"), "30m")
    draft_file = tmp_path / "draft.html"
    cli("bill", "--customer", "studio", *PERIOD, "--html", draft_file)
    draft = draft_file.read_text(encoding="utf-8").replace("\xa0", " ")
    for text in (
        "Bozza di fattura",
        "TecMedical Tecnologie Medicali S.r.l.",
        "IT01234560789",
        "Studio Rossi",
        "1 mar 2026",
        "31 mar 2026",
        "Index rebuild",
        "Archivio lento",
        "80,00 €",
        "160,00 €",
        "Imponibile",
        "240,00 €",
        "IVA 22%",
        "52,80 €",
        "292,80 €",
        "Prezzi IVA esclusa",
        "Tariffe applicate",
        "45,00 €",
        "35,00 €",
        "<style>",
    ):
        assert text in draft, text
    for external in ("<script", "<link", "<img", "src=", "http://", "https://", "@import"):
        assert external not in draft.lower(), external
    finalize(cli, "studio", "--at", NOW)
    final_file = tmp_path / "final.html"
    cli("invoice", "show", "INV-2026-0001", "--html", final_file)
    final = final_file.read_text(encoding="utf-8")
    assert "Fattura INV-2026-0001" in final and "Bozza" not in final
    assert "Scadenza" in final and "1 maggio 2026" in final  # finalised 1 April, 30 days


def test_html_escapes_customer_text(cli, dms, tmp_path) -> None:
    cli("customer", "add", "evil", "--name", "<b>Evil</b> & Co", "--country", "IT")
    cli("contact", "add", "evil", "e@evil.example", "--name", "E")
    cli("contract", "add", "evil", "--plan", "maintenance", "--start", "2026-01-01")
    log(cli, open_dms(cli, {**dms, "customer": "evil", "contact": "e@evil.example"}), "5m")
    out = tmp_path / "evil.html"
    cli("bill", "--customer", "evil", *PERIOD, "--html", out)
    page = out.read_text(encoding="utf-8")
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in page and "<b>Evil" not in page


def test_invoice_list_csv_and_show_text(cli, dms) -> None:
    log(cli, open_dms(cli, dms), "20m")
    finalize(cli)
    rows = cli("invoice", "list", "--csv").stdout.splitlines()
    assert rows[0].split(",")[:3] == ["number", "customer", "period_from"]
    assert rows[1].startswith("INV-2026-0001,studio,2026-03-01")
    assert "Invoice INV-2026-0001" in cli("invoice", "show", "INV-2026-0001").stdout
    cli("invoice", "show", "INV-1999-0001", code=3)


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, code, message",
    [
        ([*PERIOD], 2, "--customer"),
        (["--customer", "studio", "--all", *PERIOD], 2, "--customer"),
        (["--customer", "studio", "--from", "2026-03-01"], 2, "period"),
        (["--customer", "studio", "--from", "2026-03-31", "--to", "2026-03-01"], 2, "before"),
        (["--customer", "studio", "--from", "March", "--to", "2026-03-31"], 2, "--from"),
        (["--customer", "nobody", *PERIOD], 3, "nobody"),
        (["--customer", "studio", *PERIOD, "--json", "--csv"], 2, "--json"),
    ],
)
def test_bill_bad_input(cli, dms, args, code, message) -> None:
    result = cli("bill", *args, code=code)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args, code",
    [
        ([*PERIOD], 2),
        (["--customer", "studio", "--from", "2026-03-31", "--to", "2026-03-01"], 2),
        (["--customer", "nobody", *PERIOD], 3),
        (["--customer", "studio", *PERIOD, "--at", "yesterday"], 2),
    ],
)
def test_finalize_bad_input_writes_nothing(cli, dms, args, code) -> None:
    log(cli, open_dms(cli, dms), "20m")
    cli("bill", "finalize", *args, code=code)
    assert cli.json("invoice", "list") == []
    assert finalize(cli).stdout.strip() == "INV-2026-0001"  # no number was used up


def test_finalize_json_is_the_invoice(cli, dms) -> None:
    log(cli, open_dms(cli, dms), "20m")
    doc = cli.json(
        "bill", "finalize", "--customer", "studio", *PERIOD, "--at", "2026-04-02T10:00:00+02:00"
    )
    assert (doc["number"], doc["total"]) == ("INV-2026-0001", "54.90")
    assert datetime.fromisoformat(doc["finalized_at"].replace("Z", "+00:00")).hour == 8


def test_finalize_follow_up_and_void_on_each_backend(cli, store, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    seed = seed_dms(cli)
    ticket = open_dms(cli, seed)
    log(cli, ticket, "21m")
    log(cli, ticket, "10m", "--kind", "recovery")
    assert finalize(cli).stdout.strip() == "INV-2026-0001"
    finalize(cli, code=1)
    log(cli, ticket, "30m", at=LATER)
    [line] = bill(cli)["lines"]
    assert (line["base"], line["extra_half_hours"], line["amount"]) == ("0.00", 1, "35.00")
    assert finalize(cli).stdout.strip() == "INV-2026-0002"
    cli("invoice", "void", "INV-2026-0001", "--reason", "re-issue")
    lines = bill(cli)["lines"]
    assert [(x["kind"], x["minutes"], x["amount"]) for x in lines] == [
        ("intervention_current", 21, "80.00"),  # 51 min less the 35.00 still invoiced
        ("hourly:data_recovery", 10, "10.00"),
    ]
    assert finalize(cli).stdout.strip() == "INV-2026-0003"
    final = [r for r in cli.json("invoice", "list") if r["status"] == "final"]
    assert sum(money(r["subtotal"]) for r in final) == Decimal("125.00")  # 115 + 10


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    entries=st.lists(
        st.tuples(
            st.integers(1, 28), st.integers(1, 75), st.sampled_from(["connection", "recovery"])
        ),
        min_size=1,
        max_size=6,
    ),
    cuts=st.sets(st.integers(1, 27), max_size=3),
    current=st.booleans(),
)
def test_invoicing_in_pieces_charges_what_one_invoice_would(
    cli, dms, entries, cuts, current
) -> None:
    """However the work of a ticket is spread over invoices, the charges add up to its price."""
    from deskctl.clock import parse_instant
    from deskctl.domain.billing import WorkEntry, price_ticket, rate_card_for
    from deskctl.services import tickets
    from deskctl.services.billing import invoices, worklog
    from deskctl.store import db

    # opened before the first day work can be logged on (work is never before the opening)
    ticket = open_dms(cli, dms, version="10.4" if current else "9.1", at="2026-03-01T09:00:00Z")
    now = parse_instant(NOW)
    with _session() as s:
        for day, minutes, kind in entries:
            worklog.log_work(
                s,
                ticket,
                minutes,
                kind=kind,
                note=None,
                reason=None,
                now=parse_instant(f"2026-03-{day:02d}T10:00:00Z"),
                actor="t",
            )
    bounds = [1, *sorted(c + 1 for c in cuts), 29]
    charged = Decimal("0")
    for first, after in itertools.pairwise(bounds):
        with _session() as s:
            try:
                docs = invoices.finalize(
                    s, "studio", date(2026, 3, first), date(2026, 3, after - 1), now=now, actor="t"
                )
            except Refused:
                continue  # no work in this piece
        charged += sum(
            (
                money(str(line["amount"]))
                for d in docs
                for line in d["lines"]
                if line["ticket"] == ticket
            ),
            Decimal("0"),
        )
    with db.session(db.ready_engine()) as s:
        policy = tickets.policy_of(s, tickets.get(s, ticket))
    whole = price_ticket(
        ticket,
        [WorkEntry(m, k) for _, m, k in entries],
        mode="per_intervention",
        rates=rate_card_for(policy.rates, "defect", None).rates,
        version_current=current,
        category="defect",
    )
    assert charged == sum((line.amount for line in whole), Decimal("0"))
