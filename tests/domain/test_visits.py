"""On-site visits and requested reports: the request/fulfil rules of domain.visits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deskctl.domain import events as ev
from deskctl.domain import visits
from deskctl.domain.events import Event
from deskctl.domain.lifecycle import project
from deskctl.errors import BadInput, Refused

T0 = datetime(2026, 6, 8, 6, 0, tzinfo=UTC)
OPENED = Event(seq=1, at=T0, kind=ev.OPENED, to_status="draft", data={"title": "x"})


def _then(history: list[Event], kind: str, minutes: int, **moves: str) -> list[Event]:
    event = Event(seq=len(history) + 1, at=T0 + timedelta(minutes=minutes), kind=kind, **moves)
    return [*history, event]


def _plan(builder, history: list[Event], minutes: int = 60, **kw) -> Event:
    now = T0 + timedelta(minutes=minutes)
    return builder(project(history), history, now=now, actor="ana", **kw)


PAIRS = [
    (visits.plan_onsite_request, visits.plan_onsite_arrived, ev.ONSITE_REQUESTED,
     ev.ONSITE_ARRIVED),
    (visits.plan_report_request, visits.plan_report_delivered, ev.REPORT_REQUESTED,
     ev.REPORT_DELIVERED),
]  # fmt: skip


@pytest.mark.parametrize("request_, fulfil, asked, done", PAIRS)
def test_request_then_fulfil_numbers_events_after_the_history(request_, fulfil, asked, done):
    first = _plan(request_, [OPENED], 10, note="  gate 3 ")
    assert (first.seq, first.kind, first.actor, first.at) == (
        2,
        asked,
        "ana",
        T0 + timedelta(minutes=10),
    )
    assert first.data == {"note": "gate 3"} and first.to_status is None
    second = _plan(fulfil, [OPENED, first], 70)
    assert (second.seq, second.kind, second.data) == (3, done, {})


@pytest.mark.parametrize("request_, fulfil, asked, done", PAIRS)
def test_second_request_while_open_is_refused_but_allowed_after_fulfilment(
    request_, fulfil, asked, done
):
    history = _then([OPENED], asked, 10)
    with pytest.raises(Refused, match="already requested"):
        _plan(request_, history)
    history = _then(history, done, 20)
    assert _plan(request_, history).kind == asked


@pytest.mark.parametrize("request_, fulfil, asked, done", PAIRS)
def test_fulfil_without_open_request_is_refused(request_, fulfil, asked, done):
    with pytest.raises(Refused, match="no open request"):
        _plan(fulfil, [OPENED])
    fulfilled = _then(_then([OPENED], asked, 10), done, 20)
    with pytest.raises(Refused, match="no open request"):
        _plan(fulfil, fulfilled)


@pytest.mark.parametrize("request_, fulfil, asked, done", PAIRS)
def test_closed_ticket_is_refused(request_, fulfil, asked, done):
    closed = _then(_then([OPENED], asked, 10), ev.CLOSED, 20, from_status="draft",
                   to_status="closed")  # fmt: skip
    for builder in (request_, fulfil):
        with pytest.raises(Refused, match="closed"):
            _plan(builder, closed)


@pytest.mark.parametrize("request_, fulfil, asked, done", PAIRS)
def test_fulfil_dated_before_the_request_is_bad_input(request_, fulfil, asked, done):
    history = _then([OPENED], asked, 60)
    with pytest.raises(BadInput, match="before"):
        _plan(fulfil, history, 30)
    assert _plan(fulfil, history, 60).kind == done  # the same instant is fine


def test_report_request_keeps_what_was_asked_for():
    event = _plan(visits.plan_report_request, [OPENED], what=" monthly uptime ")
    assert event.data == {"what": "monthly uptime"}


def test_open_request_is_the_first_unfulfilled_one_in_seq_order():
    history = _then(_then([OPENED], ev.ONSITE_REQUESTED, 10), ev.ONSITE_ARRIVED, 20)
    history = _then(history, ev.ONSITE_REQUESTED, 30)
    pending = visits.open_request(list(reversed(history)), ev.ONSITE_REQUESTED, ev.ONSITE_ARRIVED)
    assert pending is not None and pending.seq == 4
    assert visits.open_request(history, ev.REPORT_REQUESTED, ev.REPORT_DELIVERED) is None
