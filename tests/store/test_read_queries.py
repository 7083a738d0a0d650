"""The DBAPI read queries (store/reads) against the ORM, on SQLite and PostgreSQL.

The store is built through the normal write path (the CLI); every read query of
``store.reads`` must run on both backends and give back exactly what the SQLModel
tables give: same values, same Python types (aware instants, dates, Decimal money,
decoded JSON). A query added to store/reads without being exercised here fails
the completeness check.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from deskctl.store.dbapi import Query, Reader
from tests.factory import open_ticket, seed_dms

AT = "2026-03-02T09:00:00Z"
NOW = "2026-04-01T08:00:00Z"
PERIOD = ("--from", "2026-03-01", "--to", "2026-03-31")


@pytest.fixture
def built(cli, store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A small store written by the CLI: tickets in several states, history, an
    attachment, a child, work billed on a final invoice, a KB article, standing."""
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    seed = seed_dms(cli)
    cli("agent", "add", "tester")  # the acting user, the store's first agent: its manager
    cli("agent", "add", "maria", "--role", "agent")
    cli("contact", "add", "studio", "eva@studio.example", "--name", "Eva")
    cli(
        "contract", "standing", "studio", "--overdue-since", "2026-06-01",
        "--at", "2026-03-01T12:00:00Z",
    )
    note = tmp_path / "log.txt"
    note.write_text("trace", encoding="utf-8")
    first = open_ticket(cli, seed, "Index rebuild", "--attach", str(note), at=AT)
    second = open_ticket(cli, seed, "Slow search", at="2026-03-03T10:00:00Z")
    third = open_ticket(cli, seed, "Printer", at="2026-03-04T11:00:00Z")
    cli("ticket", "triage", first, "--severity", "high", "--at", "2026-03-02T09:30:00Z")
    cli("ticket", "assign", first, "--to", "maria", "--at", "2026-03-02T09:40:00Z")
    cli("ticket", "start", first, "--at", "2026-03-02T10:00:00Z")
    cli("ticket", "log", first, "1h30m", "--at", "2026-03-02T11:00:00Z")
    cli("ticket", "triage", second, "--severity", "normal", "--at", "2026-03-03T10:30:00Z")
    cli("ticket", "close", third, "--outcome", "cancelled", "--at", "2026-03-04T12:00:00Z")
    cli("bill", "finalize", "--customer", "studio", *PERIOD)
    cli(
        "kb", "add", "kb-index", "--title", "Rebuilding the index", "--topic", "search",
        "--url", "https://kb.example/index", "--body", "How to rebuild a search index",
    )
    return {"tickets": [first, second, third], "customer": seed["customer"]}


def _orm(model: Any, *order: Any) -> list[Any]:
    from sqlalchemy import select

    from deskctl.store import db

    with db.session(db.ready_engine()) as s:
        return list(s.execute(select(model).order_by(*order)).scalars())


def _same(read: dict[str, Any], orm: Any, columns: list[str]) -> None:
    for name in columns:
        want, got = getattr(orm, name), read[name]
        assert got == want, f"{type(orm).__name__}.{name}: {got!r} != {want!r}"
        assert type(got) is type(want), f"{type(orm).__name__}.{name}: {type(got)} != {type(want)}"


def _columns(model: Any) -> list[str]:
    return [c.name for c in model.__table__.columns]


class Recorder(Reader):
    """A reader that notes every query it runs (for the completeness check)."""

    ran: ClassVar[set[int]] = set()

    def _run(self, q: Query, params: Any) -> Any:
        Recorder.ran.add(id(q))
        return super()._run(q, params)


@pytest.fixture
def reader(built) -> Any:
    from deskctl.store import dbapi

    with dbapi.read() as r:
        yield Recorder(r.con, r.dialect)


