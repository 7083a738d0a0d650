"""`deskctl demo`: a realistic store whose rows are exactly what their events say."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

NOW = "2026-03-01T10:00:00Z"
NOW_DT = datetime(2026, 3, 1, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", NOW)


def _load(model: Any) -> list[Any]:
    from sqlalchemy import select

    from deskctl.store import db

    with db.session(db.default_engine()) as s:
        return list(s.execute(select(model)).scalars())


def _histories() -> dict[int, list[Any]]:
    from deskctl.services.tickets import to_event
    from deskctl.store.models import TicketEvent

    events: dict[int, list[Any]] = defaultdict(list)
    for row in _load(TicketEvent):
        events[row.ticket_id].append(to_event(row))
    return events


def test_every_ticket_row_is_the_replay_of_its_events(cli, store) -> None:
    """The projection columns, rev, times and logged minutes all follow from the events."""
    from deskctl.domain import lifecycle
    from deskctl.services.tickets import projection
    from deskctl.store.models import Ticket, WorkLog

    doc = cli.json("demo", "--tickets", "300", "--seed", "5")
    assert doc["counts"]["tickets"] == 300
    histories = _histories()
    minutes: dict[int, int] = defaultdict(int)
    for entry in _load(WorkLog):
        minutes[entry.ticket_id] += entry.minutes
    tickets = _load(Ticket)
    assert len(tickets) == 300 == len(histories)
    children: dict[int, set[int]] = defaultdict(set)
    for ticket in tickets:
        state = lifecycle.project(histories[ticket.id])
        expected = {
            **projection(state),
            "rev": state.version,
            "opened_at": state.opened_at,
            "updated_at": state.last_event_at,
        }
        assert {k: getattr(ticket, k) for k in expected} == expected, ticket.id
        assert minutes[ticket.id] == state.minutes
        if ticket.parent_id:
            children[ticket.parent_id].add(ticket.id)
    for parent_id, ids in children.items():
        assert set(lifecycle.project(histories[parent_id]).children) == ids


def test_every_ticket_has_the_sla_facts_a_change_would_write(cli, store) -> None:
    """Closed tickets too: the SLA columns and facts are the replay of the events at
    the demo's now, so reports need no refresh."""
    from dataclasses import asdict

    from deskctl.domain import sla_facts
    from deskctl.services import policies
    from deskctl.store import db
    from deskctl.store.models import SlaFact, Ticket

    cli("demo", "--tickets", "300", "--seed", "9")
    histories = _histories()
    stored: dict[int, dict[str, dict]] = defaultdict(dict)
    for f in _load(SlaFact):
        stored[f.ticket_id][f.metric] = f.model_dump()
    with db.session(db.default_engine()) as s:
        known = {}
        tickets = _load(Ticket)
        for ticket in tickets:
            vid = ticket.policy_version_id
            if vid not in known:
                known[vid] = policies.by_version_id(s, vid)[1]
            derived = sla_facts.derive(known[vid], histories[ticket.id], NOW_DT)
            assert {k: getattr(ticket, k) for k in derived.columns} == derived.columns
            expected = {
                f.metric: {
                    **asdict(f),
                    "ticket_id": ticket.id,
                    "computed_at": NOW_DT,
                    "stale_at": derived.columns["sla_stale_at"],
                    "opened_at": ticket.opened_at,
                    "customer_id": ticket.customer_id,
                    "severity": ticket.severity,
                    "policy_version_id": vid,
                }
                for f in derived.facts
            }
            assert stored.get(ticket.id, {}) == expected, ticket.id
    closed = [t for t in tickets if t.status == "closed"]
    assert closed and all(t.sla_computed_at == NOW_DT for t in closed)
    assert sum(1 for t in closed if stored.get(t.id)) > len(closed) // 2


def test_histories_are_in_time_order_and_never_in_the_future(cli) -> None:
    cli("demo", "--tickets", "300", "--seed", "3")
    horizon = NOW_DT - timedelta(days=366)
    for events in _histories().values():
        moves = [e.at for e in sorted(events, key=lambda e: e.seq) if e.to_status]
        assert moves == sorted(moves)
        assert all(horizon <= e.at <= NOW_DT for e in events)


def test_default_demo_covers_every_status_and_outcome(cli) -> None:
    from deskctl.domain.policy import OUTCOMES, STATES

    doc = cli.json("demo")
    assert doc["counts"]["tickets"] == 2000
    assert sum(doc["by_status"].values()) == 2000
    assert list(doc["by_status"]) == list(STATES)  # each state present, in lifecycle order
    assert set(doc["by_outcome"]) == set(OUTCOMES)
    assert doc["by_status"]["closed"] == sum(doc["by_outcome"].values())
    rows = (
        sqlite3.connect(_db_path())
        .execute("SELECT status, COUNT(*) FROM ticket GROUP BY status")
        .fetchall()
    )
    assert dict(rows) == doc["by_status"]
    _check_misuse_is_not_repeated()


