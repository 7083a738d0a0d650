"""The sweep's promise (docs/rules.md §6): every step exactly once, at its scheduled time, however
often, however concurrently it runs, and wherever it is killed."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cli.test_sweep import _copy_sqlite, bog, engine, new_verifying, prepare
from tests.conftest import ROOT

MONDAY = bog("2026-03-09 00:00")
SPAN = int(timedelta(days=8).total_seconds() // 60)  # Monday to the next Tuesday, in minutes
# (resolved, assignee): Monday morning, Tuesday at closing time, Wednesday afternoon (its
# T+33h falls on the next Monday, over a weekend)
TICKETS = [("2026-03-09 10:00", "alice"), ("2026-03-10 17:30", None), ("2026-03-11 15:00", "alice")]


class Killed(Exception):
    """Stands for SIGKILL in the middle of a ticket's transaction."""


class Recorder:
    """A mail transport that remembers which outbox keys it delivered."""

    name = "memory"

    def __init__(self, sent: list[str], delay: float = 0.0) -> None:
        self.sent = sent
        self.delay = delay

    def send(self, msg: Any) -> None:
        if self.delay:
            threading.Event().wait(self.delay)
        self.sent.append(str(msg["X-Deskctl-Key"]))

    def close(self) -> None:
        return None


def schedule_of(ticket_ids: list[int]) -> dict[str, tuple[int, str, datetime]]:
    """key -> (ticket, action, due) from the domain's schedule, as the sweep must perform it."""
    from deskctl.domain import closure
    from deskctl.domain.calendar import calendar_from_policy
    from deskctl.services import tickets
    from deskctl.store import db

    out = {}
    with db.session(engine()) as s:
        for tid in ticket_ids:
            row, events, _ = tickets.current(s, tid, for_update=False)
            policy = tickets.policy_of(s, row)
            assert policy.closure is not None and row.calendar is not None
            round_no, entered = closure.current_round(events) or (0, None)
            assert entered is not None
            calendar = calendar_from_policy(policy, row.calendar)
            for step in closure.protocol_schedule(
                entered, policy.closure, calendar, ticket_id=tid, round=round_no
            ):
                out[step.key] = (tid, step.action, step.due_at)
    return out


def sweep(eng: Any, now: datetime, sent: list[str], **kw: Any) -> Any:
    from deskctl.services import sweep as svc

    return svc.run(eng, now=now, transport=Recorder(sent), **kw)