def check_ticket_rows_events_and_attachments_read_as_the_orm_does(built, reader) -> None:
    from deskctl.store.models import Attachment, Ticket, TicketEvent
    from deskctl.store.reads import tickets as rt

    for orm in _orm(Ticket, Ticket.id):
        row = rt.ticket(reader, orm.id)
        assert row is not None
        _same(row, orm, _columns(Ticket))
    events = _orm(TicketEvent, TicketEvent.ticket_id, TicketEvent.seq)
    first = built["tickets"][0]
    read_events = rt.events(reader, first)
    mine = [e for e in events if e.ticket_id == first]
    assert [(e.seq, e.at, e.kind, e.actor, e.from_status, e.to_status) for e in read_events] == [
        (e.seq, e.at, e.kind, e.actor, e.from_status, e.to_status) for e in mine
    ]
    assert all(e.at.tzinfo is UTC for e in read_events)
    assert [e.data.get("note") for e in read_events] == [
        (e.data or {}).get("note", e.note) for e in mine
    ]
    (att,) = _orm(Attachment, Attachment.id)
    assert rt.attachments(reader, first) == [
        {"filename": att.filename, "size": att.size, "sha256": att.sha256,
         "content_type": att.content_type}
    ]
    assert rt.children(reader, first) == []


def check_list_filters(built, reader) -> None:
    for sort in ("id", "sla"):
        check_list_filters_sorted(built, reader, sort)


def check_list_filters_sorted(built, reader, sort: str) -> None:
    from deskctl.services.views import ListFilter, list_tickets
    from deskctl.store.models import Ticket

    every = _orm(Ticket, Ticket.id)
    cases = [
        (ListFilter(sort=sort), every),
        (ListFilter(statuses=["queued"], sort=sort), [t for t in every if t.status == "queued"]),
        (ListFilter(open_only=True, sort=sort), [t for t in every if t.status != "closed"]),
        (ListFilter(severities=["high"], sort=sort), [t for t in every if t.severity == "high"]),
        (ListFilter(customer="studio", sort=sort), every),
        (ListFilter(assignee="maria", sort=sort), [t for t in every if t.assignee == "maria"]),
        (ListFilter(team="nobody", sort=sort), []),
        (ListFilter(limit=1, sort=sort), None),
    ]
    for flt, want in cases:
        rows = list_tickets(reader, flt)
        if want is None:
            assert len(rows) == 1
            continue
        assert sorted(r["id"] for r in rows) == sorted(t.id for t in want), flt
        for row in rows:
            orm = next(t for t in every if t.id == row["id"])
            _same(row, orm, ["status", "severity", "title", "opened_at", "sla_due_at"])
            assert row["customer"] == "studio"
    newest = list_tickets(reader, ListFilter(sort="id"))
    assert [r["id"] for r in newest] == sorted((t.id for t in every), reverse=True)


def check_queue_reads_the_open_tickets_by_status(built, reader) -> None:
    from deskctl.services.views import QueueFilter, queue

    groups = {g.status: g for g in queue(reader, QueueFilter())}
    first, second, _third = built["tickets"]
    assert [t["id"] for t in groups["in_progress"].tickets] == [first]
    assert [t["id"] for t in groups["queued"].tickets] == [second]
    assert "closed" not in groups
    mine = queue(reader, QueueFilter(assignee="maria", team=None, limit=5))
    assert [(g.status, g.total) for g in mine] == [("in_progress", 1)]
    assert mine[0].tickets[0]["opened_at"] == datetime(2026, 3, 2, 9, tzinfo=UTC)