def _check_misuse_is_not_repeated() -> None:
    """IMEXHS refuses a topic a contact was redirected for: no pair appears twice."""
    from deskctl.store.models import Customer, Ticket

    imexhs = {c.id for c in _load(Customer) if c.policy == "imexhs"}
    pairs = [
        (t.contact_id, t.topic)
        for t in _load(Ticket)
        if t.customer_id in imexhs and t.category == "misuse" and t.topic
    ]
    assert len(pairs) >= 5 and len(pairs) == len(set(pairs))


def _db_path() -> str:
    import os

    return os.environ["DESKCTL_DB"]


def test_master_data_is_realistic(cli) -> None:
    from deskctl.store.models import Contact, Contract, Customer, Product, Standing, Ticket

    doc = cli.json("demo", "--tickets", "600")
    customers = _load(Customer)
    assert {c.policy for c in customers} == {"medisoft", "imexhs", "dms", "opmon", "progresssoft"}
    assert {"IT", "BR", "CO", "ES", "JO"} <= {c.country for c in customers}
    products = _load(Product)
    assert [p.name for p in products if p.eol and p.eol < NOW_DT.date()] == ["opmon-7"]
    contracts = _load(Contract)
    today = NOW_DT.date()
    assert any(c.end and c.end < today for c in contracts)  # expired
    assert any(c.renews for c in contracts)
    assert [c.plan for c in contracts if c.license_issued and c.end and c.end > today] == [
        "warranty"
    ]
    standing = _load(Standing)
    overdue_now = {s.customer_id for s in standing if s.overdue_since}
    paid_since = {s.customer_id for s in standing if s.overdue_since is None}
    assert overdue_now - paid_since  # some customers are overdue today
    contacts = _load(Contact)
    assert {c.named for c in contacts} == {True, False}
    assert doc["counts"]["kb_articles"] > 0 and doc["counts"]["agents"] >= 4

    by_id = {c.id: c for c in contacts}
    policy_of = {c.id: c.policy for c in customers}
    contract_of = {c.id: c for c in contracts}
    eol = {p.name: p.eol for p in products}
    for t in _load(Ticket):
        contract = contract_of[t.contract_id]
        opened = t.opened_at.date()
        assert contract.customer_id == t.customer_id
        assert contract.start <= opened and (contract.end is None or opened <= contract.end)
        if policy_of[t.customer_id] == "opmon":  # only named contacts open OpMon tickets
            assert by_id[t.contact_id].named
        if t.product and eol[t.product]:
            assert opened < eol[t.product]


def _dump(path: Path) -> tuple[list[Any], list[Any]]:
    con = sqlite3.connect(path)
    tickets = con.execute("SELECT * FROM ticket ORDER BY id").fetchall()
    events = con.execute(
        "SELECT ticket_id, seq, at, kind, actor, from_status, to_status, note, data "
        "FROM ticket_event ORDER BY ticket_id, seq"
    ).fetchall()
    return tickets, events


def test_same_seed_same_store(cli, monkeypatch, tmp_path: Path) -> None:
    stores = []
    for name, seed in (("a", "9"), ("b", "9"), ("c", "10")):
        path = tmp_path / f"{name}.db"
        monkeypatch.setenv("DESKCTL_DB", str(path))
        cli("demo", "--tickets", "150", "--seed", seed, "--json")
        stores.append(_dump(path))
    assert stores[0] == stores[1]
    assert stores[0][0] != stores[2][0]


def test_refuses_a_store_with_tickets_and_writes_nothing(cli) -> None:
    cli("demo", "--tickets", "50")
    before = _dump(Path(_db_path()))
    result = cli("demo", "--tickets", "50", code=1)
    assert result.stderr.startswith("deskctl: the store already holds data (50 tickets")
    assert len(result.stderr.strip().splitlines()) == 1
    assert _dump(Path(_db_path())) == before


def test_refuses_a_store_with_customers(cli) -> None:
    cli("customer", "add", "acme", "--name", "ACME", "--country", "IT")
    result = cli("demo", "--tickets", "10", code=1)
    assert "1 customers" in result.stderr
    con = sqlite3.connect(_db_path())
    assert con.execute("SELECT COUNT(*) FROM policy_version").fetchone() == (0,)
    assert con.execute("SELECT COUNT(*) FROM customer").fetchone() == (1,)


def test_bad_ticket_count_is_usage_error(cli) -> None:
    result = cli("demo", "--tickets", "-1", code=2)
    assert "--tickets" in result.stderr
    assert not Path(_db_path()).exists()


