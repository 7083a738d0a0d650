"""SLA in the store: migration 0006, the period report on SQLite and PostgreSQL, and the
stored per-metric snapshot that lets the report skip replaying histories."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cli.test_flow import seeded
from tests.cli.test_sla_cli import OPENED
from tests.conftest import EXAMPLES
from tests.factory import open_ticket, seed_medisoft

# -- migration -------------------------------------------------------------------------------


def test_migration_0010_replaces_the_snapshot_with_facts(store) -> None:
    from sqlalchemy import inspect

    from deskctl.config import database_url
    from deskctl.store import db

    engine = db.get_engine(database_url())
    db.upgrade(engine, "0009")
    assert "sla_clocks" in {c["name"] for c in inspect(engine).get_columns("ticket")}
    before, after = db.upgrade(engine)
    assert (before, after) == ("0009", db.SCHEMA_HEAD)
    inspector = inspect(engine)
    columns = {c["name"] for c in inspector.get_columns("ticket")}
    assert "sla_clocks" not in columns and {"sla_computed_at", "sla_stale_at"} <= columns
    assert {"state", "due_at", "risk_at", "opened_at", "customer_id"} <= {
        c["name"] for c in inspector.get_columns("sla_fact")
    }
    # the tallies' partial indexes (0011) replace 0010's fact index
    fact_indexes = {i["name"] for i in inspector.get_indexes("sla_fact")}
    assert {"ix_sla_fact_settled", "ix_sla_fact_running", "ix_sla_fact_breached"} <= fact_indexes
    assert "ix_sla_fact_cohort" not in fact_indexes
    ticket_indexes = {i["name"] for i in inspector.get_indexes("ticket")}
    assert {"ix_ticket_sla_cohort", "ix_ticket_sla_settled", "ix_ticket_sla_running"} <= (
        ticket_indexes
    )
    # the period index the report's range scan relies on (migration 0004)
    assert "ix_ticket_opened_at" in {i["name"] for i in inspector.get_indexes("ticket")}


# -- report ----------------------------------------------------------------------------------

NOW = "2026-03-09T15:00:00-03:00"  # Monday afternoon in São Paulo


def _second_customer(cli) -> dict[str, str]:
    cli("customer", "add", "lab", "--name", "Laboratório Sul", "--country", "BR")
    cli("contact", "add", "lab", "rui@lab.example", "--name", "Rui", "--named")
    cli("contract", "add", "lab", "--plan", "maintenance", "--start", "2026-01-01",
        "--product", "pacs")  # fmt: skip
    return {"customer": "lab", "contact": "rui@lab.example", "product": "pacs"}


@pytest.fixture
def period(cli, tmp_path_factory, monkeypatch) -> dict[str, int]:
    """Medisoft tickets of early March 2026 with known outcomes at NOW."""
    hosp = seeded(cli, seed_medisoft, tmp_path_factory, monkeypatch)
    lab = _second_customer(cli)
    ids = {}

    def ticket(name: str, seed: dict[str, str], at: str, severity: str | None = None) -> None:
        ids[name] = open_ticket(cli, seed, name, at=at)
        if severity:
            cli("ticket", "triage", ids[name], "--severity", severity, "--at", at)

    ticket("met", hosp, OPENED, "high")  # due Fri 16:30
    cli("ticket", "respond", ids["met"], "--at", "2026-03-06T11:00:00-03:00")
    ticket("breached", hosp, OPENED, "high")
    cli("ticket", "respond", ids["breached"], "--at", "2026-03-09T09:00:00-03:00")
    ticket("overdue", lab, OPENED, "high")  # unanswered: running past its limit
    ticket("running", lab, "2026-03-09T09:00:00-03:00", "medium")
    ticket("pending", hosp, "2026-03-09T10:00:00-03:00")  # not triaged
    ticket("outside", hosp, "2026-02-27T10:00:00-03:00", "high")  # opened in February
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    return ids


def _report(cli, *extra: str, code: int = 0) -> dict[str, Any]:
    result = cli("sla", "report", "--from", "2026-03-01", "--to", "2026-03-31", "--json", *extra,
                 code=code)  # fmt: skip
    return json.loads(result.stdout)


def test_report_counts_filters_and_fail_on_breach(cli, store, period) -> None:
    doc = _report(cli)
    states = {t["id"]: t["state"] for t in doc["tickets"]}
    assert states == {
        period["met"]: "met",
        period["breached"]: "breached",
        period["overdue"]: "breached",
        period["running"]: "running",
        period["pending"]: "pending",
    }
    response = doc["totals"]["metrics"]["response"]
    assert doc["totals"]["tickets"] == 5 and doc["breached_tickets"] == 2
    assert {k: response[k] for k in ("met", "late", "breached", "running", "pending")} == {
        "met": 1, "late": 0, "breached": 2, "running": 1, "pending": 1,
    }  # fmt: skip
    assert response["judged"] == 3
    assert response["compliance_pct"] == pytest.approx(33.33)
    by_sev = {g["severity"]: g for g in doc["by_severity"]}
    assert [g["severity"] for g in doc["by_severity"]] == ["high", "medium", None]
    assert by_sev["high"]["tickets"] == 3
    assert by_sev["high"]["metrics"]["response"]["breached"] == 2
    assert by_sev["medium"]["metrics"]["response"]["compliance_pct"] is None  # nothing judged
    by_customer = {g["customer"]: g for g in doc["by_customer"]}
    assert by_customer["hosp"]["tickets"] == 3 and by_customer["lab"]["tickets"] == 2
    assert by_customer["hosp"]["metrics"]["response"]["compliance_pct"] == 50.0
    overdue = next(t for t in doc["tickets"] if t["id"] == period["overdue"])
    assert overdue["metrics"]["response"] == {"state": "breached", "due_at": "2026-03-06T19:30:00Z"}

    # filters and the exit code
    only = _report(cli, "--breached-only", "--fail-on-breach", code=1)
    assert sorted(t["id"] for t in only["tickets"]) == sorted(
        [period["breached"], period["overdue"]]
    )
    assert only["totals"]["tickets"] == 5  # totals still cover the period
    lab = _report(cli, "--customer", "lab")
    assert {t["id"] for t in lab["tickets"]} == {period["overdue"], period["running"]}
    medium = _report(cli, "--severity", "medium", "--fail-on-breach")  # no breach: exit 0
    assert [t["id"] for t in medium["tickets"]] == [period["running"]]
    failed = cli("sla", "report", "--from", "2026-03-01", "--to", "2026-03-31",
                 "--fail-on-breach", code=1)  # fmt: skip
    assert "breached" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert "SLA report" in failed.stdout  # the report is printed before failing


def test_report_from_facts_equals_replay(cli, store, period) -> None:
    """Facts that cannot tell (never computed) are replayed: the same report; a
    refresh --all writes them again, and only those."""
    from sqlalchemy import delete, update

    from deskctl.store import db
    from deskctl.store.models import SlaFact, Ticket

    stored = _report(cli)
    # only the clocks still running can have moved: overdue, running, outside
    assert cli.json("sla", "refresh", "--all")["refreshed"] == 3
    with db.session(db.ready_engine(), write=True) as s:
        s.execute(update(Ticket).values(sla_computed_at=None))
        s.execute(delete(SlaFact))
    replayed = _report(cli)
    assert replayed == stored
    assert cli.json("sla", "refresh", "--all")["refreshed"] == 6
    assert _report(cli) == stored
    assert cli.json("sla", "refresh", "--all")["refreshed"] == 3


def test_report_csv_and_html(cli, period, tmp_path: Path) -> None:
    out = tmp_path / "sla.html"
    result = cli("sla", "report", "--from", "2026-03-01", "--to", "2026-03-31", "--csv",
                 "--html", str(out))  # fmt: skip
    lines = result.stdout.splitlines()
    assert lines[0] == "ticket,customer,severity,status,opened_at,metric,state,due_at"
    assert f"{period['overdue']},lab,high,queued,2026-03-05T19:00:00Z,response,breached," \
           "2026-03-06T19:30:00Z" in lines  # fmt: skip
    assert len(lines) == 1 + 5
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "@page" in page
    assert "http" not in page and "<script" not in page and "<link" not in page
    assert "Laboratório Sul" in page and ">lab<" not in page  # customers by name
    assert page.count("state-breached") >= 2


@pytest.mark.parametrize(
    "args, code",
    [
        (["--from", "2026-03-31", "--to", "2026-03-01"], 2),
        (["--from", "March", "--to", "2026-03-31"], 2),
        (["--from", "2026-03-01", "--to", "2026-03-31", "--customer", "nobody"], 3),
        (["--from", "2026-03-01", "--to", "2026-03-31", "--html", "/no/such/dir/x.html"], 2),
        (["--from", "2026-03-01", "--to", "2026-03-31", "--json", "--csv"], 2),
    ],
)
def test_report_bad_input(cli, tmp_path_factory, monkeypatch, args, code) -> None:
    seeded(cli, seed_medisoft, tmp_path_factory, monkeypatch)
    result = cli("sla", "report", *args, code=code)
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1


def test_refresh_leaves_rows_changed_meanwhile(cli, period, monkeypatch) -> None:
    """A refresh never overwrites the columns a concurrent change has just written."""
    from sqlalchemy import select, update

    from deskctl import clock
    from deskctl.services import sla
    from deskctl.store import db
    from deskctl.store.models import Ticket

    original = sla.events_by_ticket

    def racing(session: Any, ids: Any) -> Any:
        # another agent's change lands between the refresh's read and its write
        session.execute(
            update(Ticket)
            .where(Ticket.id.in_(list(ids)))
            .values(rev=Ticket.rev + 1, sla_state="fresh")
        )
        return original(session, ids)

    monkeypatch.setattr(sla, "events_by_ticket", racing)
    with db.session(db.ready_engine(), write=True) as s:
        assert sla.refresh(s, clock.now(), ids=[period["overdue"], period["running"]]) == 0
        states = s.execute(select(Ticket.sla_state).where(Ticket.id == period["overdue"])).all()
    assert states == [("fresh",)]
    monkeypatch.setattr(sla, "events_by_ticket", original)
    with db.session(db.ready_engine(), write=True) as s:
        assert sla.refresh(s, clock.now(), ids=[period["overdue"], period["running"]]) == 2


# -- the snapshot predicts the replay --------------------------------------------------------

_POLICIES: dict[str, Any] = {}


def _policy(name: str) -> Any:
    if name not in _POLICIES:
        from deskctl.domain.policy_file import parse_policy

        text = (EXAMPLES / f"{name}.toml").read_text(encoding="utf-8")
        _POLICIES[name] = parse_policy(text, source=f"{name}.toml")
    return _POLICIES[name]


_STEPS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40 * 60),  # minutes since the previous event
        st.sampled_from(
            [
                "wait_customer",
                "forward",
                "resume",
                "respond",
                "triage",
                "report_req",
                "report_done",
                "comment",
                "complete",
            ]
        ),
        st.integers(min_value=0, max_value=2),  # severity, most severe first
    ),
    max_size=8,
)


def _history(
    policy: Any, plan: str, steps: list[tuple[int, str, int]], severity: int | None = None
) -> tuple[list[Any], datetime]:
    """OPENED (triaged at once when ``severity`` is given), then ``steps``."""
    from deskctl.domain import events as ev
    from deskctl.domain.events import Event

    at = datetime(2026, 3, 6, 21, 0, tzinfo=UTC)  # Friday 16:00 in Bogotá
    out = [Event(1, at, ev.OPENED, to_status="draft", data={"plan": plan})]
    if severity is not None:
        out.append(Event(2, at, ev.TRIAGED, data={"severity": policy.severities.order[severity]}))
    status = "draft"
    for minutes, kind, sev in steps:
        at += timedelta(minutes=minutes)
        seq = len(out) + 1
        moves = {
            "wait_customer": ("awaiting_customer", ev.WAITING),
            "forward": ("forwarded", ev.FORWARDED),
            "resume": ("in_progress", ev.RESUMED),
        }
        if kind in moves:
            target, k = moves[kind]
            out.append(Event(seq, at, k, from_status=status, to_status=target))
            status = target
            continue
        kinds = {"respond": ev.RESPONDED, "report_req": ev.REPORT_REQUESTED,
                 "report_done": ev.REPORT_DELIVERED, "comment": ev.COMMENTED,
                 "complete": ev.INFO_COMPLETE}  # fmt: skip
        if kind == "triage":
            severity = policy.severities.order[sev]
            out.append(Event(seq, at, ev.TRIAGED, data={"severity": severity}))
        else:
            out.append(Event(seq, at, kinds[kind]))
    return out, at


@settings(max_examples=150, deadline=None)
@given(
    policy_plan=st.sampled_from(
        [("imexhs", "8x5"), ("imexhs", "24x7"), ("medisoft", "maintenance")]
    ),
    steps=_STEPS,
    computed=st.integers(min_value=-30 * 60, max_value=3 * 24 * 60),
    later=st.integers(min_value=0, max_value=5 * 24 * 60),
    severity=st.none() | st.integers(min_value=0, max_value=2),
    data=st.data(),
)
def test_fact_states_match_a_replay(
    policy_plan, steps, computed, later, severity, data
) -> None:
    """Single targets (Medisoft) turn at_risk between changes; ranges (IMEXHS) go late
    first; pauses, late completion, stale facts (computed before the last events)."""
    from deskctl.domain import sla_facts as sla

    policy = _policy(policy_plan[0])
    events, last = _history(policy, policy_plan[1], steps, severity)
    t0 = last + timedelta(minutes=computed)  # may fall before the last events: stale
    derived = sla.derive(policy, events, t0)
    stale = derived.columns["sla_stale_at"]
    # a random later instant, or one second around a predicted turn (at risk, goal, limit)
    turns = [
        at + timedelta(seconds=delta)
        for f in derived.facts
        if f.running
        for at in (f.risk_at, f.goal_at, f.due_at)
        if at is not None
        for delta in (-1, 0, 1)
    ]
    choices = [t0 + timedelta(minutes=later, seconds=later % 7)] + [t for t in turns if t >= t0]
    t1 = data.draw(st.sampled_from(choices))
    replay = sla.owed(sla.ticket_clocks(policy, events, t1).clocks, policy)
    if not sla.can_tell(derived.columns["sla_computed_at"], stale, t1):
        assert stale is not None and t1 >= stale
        return
    assert {f.metric: sla.state_at(f, t1) for f in derived.facts} == {
        m: c.state for m, c in replay.items()
    }
    # the ticket's worst state, read off its row alone
    assert sla.ticket_state_at(derived.columns, t1) == sla.summary_state(replay)


def test_stored_facts_give_the_replayed_states_at_later_instants(store, period) -> None:
    """Facts written by the CLI's moves, read back from SQLite or PostgreSQL: the SQL
    CASE (cohort counts) and the Python rule give every state a replay gives, at
    instants across days and one second around each turn (at risk, goal, limit)."""
    from collections import Counter

    from sqlalchemy import select

    from deskctl.domain import sla_facts
    from deskctl.services import cohort, policies
    from deskctl.store import db
    from deskctl.store.models import SlaFact, Ticket

    with db.session(db.ready_engine()) as s:
        tickets = list(s.execute(select(Ticket)).scalars())
        stored = list(s.execute(select(SlaFact)).scalars())
        histories = cohort.events_by_ticket(s, [t.id for t in tickets])
        policy = {t.id: policies.by_version_id(s, t.policy_version_id)[1] for t in tickets}
        start = max(t.sla_computed_at for t in tickets)
        turns = [
            at + timedelta(seconds=d)
            for f in stored
            for at in (f.risk_at, f.goal_at, f.due_at)
            if f.running and at is not None and at >= start
            for d in (-1, 0, 1)
        ]
        instants = [start + timedelta(minutes=m) for m in range(0, 6 * 24 * 60, 317)] + turns
        assert len(turns) >= 6
        flt = cohort.Filter(
            min(t.opened_at for t in tickets), max(t.opened_at for t in tickets) + timedelta(1)
        )
        for at in instants:
            replay = {
                t.id: sla_facts.owed(
                    sla_facts.ticket_clocks(policy[t.id], histories[t.id], at).clocks,
                    policy[t.id],
                )
                for t in tickets
            }
            for f in stored:
                fact = sla_facts.Fact(
                    **{k: getattr(f, k) for k in sla_facts.Fact.__dataclass_fields__}
                )
                assert sla_facts.state_at(fact, at) == replay[f.ticket_id][f.metric].state
            got = cohort.compute(s, flt, at)
            assert got.replayed == []
            assert Counter({k: n for k, n in got.metrics.items()}) == Counter(
                (t.severity, t.customer_id, m, c.state)
                for t in tickets
                for m, c in replay[t.id].items()
            ), at
            worst = Counter(k[4] for k, n in got.tickets.items() for _ in range(n))
            assert worst == Counter(sla_facts.summary_state(replay[t.id]) for t in tickets), at


def test_a_refresh_that_dies_half_way_writes_nothing(cli, store, period, monkeypatch) -> None:
    """One transaction for the whole refresh: a crash after some batches leaves the
    earlier columns and facts as they were; the next refresh does all of it."""
    from sqlalchemy import select, update

    from deskctl import clock
    from deskctl.services import sla
    from deskctl.store import db
    from deskctl.store.models import SlaFact, Ticket

    def snapshot() -> tuple[list, list]:
        with db.session(db.ready_engine()) as s:
            rows = s.execute(select(Ticket.id, Ticket.sla_computed_at).order_by(Ticket.id))
            facts = s.execute(select(SlaFact.ticket_id, SlaFact.metric, SlaFact.computed_at))
            return list(rows), sorted(facts)

    with db.session(db.ready_engine(), write=True) as s:  # every row needs its facts again
        s.execute(update(Ticket).values(sla_computed_at=None))
    before = snapshot()
    original = sla.events_by_ticket
    calls = []

    def dying(session, ids):
        calls.append(ids)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed after the first batch was written
        return original(session, ids)

    monkeypatch.setattr(sla, "events_by_ticket", dying)
    with pytest.raises(KeyboardInterrupt), db.session(db.ready_engine(), write=True) as s:
        sla.refresh(s, clock.now(), every=True, batch=2)
    assert snapshot() == before
    monkeypatch.setattr(sla, "events_by_ticket", original)
    with db.session(db.ready_engine(), write=True) as s:
        assert sla.refresh(s, clock.now(), every=True, batch=2) == 6
    rows, facts = snapshot()
    assert all(at is not None for _, at in rows) and len(facts) >= 6


def test_facts_written_through_the_dbapi_are_the_orms(store, period) -> None:
    """A move that writes without SQLAlchemy (store.facts_dbapi) stores the same rows."""
    from sqlalchemy import select

    from deskctl.domain import sla_facts
    from deskctl.services import cohort, policies
    from deskctl.store import db, dbapi, facts_dbapi
    from deskctl.store.models import SlaFact, Ticket

    def rows() -> list[dict]:
        with db.session(db.ready_engine()) as s:
            found = s.execute(select(SlaFact).order_by(SlaFact.ticket_id, SlaFact.metric))
            return [f.model_dump() for f in found.scalars()]

    before = rows()
    with db.session(db.ready_engine()) as s:
        tickets = list(s.execute(select(Ticket)).scalars())
        histories = cohort.events_by_ticket(s, [t.id for t in tickets])
        derived = {
            t.id: sla_facts.derive(
                policies.by_version_id(s, t.policy_version_id)[1],
                histories[t.id],
                t.sla_computed_at,
            )
            for t in tickets
        }
    with dbapi.write() as w:
        for t in tickets:
            d = derived[t.id]
            keys = {k: getattr(t, k) for k in facts_dbapi.TICKET_KEYS}
            stale = d.columns["sla_stale_at"]
            new = facts_dbapi.fact_rows(t.id, keys, d.facts, t.sla_computed_at, stale)
            facts_dbapi.replace(w, t.id, new)
    assert len(before) >= 6 and rows() == before