def together(n: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in ``n`` threads released at the same instant; re-raise any failure."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def killer(after: int) -> Callable[[Any], None]:
    count = itertools.count(1)

    def hook(_action: Any) -> None:
        if next(count) > after:
            raise Killed()

    return hook


def done_steps(eng: Any) -> dict[str, list[datetime]]:
    """Every recorded PROTOCOL_STEP key with the instants it was recorded at."""
    from sqlalchemy import select

    from deskctl.store import db
    from deskctl.store.models import TicketEvent

    out: dict[str, list[datetime]] = {}
    with db.session(eng) as s:
        rows = s.execute(
            select(TicketEvent.at, TicketEvent.data).where(TicketEvent.kind == "protocol_step")
        )
        for at, data in rows:
            out.setdefault(data["key"], []).append(at)
    return out


def sweep_keys(eng: Any) -> list[str]:
    from sqlalchemy import select

    from deskctl.store import db
    from deskctl.store.models import SweepStep

    with db.session(eng) as s:
        keys = s.execute(select(SweepStep.key)).scalars()
        return [k for k in keys if k.startswith("protocol:")]


def assert_exactly(eng: Any, schedule: dict, now: datetime) -> None:
    """What is due at ``now`` is done, once, dated at its due time; nothing else is."""
    steps = done_steps(eng)
    due = {k: v[2] for k, v in schedule.items() if v[2] <= now}
    assert set(steps) == set(due), f"at {now}: done {sorted(steps)} != due {sorted(due)}"
    assert all(steps[k] == [due[k]] for k in due), steps
    assert Counter(sweep_keys(eng)) == Counter(list(due))


def sent_emails(eng: Any, schedule: dict) -> list[str]:
    """The e-mail steps that were due to be sent: a catch-up skips (and records why) an
    e-mail whose next step was already due when the sweep came to it."""
    from sqlalchemy import select

    from deskctl.store import db
    from deskctl.store.models import SweepStep

    with db.session(eng) as s:
        rows = s.execute(select(SweepStep.key, SweepStep.data)).all()
    skipped = {k for k, data in rows if (data or {}).get("skipped")}
    assert all("due" in (data or {})["skipped"] for k, data in rows if k in skipped)
    return [k for k, v in schedule.items() if v[1] == "email" and k not in skipped]


def assert_final(eng: Any, schedule: dict, sent: list[str]) -> None:
    from sqlalchemy import select

    from deskctl.store import db
    from deskctl.store.models import Notification, OutboxMessage, Ticket

    assert_exactly(eng, schedule, MONDAY + timedelta(minutes=SPAN))
    closes = {tid: due for tid, action, due in schedule.values() if action == "close"}
    with db.session(eng) as s:
        for tid, due in closes.items():
            row = s.get(Ticket, tid)
            assert (row.status, row.outcome, row.closed_at) == ("closed", "accepted", due)
        reminders = list(s.execute(select(Notification.key)).scalars())
        outbox = s.execute(select(OutboxMessage.key, OutboxMessage.sent_at)).all()
    calls = [k for k, v in schedule.items() if v[1] in ("contact", "call")]
    emails = sent_emails(eng, schedule)
    protocol = [k for k in reminders if k.startswith("protocol:")]
    assert sorted(k.rsplit(":", 1)[0] for k in protocol) == sorted(calls)
    assert sorted(k for k, _ in outbox if k.startswith("protocol:")) == sorted(emails)
    assert all(sent_at is not None for _, sent_at in outbox)
    delivered = [k for k in sent if k.startswith("protocol:")]
    assert sorted(delivered) == sorted(emails), "each e-mail delivered exactly once"


# -- a simulated week ------------------------------------------------------------------


def test_a_simulated_week_of_random_concurrent_and_killed_sweeps(cli, tmp_path) -> None:
    from deskctl.store import db

    seed = prepare(cli)
    ids = [new_verifying(cli, seed, bog(at), assignee=who) for at, who in TICKETS]
    schedule = schedule_of(ids)
    assert len(schedule) == 21
    db.dispose_all()
    template = tmp_path / "template.db"
    _copy_sqlite(Path(os.environ["DESKCTL_DB"]), template)
    due_minutes = sorted({int((v[2] - MONDAY).total_seconds() // 60) for v in schedule.values()})
    instant = st.one_of(
        st.integers(0, SPAN),
        st.sampled_from(due_minutes),  # exactly at a step's due time
        st.sampled_from(due_minutes).map(lambda m: m - 1),  # a minute before it
    )
    runs = st.lists(
        st.tuples(instant, st.sampled_from(["plain", "concurrent", "killed"]), st.integers(0, 5)),
        max_size=8,
    )
    examples = itertools.count()

    @settings(max_examples=12, deadline=None)
    @given(runs=runs)
    def week(runs: list[tuple[int, str, int]]) -> None:
        path = tmp_path / f"week{next(examples)}.db"
        _copy_sqlite(template, path)
        eng = db.get_engine(f"sqlite:///{path}")
        sent: list[str] = []
        try:
            for minute, mode, k in [*sorted(runs), (SPAN, "plain", 0)]:
                now = MONDAY + timedelta(minutes=minute)
                if mode == "plain":
                    sweep(eng, now, sent)
                elif mode == "concurrent":
                    together(3, lambda now=now: sweep(eng, now, sent))
                else:
                    try:
                        sweep(eng, now, sent, after_step=killer(k))
                    except Killed:
                        continue  # a killed run promises nothing until the next one
                assert_exactly(eng, schedule, now)
            assert_final(eng, schedule, sent)
        finally:
            eng.dispose()

    week()


# -- both backends ----------------------------------------------------------------------


def _store_with(cli: Any, count: int, resolved: str = "2026-03-09 10:00") -> tuple[list, dict]:
    seed = prepare(cli)
    ids = [new_verifying(cli, seed, bog(resolved)) for _ in range(count)]
    return ids, schedule_of(ids)


def test_a_killed_sweep_loses_only_its_ticket_and_the_next_run_finishes(cli, store) -> None:
    ids, schedule = _store_with(cli, 3)
    now = bog("2026-03-09 13:30")  # contact and first call due on each ticket
    sent: list[str] = []
    with pytest.raises(Killed):
        sweep(engine(), now, sent, after_step=killer(3))
    # the first ticket committed both its steps; the second was rolled back
    assert sorted(done_steps(engine())) == [f"protocol:{ids[0]}:1:0", f"protocol:{ids[0]}:1:1"]
    result = sweep(engine(), now, sent)
    protocol = [a for a in result.actions if a.key.startswith("protocol:")]
    assert sorted((a.ticket, a.action) for a in protocol) == sorted(
        (t, a) for t in ids[1:] for a in ("contact", "call")
    )
    assert_exactly(engine(), schedule, now)


def test_concurrent_sweeps_in_threads_do_each_step_once(cli, store) -> None:
    _, schedule = _store_with(cli, 5)
    now = bog("2026-03-10 09:30")  # five steps due on each ticket
    sent: list[str] = []
    results = together(4, lambda: sweep(engine(), now, sent))
    reported = [a.key for r in results for a in r.actions if a.key.startswith("protocol:")]
    assert sorted(reported) == sorted(k for k, v in schedule.items() if v[2] <= now)
    assert_exactly(engine(), schedule, now)
    emails = [k for k, v in schedule.items() if v[1] == "email" and v[2] <= now]
    assert sorted(k for k in sent if k.startswith("protocol:")) == sorted(emails)


def test_four_sweep_processes_started_together_act_once(cli, store) -> None:
    _, schedule = _store_with(cli, 6)
    now = bog("2026-03-16 09:00")  # every step of every ticket, closes included
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), DESKCTL_NOW=now.isoformat())
    from deskctl.store import db

    db.dispose_all()
    procs = [
        subprocess.Popen(
            [str(Path(sys.executable).parent / "deskctl"), "sweep", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in outputs]
    docs = [json.loads(out) for out, _ in outputs]
    reported = [a["key"] for d in docs for a in d["actions"] if a["key"].startswith("protocol:")]
    assert sorted(reported) == sorted(schedule)
    assert_exactly(engine(), schedule, now)
    sent = [m["key"] for d in docs for m in d["mail"].get("deliveries", []) if m["sent"]]
    # a week late, every agenda e-mail's deadline has passed: none is sent
    assert sent_emails(engine(), schedule) == []
    assert sent == []


def test_concurrent_deliveries_send_each_message_once(cli, store) -> None:
    from deskctl.services import mail
    from deskctl.store import db

    prepare(cli)
    now = bog("2026-03-10 09:00")
    keys = [f"k{i}" for i in range(12)]
    with db.session(engine(), write=True) as s:
        for key in keys:
            mail.enqueue(s, key=key, recipient="a@b.example", subject=key, body="b", now=now)
    sent: list[str] = []
    together(3, lambda: mail.deliver_pending(engine(), now=now, transport=Recorder(sent, 0.01)))
    assert sorted(sent) == sorted(keys)
    with db.session(engine()) as s:
        assert mail.count_pending(s) == 0
        assert {r["attempts"] for r in mail.outbox_rows(s)} == {1}


def test_a_claimed_message_waits_for_the_lease_then_goes(cli, store) -> None:
    """A sweep that died between claiming and sending: nobody sends the message until
    the lease ends; then the next sweep does."""
    from deskctl.services import mail
    from deskctl.store import db

    prepare(cli)
    now = bog("2026-03-10 09:00")
    with db.session(engine(), write=True) as s:
        mail.enqueue(s, key="k", recipient="a@b.example", subject="s", body="b", now=now)
    assert mail._claim(engine(), 1, "dead-sweep", now) is not None
    sent: list[str] = []
    soon = now + timedelta(seconds=mail.LEASE_SECONDS - 1)
    assert mail.deliver_pending(engine(), now=soon, transport=Recorder(sent)).sent == 0
    later = now + timedelta(seconds=mail.LEASE_SECONDS + 1)
    assert mail.deliver_pending(engine(), now=later, transport=Recorder(sent)).sent == 1
    assert sent == ["k"]


def test_migration_0005_upgrades_and_downgrades(store) -> None:
    from sqlalchemy import inspect

    from deskctl.store import db

    eng = db.default_engine()
    db.upgrade(eng)

    def shape() -> tuple[set[str], set[str]]:
        insp = inspect(eng)
        columns = {c["name"] for c in insp.get_columns("outbox_message")}
        indexes = {i["name"] for i in insp.get_indexes("ticket")}
        return columns, indexes

    columns, indexes = shape()
    assert {"claimed_at", "claimed_by"} <= columns
    assert {"ix_ticket_status_id", "ix_ticket_sla_state"} <= indexes
    _downgrade(eng, _before("0005"))
    columns, indexes = shape()
    assert "claimed_at" not in columns and "ix_ticket_status_id" not in indexes
    db.upgrade(eng)
    assert db.current_revision(eng) == db.SCHEMA_HEAD


def _before(revision: str) -> str:
    """The revision that ``revision`` follows."""
    from alembic.script import ScriptDirectory

    from deskctl.store import db

    script = ScriptDirectory.from_config(db.alembic_config(db.default_engine()))
    down = script.get_revision(revision).down_revision
    assert isinstance(down, str)
    return down


def _downgrade(eng: Any, revision: str) -> None:
    from alembic import command

    from deskctl.store import db

    command.downgrade(db.alembic_config(eng), revision)


def test_the_batch_query_walks_the_status_index(cli, store) -> None:
    from sqlalchemy import text

    from deskctl.services.sweep import verifying_page
    from deskctl.store import db

    cli("init")
    eng = db.default_engine()
    stmt = verifying_page(0, 500).compile(eng, compile_kwargs={"literal_binds": True})
    with eng.connect() as conn:
        if eng.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {stmt}")))
            assert "ix_ticket_status_id" in plan and "TEMP B-TREE" not in plan
        else:
            conn.execute(text("SET enable_seqscan = off"))
            plan = " ".join(str(r[0]) for r in conn.execute(text(f"EXPLAIN {stmt}")))
            assert "ix_ticket_status_id" in plan and "Sort" not in plan