def test_missing_examples_fail_clearly(cli, monkeypatch, tmp_path: Path) -> None:
    from deskctl.services import demo

    monkeypatch.setattr(demo, "examples_dir", lambda: tmp_path / "nowhere")
    result = cli("demo", "--tickets", "5", code=3)
    assert "example policies" in result.stderr and "medisoft.toml" in result.stderr
    assert not Path(_db_path()).exists()


def test_store_keeps_working_after_the_demo(cli, store) -> None:
    """New tickets get the next id (PostgreSQL sequences were moved past the demo's ids)."""
    from deskctl.store.models import Contact, Customer

    cli("demo", "--tickets", "120")
    customer = next(c for c in _load(Customer) if c.policy == "medisoft")
    contact = next(c for c in _load(Contact) if c.customer_id == customer.id)
    new_id = cli(
        "ticket",
        "open",
        "--customer",
        customer.key,
        "--contact",
        contact.email,
        "--title",
        "after the demo",
        "--at",
        NOW,
    ).stdout.strip()
    assert new_id == "121"
    cli("customer", "add", "acme", "--name", "ACME", "--country", "IT")


def test_piped_output_is_name_tab_count(cli) -> None:
    out = cli("demo", "--tickets", "40").stdout.splitlines()
    counts = dict(line.split("\t") for line in out)
    assert counts["tickets"] == "40"
    assert sum(int(v) for k, v in counts.items() if k.startswith("status.")) == 40


def test_json_summary_document(cli) -> None:
    doc = cli.json("demo", "--tickets", "30", "--seed", "4")
    assert doc["seed"] == 4 and doc["now"] == NOW
    assert doc["first_ticket"] == 1 and doc["last_ticket"] == 30
    assert set(doc) >= {
        "store",
        "counts",
        "by_status",
        "by_outcome",
        "by_severity",
        "by_category",
        "by_channel",
    }
    assert doc["counts"]["policies"] == 5


def test_no_tickets_gives_master_data_only(cli) -> None:
    doc = cli.json("demo", "--tickets", "0")
    assert doc["counts"]["tickets"] == 0 and doc["counts"]["customers"] > 0
    assert doc["first_ticket"] is None


def test_opened_mostly_on_working_days(cli) -> None:
    from deskctl.store.models import Ticket

    cli("demo", "--tickets", "400", "--seed", "2")
    weekend = sum(1 for t in _load(Ticket) if not t.parent_id and t.opened_at.weekday() >= 5)
    assert weekend < 0.2 * 400


