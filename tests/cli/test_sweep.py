"""`deskctl sweep`: the IMEXHS closure protocol end to end, SLA notices, dry runs, cron exits.

Helpers here (``prepare``, ``resolve``, ``sweep_at``...) are shared by the other sweep
test files.
"""

from __future__ import annotations

import json
import mailbox
import os
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import EXAMPLES
from tests.factory import open_ticket, seed_imexhs, seed_medisoft

BOGOTA = ZoneInfo("America/Bogota")


def bog(text: str) -> datetime:
    """A Bogotá wall-clock time ("2026-03-09 10:00") as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=BOGOTA).astimezone(UTC)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def z(text: str) -> str:
    """A Bogotá wall-clock time as the JSON contract writes it."""
    return bog(text).isoformat().replace("+00:00", "Z")


def add_agents(cli: Any) -> None:
    """A manager (the store's first agent) and an engineer, both with e-mail addresses."""
    cli("agent", "add", "boss", "--role", "manager", "--email", "boss@vendor.example")
    cli("agent", "add", "alice", "--name", "Alice Rojas", "--email", "alice@vendor.example",
        env={"DESKCTL_USER": "boss"})


_TEMPLATES: dict[str, tuple[Path, dict[str, str]]] = {}


def prepare(cli: Any, plan: str = "8x5") -> dict[str, str]:
    """IMEXHS store with agents, seeded through the CLI once per process, then copied."""
    target = os.environ["DESKCTL_DB"]
    if plan in _TEMPLATES and "://" not in target:
        template, seed = _TEMPLATES[plan]
        _copy_sqlite(template, Path(target))
        return dict(seed)
    seed = seed_imexhs(cli, plan)
    add_agents(cli)
    if "://" not in target:
        template = Path(tempfile.mkdtemp(prefix="deskctl-tpl-")) / f"{plan}.db"
        _copy_sqlite(Path(target), template)
        _TEMPLATES[plan] = (template, dict(seed))
    return seed


def _copy_sqlite(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def engine() -> Any:
    from deskctl.store import db

    return db.ready_engine()


def resolve(
    ticket_id: int,
    at: datetime,
    *,
    assignee: str | None = "alice",
    severity: str = "2",
    solution: str = "Restarted the DICOM router",
) -> None:
    """Triage, assign, start and resolve through the services (enters the protocol)."""
    from deskctl.domain import lifecycle
    from deskctl.services import tickets
    from deskctl.store import db

    with db.session(engine(), write=True) as s:
        ticket, history, state = tickets.current(s, ticket_id)
        policy = tickets.policy_of(s, ticket)
        new: list[Any] = []

        def add(event: Any) -> None:
            nonlocal state
            new.extend(event if isinstance(event, list) else [event])
            state = lifecycle.project([*history, *new])

        if state.status == "draft":
            add(
                lifecycle.plan_triage(
                    state,
                    now=at,
                    actor="tester",
                    scheme=policy.severities,
                    category="defect",
                    severity=severity,
                )
            )
        if assignee and state.assignee != assignee:
            add(lifecycle.plan_assign(state, now=at, actor="tester", assignee=assignee))
        if state.status == "queued":
            add(lifecycle.plan_start(state, now=at, actor="tester"))
        if state.responded_at is None:  # the response met: no SLA notice gets in the way
            add(lifecycle.plan_respond(state, now=at, actor="tester"))
        add(lifecycle.plan_resolve(state, now=at, actor="tester", solution=solution))
        tickets.apply(s, ticket, history, new, now=at, policy=policy)


def new_verifying(cli: Any, seed: dict[str, str], resolved: datetime, **kw: Any) -> int:
    ticket_id = open_ticket(cli, seed, "PACS viewer hangs", at=resolved.isoformat())
    resolve(ticket_id, resolved, **kw)
    return ticket_id


def sweep_at(cli: Any, monkeypatch: pytest.MonkeyPatch, at: datetime, *args: str) -> dict:
    monkeypatch.setenv("DESKCTL_NOW", at.isoformat())
    return cli.json("sweep", *args)


def steps_of(actions: list[dict], ticket_id: int | None = None) -> list[tuple[str, str]]:
    """(action, at) of the closure-protocol actions (of one ticket)."""
    return [
        (a["action"], a["at"])
        for a in actions
        if a["key"].startswith("protocol:") and ticket_id in (None, a["ticket"])
    ]


def ticket_doc(cli: Any, ticket_id: int) -> dict:
    return cli.json("ticket", "show", str(ticket_id))


def history(ticket_id: int) -> list[Any]:
    from deskctl.services import tickets
    from deskctl.store import db

    with db.session(engine()) as s:
        return tickets.load_events(s, ticket_id)


def table(name: str) -> list[dict]:
    from sqlalchemy import text

    from deskctl.store import db

    with db.session(engine()) as s:
        return [dict(r._mapping) for r in s.execute(text(f"SELECT * FROM {name} ORDER BY id"))]


# IMEXHS 8x5 (Mon-Fri 08:00-18:00 Bogotá): resolved Monday 10:00.
MONDAY_10 = "2026-03-09 10:00"
SCHEDULE = [
    ("contact", "2026-03-09 10:00"),  # T+0
    ("call", "2026-03-09 13:00"),  # T+3h
    ("call", "2026-03-09 16:00"),  # T+6h
    ("call", "2026-03-10 09:00"),  # T+9h: 8 h on Monday, 1 h on Tuesday
    ("email", "2026-03-10 09:00"),  # T+9h
    ("email", "2026-03-11 11:00"),  # T+21h
    ("close", "2026-03-12 13:00"),  # T+33h
]


def test_protocol_runs_step_by_step_at_the_scheduled_times(cli, monkeypatch) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    expected = [(action, z(at)) for action, at in SCHEDULE]

    first = sweep_at(cli, monkeypatch, bog("2026-03-09 10:00"))
    assert steps_of(first["actions"]) == expected[:1]
    assert first["actions"][0]["ticket"] == tid
    assert steps_of(sweep_at(cli, monkeypatch, bog("2026-03-09 12:59"))["actions"]) == []
    assert steps_of(sweep_at(cli, monkeypatch, bog("2026-03-09 17:00"))["actions"]) == expected[1:3]
    # evening and night: nothing falls due on the business clock
    assert steps_of(sweep_at(cli, monkeypatch, bog("2026-03-10 07:59"))["actions"]) == []
    assert steps_of(sweep_at(cli, monkeypatch, bog("2026-03-10 09:00"))["actions"]) == expected[3:5]
    assert steps_of(sweep_at(cli, monkeypatch, bog("2026-03-12 12:59"))["actions"]) == expected[5:6]
    assert ticket_doc(cli, tid)["status"] == "awaiting_verification"
    assert steps_of(sweep_at(cli, monkeypatch, bog("2026-03-12 13:00"))["actions"]) == expected[6:]

    doc = ticket_doc(cli, tid)
    assert (doc["status"], doc["outcome"]) == ("closed", "accepted")
    assert doc["closed_at"] == z("2026-03-12 13:00")
    assert steps_of(sweep_at(cli, monkeypatch, bog("2026-03-20 10:00"))["actions"]) == []


def test_a_week_of_downtime_catches_up_in_order_with_scheduled_times(cli, monkeypatch) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    doc = sweep_at(cli, monkeypatch, bog("2026-03-16 09:30"))
    assert steps_of(doc["actions"]) == [(a, z(t)) for a, t in SCHEDULE]

    events = [e for e in history(tid) if e.kind in ("protocol_step", "closed")]
    assert [e.at for e in events if e.kind == "protocol_step"] == [bog(t) for _, t in SCHEDULE]
    assert [e.data["key"] for e in events if e.kind == "protocol_step"] == [
        f"protocol:{tid}:1:{i}" for i in range(7)
    ]
    closing = events[-1]
    assert closing.kind == "closed" and closing.at == bog("2026-03-12 13:00")
    assert closing.data["outcome"] == "accepted"
    steps = {r["key"] for r in table("sweep_step") if r["key"].startswith("protocol:")}
    assert steps == {f"protocol:{tid}:1:{i}" for i in range(7)}


def test_wall_clock_protocol_and_24x7_plan(cli, monkeypatch) -> None:
    seed = prepare(cli, plan="24x7")
    tid = new_verifying(cli, seed, bog("2026-03-07 22:00"))  # a Saturday night
    doc = sweep_at(cli, monkeypatch, bog("2026-03-09 08:00"))
    # the "always" calendar runs every hour: T+33h is Monday 07:00
    assert steps_of(doc["actions"], tid)[-1] == ("close", z("2026-03-09 07:00"))


def test_reminders_go_to_the_engineer_or_to_support(cli, monkeypatch) -> None:
    seed = prepare(cli)
    mine = new_verifying(cli, seed, bog(MONDAY_10))
    nobody = new_verifying(cli, seed, bog(MONDAY_10), assignee=None)
    sweep_at(cli, monkeypatch, bog("2026-03-09 16:30"))
    rows = [r for r in table("notification") if r["kind"].startswith("protocol_")]
    assert {(r["ticket_id"], r["recipient"], r["kind"]) for r in rows} == {
        (mine, "alice", "protocol_contact"),
        (mine, "alice", "protocol_call"),
        (nobody, "support", "protocol_contact"),
        (nobody, "support", "protocol_call"),
    }
    assert len(rows) == 6
    call = next(r for r in rows if r["ticket_id"] == mine and r["kind"] == "protocol_call")
    assert "luis@clinic.example" in call["message"] and f"#{mine}" in call["message"]


def test_agenda_emails_go_to_the_contact_maildir_without_smtp(cli, monkeypatch, isolated) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    # another ticket of alice's has protocol calls on Tuesday 12:00 and 15:00
    new_verifying(cli, seed, bog("2026-03-10 09:00"))
    sweep_at(cli, monkeypatch, bog("2026-03-10 09:05"))

    import email
    import email.policy

    box = mailbox.Maildir(str(isolated / "deskctl-data" / "outbox"), create=False)
    parsed = [email.message_from_bytes(box.get_bytes(k), policy=email.policy.default)
              for k in box.iterkeys()]
    messages = [m for m in parsed if m["X-Deskctl-Ticket"] == str(tid)]
    assert len(messages) == 1
    msg = messages[0]
    assert msg["To"] == "luis@clinic.example"
    # in the Colombian contact's language (es-CO), times in Bogotá
    assert str(msg["Subject"]) == f"[#{tid}] Confirme la solución: PACS viewer hangs"
    body = msg.get_body(("plain",)).get_content()
    assert "Restarted the DICOM router" in body
    # free slots from the next quarter hour, less alice's other calls, and none after
    # the automatic close (Thu 12 Mar 13:00)
    assert "mar, 10 de marzo: 09:15-12:00, 12:15-15:00, 15:15-18:00" in body
    assert "mié, 11 de marzo: 08:00-18:00" in body and "jue, 12 de marzo: 08:00-13:00" in body
    assert "13 de marzo" not in body
    assert "12/03/2026 13:00 (America/Bogota -05)" in body  # when it closes as accepted
    rows = [r for r in table("outbox_message") if r["key"].startswith(f"protocol:{tid}:")]
    assert len(rows) == 1 and rows[0]["sent_at"] is not None and rows[0]["attempts"] == 1


def test_dry_run_lists_what_would_happen_and_writes_nothing(cli, monkeypatch) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    before = len(history(tid))
    later = bog("2026-03-16 09:00")
    dry = sweep_at(cli, monkeypatch, later, "--dry-run")
    assert dry["dry_run"] is True
    assert steps_of(dry["actions"]) == [(a, z(t)) for a, t in SCHEDULE]
    assert len(history(tid)) == before
    assert table("sweep_step") == table("notification") == table("outbox_message") == []
    assert ticket_doc(cli, tid)["status"] == "awaiting_verification"
    real = sweep_at(cli, monkeypatch, later)
    assert steps_of(real["actions"]) == steps_of(dry["actions"])


def test_lines_on_stderr_without_json_and_exit_0_when_nothing_is_due(cli, monkeypatch) -> None:
    seed = prepare(cli)
    monkeypatch.setenv("DESKCTL_NOW", bog("2026-03-09 09:00").isoformat())
    quiet = cli("sweep")
    assert quiet.stdout == "" and "nothing due" in quiet.stderr
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    monkeypatch.setenv("DESKCTL_NOW", bog("2026-03-09 13:30").isoformat())
    done = cli("sweep")
    lines = [line for line in done.stderr.splitlines() if f"#{tid}" in line]
    assert lines == [
        f"{z('2026-03-09 10:00')} #{tid} contact: reminder for alice",
        f"{z('2026-03-09 13:00')} #{tid} call: reminder for alice",
    ]
    assert done.stdout == ""


def test_limit_bounds_the_tickets_of_one_run(cli, monkeypatch) -> None:
    seed = prepare(cli)
    first = new_verifying(cli, seed, bog(MONDAY_10))
    second = new_verifying(cli, seed, bog(MONDAY_10))
    one = sweep_at(cli, monkeypatch, bog("2026-03-09 10:30"), "--limit", "1")
    assert {a["ticket"] for a in one["actions"]} == {first}
    rest = sweep_at(cli, monkeypatch, bog("2026-03-09 10:30"), "--limit", "1")
    assert {a["ticket"] for a in rest["actions"]} == {second}
    bad = cli("sweep", "--limit", "0", code=2)
    assert bad.stderr.strip() == "deskctl: --limit must be 1 or more"


def test_store_unavailable_exits_5_with_one_line(cli, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_DB", "postgresql://nobody@127.0.0.1:1/none")
    result = cli("sweep", code=5)
    assert result.stderr.startswith("deskctl: store unavailable")
    assert len(result.stderr.strip().splitlines()) == 1


def split_child(cli: Any, seed: dict[str, str], folder: Path) -> tuple[int, int]:
    """A parent split into one sub-ticket (through the services); (parent, child)."""
    from deskctl.domain import lifecycle
    from deskctl.services import tickets
    from deskctl.store import db

    opened = bog("2026-03-09 08:00")
    parent = open_ticket(cli, seed, "Two problems", at=opened.isoformat())
    with db.session(engine(), write=True) as s:
        fields = {"product": "imexhs-ris", "version": "4.1", "description": "one"}
        request = tickets.OpenRequest(
            customer="clinic",
            contact=seed["contact"],
            title="Problem one",
            fields=fields,
            parent_id=parent,
        )
        child = tickets.open_ticket(s, request, now=opened, actor="t").id
        row, hist, state = tickets.current(s, parent)
        policy = tickets.policy_of(s, row)
        triaged = lifecycle.plan_triage(
            state, now=opened, actor="t", scheme=policy.severities, category="defect", severity="2"
        )
        state = lifecycle.project([*hist, *triaged])
        split = lifecycle.plan_split(state, [child], now=opened, actor="t")
        tickets.apply(s, row, hist, [*triaged, *split], now=opened, policy=policy)
    return parent, int(child)


def test_a_sub_ticket_closed_by_the_protocol_resumes_its_parent(cli, monkeypatch, isolated) -> None:
    seed = prepare(cli)
    parent, child = split_child(cli, seed, isolated / "att")
    resolve(child, bog(MONDAY_10))
    assert ticket_doc(cli, parent)["status"] == "awaiting_subticket"

    sweep_at(cli, monkeypatch, bog("2026-03-13 09:00"))
    assert ticket_doc(cli, child)["outcome"] == "accepted"
    parent_events = history(parent)
    assert [e.kind for e in parent_events[-2:]] == ["child_closed", "resumed"]
    assert parent_events[-1].at == bog("2026-03-12 13:00")
    assert ticket_doc(cli, parent)["status"] == "in_progress"


def set_sla_column(ticket_id: int, state: str, due: datetime) -> None:
    """What the SLA service keeps up to date; set by hand so this test needs only the sweep."""
    from sqlalchemy import update

    from deskctl.store import db
    from deskctl.store.models import Ticket

    with db.session(engine(), write=True) as s:
        s.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(sla_state=state, sla_due_at=due)
        )


def triage_only(ticket_id: int, at: datetime, severity: str, assignee: str = "alice") -> None:
    from deskctl.domain import lifecycle
    from deskctl.services import tickets
    from deskctl.store import db

    with db.session(engine(), write=True) as s:
        row, hist, state = tickets.current(s, ticket_id)
        policy = tickets.policy_of(s, row)
        new = lifecycle.plan_triage(
            state, now=at, actor="t", scheme=policy.severities, category="defect", severity=severity
        )
        state = lifecycle.project([*hist, *new])
        new.append(lifecycle.plan_assign(state, now=at, actor="t", assignee=assignee))
        tickets.apply(s, row, hist, new, now=at, policy=policy)


def test_breach_notice_waits_for_business_hours_and_is_sent_once(cli, monkeypatch) -> None:
    seed = prepare(cli)
    # severity 1: response within 5-9 business hours; opened 09:00 -> limit at the 18:00 close
    tid = open_ticket(cli, seed, "Database down", at=bog("2026-03-09 09:00").isoformat())
    triage_only(tid, bog("2026-03-09 09:00"), "1")
    set_sla_column(tid, "breached", bog("2026-03-09 18:00"))

    night = sweep_at(cli, monkeypatch, bog("2026-03-10 03:00"))
    assert night["actions"] == [] and table("notification") == []

    morning = sweep_at(cli, monkeypatch, bog("2026-03-10 08:20"))
    assert [(a["action"], a["at"]) for a in morning["actions"]] == [
        ("sla_breached", z("2026-03-10 08:00"))
    ]
    assert morning["actions"][0]["key"] == f"sla:{tid}:response:breached"
    assert {(r["recipient"], r["kind"]) for r in table("notification")} == {
        ("alice", "sla_breached"),
        ("boss", "sla_breached"),
    }
    mails = {r["recipient"] for r in table("outbox_message")}
    assert mails == {"alice@vendor.example", "boss@vendor.example"}
    assert sweep_at(cli, monkeypatch, bog("2026-03-10 09:00"))["actions"] == []
    assert len(table("notification")) == 2
    # a new deadline on the row (another metric) is looked at again; the same notice is
    # not repeated
    set_sla_column(tid, "breached", bog("2026-03-10 10:00"))
    assert sweep_at(cli, monkeypatch, bog("2026-03-10 10:30"))["actions"] == []
    seen = [r["key"] for r in table("sweep_step") if r["key"].startswith("sla-seen:")]
    assert seen == [
        f"sla-seen:{tid}:breached:{z('2026-03-09 18:00')}",
        f"sla-seen:{tid}:breached:{z('2026-03-10 10:00')}",
    ]


def test_at_risk_notice_is_dated_when_the_risk_began(cli, monkeypatch) -> None:
    # Medisoft: one 8 h target for "high" (IMEXHS ranges turn "late" before "at risk")
    seed = seed_medisoft(cli)
    add_agents(cli)
    sp = ZoneInfo("America/Sao_Paulo")
    at = lambda text: datetime.fromisoformat(text).replace(tzinfo=sp).astimezone(UTC)  # noqa: E731
    tid = open_ticket(cli, seed, "Worklist slow", at=at("2026-03-09 08:30").isoformat())
    triage_only(tid, at("2026-03-09 08:30"), "high")
    # 7.5 h on Monday (08:30-12:00, 13:30-17:30), the last 30 min on Tuesday: 09:00.
    # At risk once 25 % (2 h) or less is left: from Monday 16:00.
    set_sla_column(tid, "at_risk", at("2026-03-10 09:00"))
    doc = sweep_at(cli, monkeypatch, at("2026-03-09 16:30"))
    assert [(a["action"], a["at"]) for a in doc["actions"]] == [
        ("sla_at_risk", iso(at("2026-03-09 16:00")))
    ]
    assert "1h30m of business time left" in doc["actions"][0]["detail"]
    assert sweep_at(cli, monkeypatch, at("2026-03-09 17:00"))["actions"] == []
    # once breached, the breach is a new notice; the risk is not told again
    set_sla_column(tid, "breached", at("2026-03-10 09:00"))
    later = sweep_at(cli, monkeypatch, at("2026-03-10 10:00"))
    assert [(a["action"], a["at"]) for a in later["actions"]] == [
        ("sla_breached", iso(at("2026-03-10 09:00")))
    ]


def test_closed_and_unplanned_tickets_get_no_notice(cli, monkeypatch) -> None:
    cli("init", "--policy", str(EXAMPLES / "imexhs.toml"))
    cli("customer", "add", "solo", "--name", "Solo", "--country", "CO")
    cli("contact", "add", "solo", "ana@solo.example", "--name", "Ana")
    cli("agent", "add", "tester", "--role", "manager")  # may open without a contract
    tid = int(
        cli(
            "ticket",
            "open",
            "--customer",
            "solo",
            "--contact",
            "ana@solo.example",
            "--title",
            "No contract",
            "--override",
            "goodwill",
            "--at",
            bog("2026-03-09 08:00").isoformat(),
        ).stdout
    )
    set_sla_column(tid, "breached", bog("2026-03-09 09:00"))
    assert sweep_at(cli, monkeypatch, bog("2026-03-09 10:00"))["actions"] == []


def test_json_document_shape(cli, monkeypatch) -> None:
    seed = prepare(cli)
    tid = new_verifying(cli, seed, bog(MONDAY_10))
    doc = sweep_at(cli, monkeypatch, bog("2026-03-09 10:00"))
    assert set(doc) >= {"actions", "now", "dry_run", "failures", "mail"}
    action = doc["actions"][0]
    assert {k: action[k] for k in ("ticket", "action", "at")} == {
        "ticket": tid,
        "action": "contact",
        "at": z("2026-03-09 10:00"),
    }
    assert doc["now"] == z("2026-03-09 10:00")
    json.dumps(doc)
