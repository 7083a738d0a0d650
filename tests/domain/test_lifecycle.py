"""Ticket lifecycle: docs/rules.md §3 moves, projection of events, event builders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskctl.domain import events as ev
from deskctl.domain import lifecycle as lc
from deskctl.domain.events import Event
from deskctl.domain.policy import STATES, SeverityScheme
from deskctl.errors import BadInput, Refused

# docs/rules.md §3, copied from the spec text (not from the module under test).
SPEC_MOVES = {
    "draft": ["queued", "awaiting_approval", "awaiting_customer", "closed"],
    "awaiting_approval": ["queued", "closed"],
    "awaiting_customer": ["draft", "queued", "in_progress", "closed"],
    "queued": ["in_progress", "awaiting_customer", "closed"],
    "in_progress": [
        "awaiting_customer",
        "forwarded",
        "awaiting_subticket",
        "awaiting_verification",
        "closed",
    ],
    "forwarded": ["in_progress"],
    "awaiting_subticket": ["in_progress"],
    "awaiting_verification": ["closed", "in_progress"],
    "closed": ["in_progress"],
}

T0 = datetime(2026, 3, 5, 13, 0, tzinfo=UTC)
REQUIRED = ("product", "version", "error")
COMPLETE = {"product": "PACS", "version": "6.2", "error": "E42 on save"}

IMEXHS = SeverityScheme(
    order=("1", "2", "3"),
    levels=("high", "medium", "low"),
    matrix={
        (i, u): "1"
        if (i, u) in {("high", "high"), ("high", "medium"), ("medium", "high")}
        else "2"
        if (i, u) in {("medium", "medium"), ("high", "low"), ("low", "high")}
        else "3"
        for i in ("high", "medium", "low")
        for u in ("high", "medium", "low")
    },
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def extend(log: list[Event], new: Event | Sequence[Event]) -> tuple[list[Event], lc.TicketState]:
    added = [new] if isinstance(new, Event) else list(new)
    log = log + added
    return log, lc.project(log)


def opened(fields=COMPLETE, required=REQUIRED) -> tuple[list[Event], lc.TicketState]:
    log = lc.plan_open(
        now=T0,
        actor="portal",
        title="Viewer crashes",
        customer="clinic",
        contact="Ana@Clinic.example",
        fields=fields,
        required=required,
    )
    return log, lc.project(log)


def in_state(status: str) -> tuple[list[Event], lc.TicketState]:
    """A ticket walked through legal commands to ``status``."""
    log, s = opened()
    if status == "draft":
        return log, s
    if status == "awaiting_approval":
        return extend(
            log,
            lc.plan_triage(
                s, now=at(1), actor="eng", scheme=IMEXHS, severity="2", category="billable_service"
            ),
        )
    if status == "closed":
        return extend(log, lc.plan_close(s, "cancelled", now=at(1), actor="eng"))
    log, s = extend(
        log,
        lc.plan_triage(s, now=at(1), actor="eng", scheme=IMEXHS, severity="2", category="defect"),
    )
    if status == "queued":
        return log, s
    if status == "awaiting_customer":
        return extend(log, lc.plan_wait(s, "customer", now=at(2), actor="eng"))
    log, s = extend(log, lc.plan_start(s, now=at(2), actor="eng"))
    steps = {
        "in_progress": None,
        "forwarded": lambda s: lc.plan_wait(s, "third-party", now=at(3), actor="eng"),
        "awaiting_subticket": lambda s: lc.plan_split(s, [7, 8], now=at(3), actor="eng"),
        "awaiting_verification": lambda s: lc.plan_resolve(s, now=at(3), actor="eng"),
    }
    step = steps[status]
    return (log, s) if step is None else extend(log, step(s))


# --- the move table ---------------------------------------------------------------


def test_allowed_is_exactly_the_spec_table():
    assert set(lc.ALLOWED) == set(STATES)
    for state, moves in SPEC_MOVES.items():
        assert lc.ALLOWED[state] == frozenset(moves)
        assert lc.allowed_moves(state) == tuple(moves)


@pytest.mark.parametrize("current", STATES)
@pytest.mark.parametrize("target", STATES)
def test_every_pair_of_states(current, target):
    outcome = "resolved" if target == "closed" else None
    if target in SPEC_MOVES[current]:
        lc.check_move(current, target, outcome=outcome)
        return
    with pytest.raises(Refused) as refused:
        lc.check_move(current, target, outcome=outcome)
    message = refused.value.message
    assert f"ticket is {current}; it can move to: {', '.join(SPEC_MOVES[current])}" in message
    assert target in message.split(":")[0]
    assert "\n" not in message


def test_queued_message_reads_as_the_user_sees_it():
    with pytest.raises(
        Refused,
        match=r"ticket is queued; it can move to: in_progress, "
        r"awaiting_customer, closed$",
    ):
        lc.check_move("queued", "awaiting_verification")


@pytest.mark.parametrize(("current", "target"), [("open", "queued"), ("queued", "done")])
def test_unknown_state_names_are_bad_input(current, target):
    with pytest.raises(BadInput, match="states: draft, awaiting_approval"):
        lc.check_move(current, target)
    with pytest.raises(BadInput):
        lc.allowed_moves("pending")


def test_closing_needs_a_known_outcome():
    with pytest.raises(BadInput, match="closing needs an outcome"):
        lc.check_move("queued", "closed")
    with pytest.raises(BadInput, match="unknown outcome 'fixed'"):
        lc.check_move("queued", "closed", outcome="fixed")
    with pytest.raises(BadInput, match="only when closing"):
        lc.check_move("queued", "in_progress", outcome="resolved")
    for outcome in ("resolved", "unresolved", "rejected", "redirected", "cancelled"):
        lc.check_move("in_progress", "closed", outcome=outcome)


def test_accepted_only_through_the_closure_protocol():
    with pytest.raises(Refused, match="only by the closure protocol"):
        lc.check_move("awaiting_verification", "closed", outcome="accepted")
    lc.check_move("awaiting_verification", "closed", outcome="accepted", by_protocol=True)
    with pytest.raises(Refused, match="awaiting verification"):
        lc.check_move("in_progress", "closed", outcome="accepted", by_protocol=True)


def test_reopen_move_can_be_withheld():
    lc.check_move("closed", "in_progress")
    with pytest.raises(Refused, match="reopen"):
        lc.check_move("closed", "in_progress", reopen_ok=False)


# --- projection -------------------------------------------------------------------


def test_realistic_history_projects_every_derived_field():
    log, s = opened(fields={"product": "PACS", "version": "6.2"})
    assert (s.status, s.info_complete_at, s.version) == ("draft", None, 1)

    log, s = extend(log, lc.plan_wait(s, "customer", now=at(5), actor="eng", note="need error"))
    assert (s.status, s.waiting_on) == ("awaiting_customer", "customer")

    log, s = extend(
        log, lc.plan_update(s, {"error": "E42"}, now=at(30), actor="ana", required=REQUIRED)
    )
    assert s.info_complete_at == at(30)
    assert s.fields == {"product": "PACS", "version": "6.2", "error": "E42"}

    log, s = extend(log, lc.plan_resume(s, now=at(31), actor="eng", required=REQUIRED))
    assert (s.status, s.waiting_on) == ("draft", None)

    log, s = extend(
        log,
        lc.plan_triage(
            s,
            now=at(40),
            actor="eng",
            scheme=IMEXHS,
            impact="high",
            urgency="medium",
            category="defect",
            topic="Viewer",
            required=REQUIRED,
        ),
    )
    assert (s.status, s.severity, s.impact, s.urgency) == ("queued", "1", "high", "medium")
    assert (s.category, s.topic) == ("defect", "Viewer")

    log, s = extend(log, lc.plan_assign(s, now=at(41), actor="lead", assignee="alice", team="l2"))
    log, s = extend(log, lc.plan_respond(s, now=at(45), actor="alice"))
    log, s = extend(log, lc.plan_respond(s, now=at(50), actor="alice"))
    assert (s.assignee, s.team, s.responded_at) == ("alice", "l2", at(45))

    log, s = extend(log, lc.plan_start(s, now=at(60), actor="alice"))
    log, s = extend(log, lc.plan_worklog(s, 30, now=at(90), actor="alice"))
    log, s = extend(
        log, lc.plan_wait(s, "third-party", now=at(95), actor="alice", vendor="Acme PACS")
    )
    assert (s.status, s.waiting_on, s.vendor) == ("forwarded", "third-party", "Acme PACS")

    log, s = extend(log, lc.plan_resume(s, now=at(200), actor="alice"))
    log, s = extend(log, lc.plan_worklog(s, 25, now=at(230), actor="alice"))
    log, s = extend(log, lc.plan_worklog(s, -5, now=at(231), actor="alice", note="typo"))
    assert (s.status, s.minutes, s.vendor) == ("in_progress", 50, "Acme PACS")

    log, s = extend(log, lc.plan_split(s, [101, 102], now=at(240), actor="alice"))
    assert (s.status, s.children, s.open_children) == ("awaiting_subticket", (101, 102), (101, 102))

    log, s = extend(log, lc.on_child_closed(s, 101, at(300)))
    assert (s.status, s.open_children) == ("awaiting_subticket", (102,))
    log, s = extend(log, lc.on_child_closed(s, 102, at(400)))
    assert (s.status, s.open_children, s.children) == ("in_progress", (), (101, 102))

    log, s = extend(log, lc.plan_resolve(s, now=at(500), actor="alice", solution="patched"))
    assert (s.status, s.resolved_at, s.solution) == ("awaiting_verification", at(500), "patched")

    log, s = extend(log, lc.plan_confirm(s, now=at(600), actor="ana"))
    assert (s.status, s.outcome, s.closed_at) == ("closed", "resolved", at(600))

    log, s = extend(log, lc.plan_reopen(s, now=at(700), actor="ana", window_seconds=86400))
    assert (s.status, s.outcome, s.closed_at, s.reopen_count) == ("in_progress", None, None, 1)

    assert s.version == len(log) == 22
    assert s.opened_at == T0
    assert s.last_event_at == at(700)
    assert s.status_since == at(700)
    assert (s.title, s.customer, s.contact) == ("Viewer crashes", "clinic", "Ana@Clinic.example")
    assert [e.seq for e in log] == list(range(1, 23))
    # replay order is by seq, not by list order
    assert lc.project(list(reversed(log))) == s


def test_a_move_whose_from_status_disagrees_is_a_corrupted_log():
    log, s = in_state("queued")
    bad = Event(
        seq=s.version + 1, at=at(9), kind=ev.STARTED, from_status="draft", to_status="in_progress"
    )
    with pytest.raises(ValueError, match="corrupted"):
        lc.project([*log, bad])


def test_event_numbers_must_run_from_one_without_gaps():
    log, _ = in_state("queued")
    with pytest.raises(ValueError):
        lc.project(log[1:])
    with pytest.raises(ValueError):
        lc.project([*log, Event(seq=len(log) + 2, at=at(9), kind=ev.COMMENTED)])
    with pytest.raises(ValueError):
        lc.project([])


# --- builders ---------------------------------------------------------------------


def test_open_complete_ticket_starts_its_info_clock_at_once():
    log, s = opened()
    assert [e.kind for e in log] == [ev.OPENED, ev.INFO_COMPLETE]
    assert (log[0].from_status, log[0].to_status, log[0].seq) == (None, "draft", 1)
    assert s.info_complete_at == T0
    log, s = opened(fields={"product": "PACS"})
    assert [e.kind for e in log] == [ev.OPENED]
    assert s.info_complete_at is None


def test_open_refuses_blank_title_and_unknown_fields():
    with pytest.raises(BadInput, match="title"):
        lc.plan_open(now=T0, actor="a", title="  ", customer="c", contact="x")
    with pytest.raises(BadInput, match="colour"):
        lc.plan_open(
            now=T0, actor="a", title="t", customer="c", contact="x", fields={"colour": "red"}
        )


def test_update_reports_info_complete_only_once():
    log, s = opened(fields={})
    log, s = extend(
        log, lc.plan_update(s, {"product": "PACS"}, now=at(1), actor="a", required=REQUIRED)
    )
    assert s.info_complete_at is None and len(log) == 2
    new = lc.plan_update(
        s, {"version": "6", "error": "E1"}, now=at(2), actor="a", required=REQUIRED
    )
    assert [(e.kind, e.seq) for e in new] == [(ev.UPDATED, 3), (ev.INFO_COMPLETE, 4)]
    log, s = extend(log, new)
    again = lc.plan_update(s, {"error": "E2"}, now=at(3), actor="a", required=REQUIRED)
    assert [e.kind for e in again] == [ev.UPDATED]
    log, s = extend(log, again)
    assert s.info_complete_at == at(2) and s.fields["error"] == "E2"


def test_missing_fields_keep_a_draft_out_of_the_queue():
    log, s = opened(fields={"product": "PACS"})
    with pytest.raises(Refused, match="version, error"):
        lc.plan_triage(
            s,
            now=at(1),
            actor="e",
            scheme=IMEXHS,
            severity="3",
            category="defect",
            required=REQUIRED,
        )
    with pytest.raises(Refused, match="version, error"):
        lc.plan_move(s, ev.STARTED, "queued", now=at(1), actor="e", required=REQUIRED)
    waiting = lc.plan_wait(s, "customer", now=at(1), actor="e")
    assert waiting.to_status == "awaiting_customer"
    _, waited = extend(log, waiting)
    # back to draft is fine; straight to the queue is not
    assert lc.plan_resume(waited, now=at(2), actor="e", required=REQUIRED).to_status == "draft"
    with pytest.raises(Refused, match="version, error"):
        lc.plan_move(waited, ev.RESUMED, "queued", now=at(2), actor="e", required=REQUIRED)
    # closing a duplicate needs no data
    closed = lc.plan_close(s, "cancelled", now=at(1), actor="e", reason="duplicate")
    assert (closed.to_status, closed.data["outcome"]) == ("closed", "cancelled")


def test_resume_goes_back_where_the_wait_started():
    for start, expected in (("queued", "queued"), ("in_progress", "in_progress")):
        log, s = in_state(start)
        log, s = extend(log, lc.plan_wait(s, "customer", now=at(10), actor="e"))
        event = lc.plan_resume(s, now=at(11), actor="e")
        assert (event.kind, event.from_status, event.to_status) == (
            ev.RESUMED,
            "awaiting_customer",
            expected,
        )
    _, s = in_state("queued")
    with pytest.raises(Refused, match="only a waiting ticket resumes"):
        lc.plan_resume(s, now=at(10), actor="e")


def test_wait_on_third_party_forwards_and_needs_in_progress():
    _, s = in_state("in_progress")
    event = lc.plan_wait(s, "third-party", now=at(10), actor="e", vendor="Siemens")
    assert (event.kind, event.to_status, event.data["vendor"]) == (
        ev.WAITING,
        "forwarded",
        "Siemens",
    )
    _, q = in_state("queued")
    with pytest.raises(Refused, match="ticket is queued"):
        lc.plan_wait(q, "third-party", now=at(10), actor="e")
    with pytest.raises(BadInput):
        lc.plan_wait(s, "manager", now=at(10), actor="e")


def test_every_builder_numbers_and_dates_its_event():
    _, s = in_state("in_progress")
    built = [
        lc.plan_assign(s, now=at(10), actor="lead", assignee="bob"),
        lc.plan_respond(s, now=at(10), actor="bob", note="on it"),
        lc.plan_worklog(s, 20, now=at(10), actor="bob", kind="diagnosis"),
        lc.plan_resolve(s, now=at(10), actor="bob"),
        lc.plan_close(s, "unresolved", now=at(10), actor="bob"),
        lc.plan_wait(s, "customer", now=at(10), actor="bob"),
    ]
    for event in built:
        assert event.seq == s.version + 1
        assert event.at == at(10)
        assert (event.from_status is None) == (event.to_status is None)
        assert event.from_status in (None, "in_progress")
    assert built[1].data["note"] == "on it"
    assert built[2].data == {"minutes": 20, "kind": "diagnosis"}
    assert built[4].data["outcome"] == "unresolved"


def test_builders_refuse_illegal_moves_without_an_event():
    _, s = in_state("forwarded")
    with pytest.raises(Refused, match="ticket is forwarded; it can move to: in_progress"):
        lc.plan_close(s, "resolved", now=at(10), actor="e")
    with pytest.raises(Refused):
        lc.plan_resolve(s, now=at(10), actor="e")
    _, closed = in_state("closed")
    for build in (
        lambda: lc.plan_assign(closed, now=at(10), actor="e", assignee="x"),
        lambda: lc.plan_respond(closed, now=at(10), actor="e"),
        lambda: lc.plan_move(closed, ev.STARTED, "in_progress", now=at(10), actor="e"),
        lambda: lc.plan_update(closed, {"error": "x"}, now=at(10), actor="e"),
    ):
        with pytest.raises(Refused, match="closed"):
            build()


def test_moves_are_recorded_in_time_order():
    _, s = in_state("in_progress")  # started at T0 + 2 min
    with pytest.raises(BadInput, match="before the ticket's last move"):
        lc.plan_resolve(s, now=at(1), actor="e")
    # a back-dated work log is fine
    assert lc.plan_worklog(s, 10, now=at(0), actor="e").at == at(0)


def test_naive_instants_are_a_programming_error():
    _, s = in_state("queued")
    with pytest.raises(ValueError):
        lc.plan_respond(s, now=datetime(2026, 3, 5, 12, 0), actor="e")


def test_confirm_and_reject_only_while_verifying():
    log, s = in_state("awaiting_verification")
    rejected = lc.plan_reject_solution(s, now=at(10), actor="ana", note="still crashes")
    assert (rejected.kind, rejected.to_status) == (ev.SOLUTION_REJECTED, "in_progress")
    _, back = extend(log, rejected)
    assert back.resolved_at is None
    confirmed = lc.plan_confirm(s, now=at(10), actor="ana")
    assert (confirmed.kind, confirmed.to_status, confirmed.data["outcome"]) == (
        ev.CONFIRMED,
        "closed",
        "resolved",
    )
    _, q = in_state("in_progress")
    with pytest.raises(Refused, match="awaiting verification"):
        lc.plan_confirm(q, now=at(10), actor="ana")


def test_protocol_closes_accepted():
    log, s = in_state("awaiting_verification")
    with pytest.raises(Refused, match="closure protocol"):
        lc.plan_close(s, "accepted", now=at(40), actor="eng")
    event = lc.plan_close(s, "accepted", now=at(40), actor="deskctl", by_protocol=True)
    _, closed = extend(log, event)
    assert (closed.status, closed.outcome) == ("closed", "accepted")


def test_approval_queues_or_closes_rejected():
    _log, s = in_state("awaiting_approval")
    assert lc.plan_approve(s, now=at(10), actor="ana").to_status == "queued"
    declined = lc.plan_decline(s, now=at(10), actor="ana")
    assert (declined.to_status, declined.data["outcome"]) == ("closed", "rejected")
    _, d = in_state("draft")
    with pytest.raises(Refused, match="awaiting approval"):
        lc.plan_approve(d, now=at(10), actor="ana")


def test_worklog_corrections_never_go_below_zero():
    log, s = in_state("in_progress")
    log, s = extend(log, lc.plan_worklog(s, 15, now=at(10), actor="e"))
    log, s = extend(log, lc.plan_worklog(s, -15, now=at(11), actor="e"))
    assert s.minutes == 0
    with pytest.raises(BadInput, match="below zero"):
        lc.plan_worklog(s, -1, now=at(12), actor="e")
    for bad in (0, True, 1.5):
        with pytest.raises(BadInput):
            lc.plan_worklog(s, bad, now=at(12), actor="e")  # type: ignore[arg-type]


# --- triage through the lifecycle -------------------------------------------------


def test_triage_misuse_closes_redirected_with_its_article():
    log, s = in_state("draft")
    with pytest.raises(BadInput, match="article"):
        lc.plan_triage(s, now=at(5), actor="e", scheme=IMEXHS, severity="3", category="misuse")
    new = lc.plan_triage(
        s,
        now=at(5),
        actor="e",
        scheme=IMEXHS,
        severity="3",
        category="misuse",
        topic="Merge images",
        kb_article="KB-12",
    )
    assert [(e.kind, e.seq, e.to_status) for e in new] == [
        (ev.TRIAGED, s.version + 1, None),
        (ev.REDIRECTED, s.version + 2, "closed"),
    ]
    _, s = extend(log, new)
    assert (s.status, s.outcome, s.kb_article, s.category) == (
        "closed",
        "redirected",
        "KB-12",
        "misuse",
    )


def test_triage_refuses_a_repeat_of_a_redirected_case_type():
    _, s = in_state("draft")  # contact Ana@Clinic.example
    with pytest.raises(Refused, match="ticket #41"):
        lc.plan_triage(
            s,
            now=at(5),
            actor="e",
            scheme=IMEXHS,
            severity="3",
            category="defect",
            topic=" merge IMAGES ",
            previous_redirects=[(41, "ana@clinic.example", "Merge images")],
        )
    # a policy that does not refuse repeats lets it through
    new = lc.plan_triage(
        s,
        now=at(5),
        actor="e",
        scheme=IMEXHS,
        severity="3",
        category="defect",
        topic="merge images",
        refuse_repeat=False,
        previous_redirects=[(41, "ana@clinic.example", "Merge images")],
    )
    assert new[0].to_status == "queued"


def test_triage_out_of_scope_rejects_or_converts_to_billable():
    _log, s = in_state("draft")
    rejected = lc.plan_triage(
        s, now=at(5), actor="e", scheme=IMEXHS, severity="3", category="out_of_scope"
    )
    assert [e.kind for e in rejected] == [ev.TRIAGED, ev.CLOSED]
    assert rejected[1].data["outcome"] == "rejected"
    converted = lc.plan_triage(
        s,
        now=at(5),
        actor="e",
        scheme=IMEXHS,
        severity="3",
        category="out_of_scope",
        convert_to_billable=True,
    )
    assert [(e.kind, e.to_status) for e in converted] == [(ev.TRIAGED, "awaiting_approval")]
    assert converted[0].data["billable"] is True


def test_retriage_of_a_ticket_in_work_changes_severity_only():
    log, s = in_state("in_progress")
    new = lc.plan_triage(
        s,
        now=at(10),
        actor="e",
        scheme=IMEXHS,
        impact="low",
        urgency="low",
        category="always_supported",
    )
    assert [e.to_status for e in new] == [None]
    _, s = extend(log, new)
    assert (s.status, s.severity, s.category) == ("in_progress", "3", "always_supported")
    with pytest.raises(Refused, match="ticket is in_progress"):
        lc.plan_triage(
            s, now=at(11), actor="e", scheme=IMEXHS, severity="2", category="billable_service"
        )


# --- reopen -----------------------------------------------------------------------

WINDOW = 14 * 86400


@pytest.mark.parametrize(
    ("offset", "allowed"), [(WINDOW - 1, True), (WINDOW, True), (WINDOW + 1, False)]
)
def test_reopen_window_boundaries(offset, allowed):
    _, s = in_state("closed")
    now = s.closed_at + timedelta(seconds=offset)
    if allowed:
        lc.check_reopen(s, now, WINDOW)
        event = lc.plan_reopen(s, now=now, actor="ana", window_seconds=WINDOW)
        assert (event.kind, event.from_status, event.to_status) == (
            ev.REOPENED,
            "closed",
            "in_progress",
        )
    else:
        with pytest.raises(Refused, match="reopen window of 14d ended"):
            lc.check_reopen(s, now, WINDOW)


def test_no_window_means_reopen_any_time():
    _, s = in_state("closed")
    lc.check_reopen(s, s.closed_at + timedelta(days=3650), None)


@pytest.mark.parametrize("window", [None, WINDOW])
def test_accepted_never_reopens(window):
    log, s = in_state("awaiting_verification")
    _, s = extend(log, lc.plan_close(s, "accepted", now=at(40), actor="d", by_protocol=True))
    with pytest.raises(Refused, match="open a new ticket"):
        lc.check_reopen(s, s.closed_at + timedelta(seconds=1), window)
    with pytest.raises(Refused, match="accepted"):
        lc.plan_reopen(s, now=s.closed_at, actor="ana", window_seconds=window)


def test_only_closed_tickets_reopen():
    _, s = in_state("queued")
    with pytest.raises(Refused, match="ticket is queued"):
        lc.check_reopen(s, at(10), None)


# --- split and sub-tickets --------------------------------------------------------


def test_split_checks():
    _, s = in_state("in_progress")
    lc.check_split(s, ["Printer", "Login"], {1})
    lc.check_split(s, ["Only one subordinate problem"], {1})
    with pytest.raises(BadInput):
        lc.check_split(s, [], {1})
    with pytest.raises(BadInput, match="title"):
        lc.check_split(s, ["ok", "  "], {1})
    with pytest.raises(Refused, match="ancestors"):
        lc.check_split(s, [], {1, 5}, adopt=[5])
    for status in ("draft", "awaiting_customer", "closed", "awaiting_verification"):
        _, other = in_state(status)
        with pytest.raises(Refused, match=f"ticket is {status}"):
            lc.check_split(other, ["a", "b"], {1})


def test_split_of_a_queued_ticket_starts_it_first():
    log, s = in_state("queued")
    lc.check_split(s, ["a", "b"], {1})
    new = lc.plan_split(s, [7, 8], now=at(10), actor="e")
    assert [(e.kind, e.seq, e.from_status, e.to_status) for e in new] == [
        (ev.STARTED, s.version + 1, "queued", "in_progress"),
        (ev.SPLIT, s.version + 2, "in_progress", "awaiting_subticket"),
    ]
    _, s = extend(log, new)
    assert (s.status, s.open_children) == ("awaiting_subticket", (7, 8))


def test_children_open_queued_with_the_parent_triage():
    _log, parent = in_state("in_progress")
    child_log = lc.plan_child_open(parent, parent_id=1, title="Printer", now=at(10), actor="e")
    child = lc.project(child_log)
    assert (child.status, child.parent_id, child.severity, child.category) == (
        "queued",
        1,
        parent.severity,
        "defect",
    )
    assert (child.customer, child.contact, child.fields) == (
        parent.customer,
        parent.contact,
        parent.fields,
    )
    assert child.info_complete_at == at(10)


def test_parent_resumes_only_when_the_last_child_closes():
    log, s = in_state("awaiting_subticket")  # children 7, 8
    with pytest.raises(Refused, match="#7, #8"):
        lc.plan_resume(s, now=at(10), actor="e")
    with pytest.raises(Refused, match="#7, #8"):
        lc.check_close_parent(s)
    first = lc.on_child_closed(s, 8, at(10))
    assert [(e.kind, e.data) for e in first] == [(ev.CHILD_CLOSED, {"child": 8})]
    log, s = extend(log, first)
    assert lc.on_child_closed(s, 8, at(11)) == []  # reported twice: nothing more
    with pytest.raises(BadInput, match="#99"):
        lc.on_child_closed(s, 99, at(11))
    last = lc.on_child_closed(s, 7, at(12))
    assert [(e.kind, e.seq, e.from_status, e.to_status) for e in last] == [
        (ev.CHILD_CLOSED, s.version + 1, None, None),
        (ev.RESUMED, s.version + 2, "awaiting_subticket", "in_progress"),
    ]
    log, s = extend(log, last)
    assert (s.status, s.open_children) == ("in_progress", ())
    lc.check_close_parent(s)
    assert lc.plan_close(s, "resolved", now=at(13), actor="e").to_status == "closed"


# --- property: any sequence of accepted commands replays --------------------------


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(STATES), min_size=1, max_size=25))
def test_random_walks_replay_to_the_last_accepted_move(targets):
    log, s = opened()
    for minute, target in enumerate(targets, start=1):
        now = at(minute)
        if s.status == "closed":
            new = [lc.plan_reopen(s, now=now, actor="e", window_seconds=None)]
        elif target == "awaiting_subticket" and s.status in ("queued", "in_progress"):
            new = lc.plan_split(s, [1000 + minute], now=now, actor="e")
            log, s = extend(log, new)
            new = lc.on_child_closed(s, 1000 + minute, now)
        elif target in SPEC_MOVES[s.status]:
            data = {"outcome": "cancelled"} if target == "closed" else None
            new = [lc.plan_move(s, "moved", target, now=now, actor="e", data=data)]
        else:
            with pytest.raises(Refused, match=f"ticket is {s.status}"):
                lc.plan_move(s, "moved", target, now=now, actor="e")
            continue
        before = s.status
        log, s = extend(log, new)
        assert s.version == len(log)
        assert s.status in SPEC_MOVES[before]
        assert s.reopen_count == sum(1 for e in log if e.from_status == "closed")