def _indexes() -> list[tuple[str, str, tuple[str, ...], bool]]:
    from sqlalchemy import inspect

    from deskctl.store import db

    inspector = inspect(db.default_engine())
    return sorted(
        (table, ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
        for table in ("ticket", "ticket_event", "worklog")
        for ix in inspector.get_indexes(table)
    )


def test_large_demo_rebuilds_its_indexes(cli, monkeypatch, store) -> None:
    """Big demos build the ticket indexes after the load; the schema ends up unchanged."""
    from deskctl.services.demo import bulk

    cli("init")
    schema = _indexes()
    assert any(ix[1] == "ix_ticket_status_opened" for ix in schema)
    monkeypatch.setattr(bulk, "BULK_INDEX_TICKETS", 10)
    cli("demo", "--tickets", "60")
    assert _indexes() == schema


def test_failed_load_still_rebuilds_the_indexes(cli, monkeypatch) -> None:
    from deskctl.services import demo
    from deskctl.services.demo import bulk

    cli("init")
    schema = _indexes()
    monkeypatch.setattr(bulk, "BULK_INDEX_TICKETS", 10)
    monkeypatch.setattr(demo, "_write_batch", _failing_write)
    result = cli("demo", "--tickets", "60", code=70)
    assert "internal error: RuntimeError: disk full" in result.stderr
    assert _indexes() == schema


def _failing_write(engine: Any, batch: Any) -> None:
    raise RuntimeError("disk full")


def test_terminal_shows_the_top_of_the_queue_and_the_counts(cli, monkeypatch) -> None:
    from deskctl.render import output

    monkeypatch.setattr(output, "is_terminal", lambda: True)
    out = cli("demo", "--tickets", "400", "--seed", "6").stdout
    in_progress = (
        sqlite3.connect(_db_path())
        .execute("SELECT COUNT(*) FROM ticket WHERE status = 'in_progress'")
        .fetchone()[0]
    )
    assert f"in_progress ({in_progress}" in out  # the queue groups open tickets by status
    assert "closed (" not in out
    assert "tickets" in out and "400" in out


def test_demo_rows_follow_the_columns_derived_from_the_tables(cli, monkeypatch) -> None:
    """The bulk writer's column lists come from the tables; every row the maker makes has
    one value per column, in the table's order (a kind lands in ``kind``, a seq in ``seq``)."""
    from deskctl.domain import events
    from deskctl.services import demo
    from deskctl.services.demo import bulk
    from deskctl.store.models import SQLModel

    seen: list[Any] = []

    def checking_write(engine: Any, batch: Any) -> None:
        seen.append(batch)
        bulk._write_batch(engine, batch)

    monkeypatch.setattr(demo, "_write_batch", checking_write)
    cli("demo", "--tickets", "40")
    ticket, event = bulk.table_columns("ticket"), bulk.table_columns("ticket_event")
    left = set(SQLModel.metadata.tables["ticket"].columns.keys()) - set(ticket)
    assert left == set(bulk.LEFT_TO_DEFAULTS["ticket"])
    kinds = {v for k, v in vars(events).items() if k.isupper() and isinstance(v, str)}
    for batch in seen:
        assert {len(row) for row in batch.tickets} == {len(ticket)}
        assert {len(row) for row in batch.events} == {len(event)}
        assert {row[event.index("kind")] for row in batch.events} <= kinds
        assert all(isinstance(row[event.index("seq")], int) for row in batch.events)


@pytest.mark.pg
def test_postgresql_demo_leaves_its_ticket_table_vacuumed(cli, pg_url) -> None:
    """Reports read covering indexes of the ticket table; on PostgreSQL an index-only
    scan also reads the heap for every page the visibility map does not mark, as after
    the comeback links' UPDATE until autovacuum comes round -- the 1M overview took
    18 s instead of 3.3 s. The demo vacuums what it loaded."""
    from sqlalchemy import text

    from deskctl.store import db

    cli("demo", "--tickets", "300")
    with db.default_engine().connect() as conn:
        pages, visible = conn.execute(
            text("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'ticket'")
        ).one()
    assert pages > 0
    assert visible == pages


@pytest.mark.parametrize("bulk_load", [False, True])
def test_a_large_demo_builds_every_index_of_the_schema_again(
    cli, store: str, tmp_path, monkeypatch: pytest.MonkeyPatch, bulk_load: bool
) -> None:
    """A large load drops the ticket, event, fact and work-log indexes and builds them
    once at the end (on either backend), and on PostgreSQL takes off their foreign keys
    and the trust triggers until then: the store ends with the schema's indexes, each
    as the migrations define it, its constraints and triggers, and the links the rule
    gives."""

    from deskctl.services.demo import bulk
    from deskctl.store import comebacks, db

    if store == "sqlite":
        monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "demo.db"))
    if bulk_load:
        monkeypatch.setattr(bulk, "BULK_INDEX_TICKETS", 50)
    engine = db.default_engine()
    db.upgrade(engine)
    listing = {
        "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name",
        "postgresql": "SELECT indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = current_schema() ORDER BY indexname",
    }[store]
    with engine.connect() as conn:
        schema = _schema_objects(conn, listing)
    cli("demo", "--tickets", "300")
    with engine.connect() as conn:
        assert _schema_objects(conn, listing) == schema
    with db.session(db.ready_engine(), write=True) as s:
        assert comebacks.missing(s) == 0
        assert comebacks.fill(s) == 0


# PostgreSQL: every constraint as defined (and validated), every trigger and whether it fires
_PG_CHECKS = (
    "SELECT r.relname, c.conname, pg_get_constraintdef(c.oid), c.convalidated"
    " FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid"
    " WHERE r.relnamespace = current_schema()::regnamespace ORDER BY 1, 2",
    "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger"
    " WHERE NOT tgisinternal ORDER BY 1, 2",
)


def _schema_objects(conn: Any, listing: str) -> list[Any]:
    from sqlalchemy import text

    statements = [listing, *(_PG_CHECKS if conn.dialect.name == "postgresql" else ())]
    return [conn.execute(text(q)).all() for q in statements]



@pytest.mark.pg
def test_a_large_postgresql_load_still_checks_its_foreign_keys(
    cli, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The foreign keys taken off for a large load are checked when they are added back:
    a row pointing at no ticket fails the whole load (an internal error: the demo made
    it), which leaves no ticket."""
    from sqlalchemy import text

    from deskctl.services import demo
    from deskctl.services.demo import bulk
    from deskctl.store import db

    monkeypatch.setattr(bulk, "BULK_INDEX_TICKETS", 50)
    write = demo._write_batch

    def astray(load: Any, batch: Any) -> None:
        batch.events[0] = (10**9, *batch.events[0][1:])  # an event of no ticket
        write(load, batch)

    monkeypatch.setattr(demo, "_write_batch", astray)
    failed = cli("demo", "--tickets", "300", code=70)  # the demo's own rows: a bug
    assert "ticket_event_ticket_id_fkey" in failed.stderr
    with db.default_engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ticket")).scalar() == 0