def check_master_data_reads_as_the_orm_does(built, reader) -> None:
    from deskctl.store.models import (
        Contact,
        ContactNaming,
        Contract,
        Customer,
        PolicyVersion,
        Product,
    )
    from deskctl.store.reads import masterdata as md

    (customer,) = _orm(Customer, Customer.id)
    _same(md.customer_by_key(reader, "studio"), customer, _columns(Customer))
    (contract,) = _orm(Contract, Contract.id)
    (read_contract,) = md.contracts_of(reader, customer.id)
    _same(read_contract, contract, _columns(Contract))
    assert md.contract_products(reader, [contract.id]) == [(contract.id, "dms")]
    assert md.current_overdue_since(reader, customer.id, datetime(2026, 3, 5, tzinfo=UTC)) == (
        datetime(2026, 6, 1).date()
    )
    assert md.current_overdue_since(reader, customer.id, datetime(2026, 2, 1, tzinfo=UTC)) is None
    for contact in _orm(Contact, Contact.id):
        row = md.contact(reader, customer.id, contact.email)
        assert row is not None
        _same(row, contact, ["id", "customer_id", "email", "name", "named"])
        history = md.naming_history(reader, contact.id)
        orm_history = [h for h in _orm(ContactNaming, ContactNaming.id)
                       if h.contact_id == contact.id]
        assert [(h.named, h.at) for h in history] == [(h.named, h.at) for h in orm_history]
    (product,) = _orm(Product, Product.id)
    for row in (md.product_by_name(reader, "dms"), *md.products(reader)):
        assert row is not None
        _same(row, product, ["id", "name", "current_version", "eol", "eol_announced"])
    (policy,) = _orm(PolicyVersion, PolicyVersion.id)
    assert md.policy_names(reader) == [policy.name]
    row, parsed = md.latest_policy(reader)
    _same(row, policy, ["id", "name", "version", "text"])
    assert md.policy_by_version_id(reader, policy.id)[1] is parsed
    assert md.policy_texts(reader) == [policy.text]
    assert md.acting_agent(reader, "tester", "tester") == _identity_login() == "tester"


def _identity_login() -> str:
    """Who the write path says is acting (store.identity): the same agent --mine means."""
    from deskctl.store import db, identity

    with db.session(db.ready_engine()) as s:
        return identity.identify(s).login


def check_invoices_and_kb_read_as_the_orm_does(built, reader) -> None:
    from deskctl.services.views import kb_search, list_invoices
    from deskctl.store.models import Invoice, KbArticle

    (invoice,) = _orm(Invoice, Invoice.id)
    for rows in (list_invoices(reader), list_invoices(reader, "studio")):
        (row,) = rows
        _same(row, invoice, ["number", "period_from", "period_to", "status", "currency",
                             "subtotal", "vat_rate", "vat", "total", "finalized_at",
                             "voided_at", "void_reason"])
    (article,) = _orm(KbArticle, KbArticle.id)
    (hit,) = kb_search(reader, ["rebuil", "index"])
    _same(hit, article, ["key", "title", "url", "topic", "body", "created_at"])
    assert kb_search(reader, ["nothing", "index"]) == []
    assert kb_search(reader, ["nothing", "index"], any_word=True)[0]["key"] == "kb-index"


def check_a_json_column_round_trips(built, reader) -> None:
    from deskctl.store.reads import tickets as rt

    row = rt.ticket(reader, built["tickets"][0])
    assert row is not None
    assert isinstance(row["entitlement"], dict) and row["entitlement"]["entitled"] is True
    assert row["sla_computed_at"] is not None and row["sla_computed_at"].tzinfo is not None
    json.dumps(row["entitlement"])


CHECKS = (
    check_ticket_rows_events_and_attachments_read_as_the_orm_does,
    check_list_filters,
    check_queue_reads_the_open_tickets_by_status,
    check_master_data_reads_as_the_orm_does,
    check_invoices_and_kb_read_as_the_orm_does,
    check_a_json_column_round_trips,
)


def test_every_read_query_matches_the_orm_on_this_backend(built, reader) -> None:
    """Each check compares read rows with the ORM's; then every Query constant of
    store/reads must have run, so a new query cannot escape the comparison."""
    import importlib
    import pkgutil

    import deskctl.store.reads as pkg

    Recorder.ran.clear()
    for check in CHECKS:
        check(built, reader)
    missing = []
    for info in pkgutil.iter_modules(pkg.__path__):
        module = importlib.import_module(f"deskctl.store.reads.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, Query) and id(value) not in Recorder.ran:
                missing.append(f"{info.name}.{name}")
    assert not missing, f"read queries no check ran: {missing}"
