"""Proposing a solution answers the customer: `resolve` is a first response unless the
policy's clock.resolve_is_response says otherwise."""

from __future__ import annotations

from datetime import UTC, datetime

from deskctl.domain import events
from deskctl.domain.policy_file import parse_policy
from tests.conftest import EXAMPLES


def _policy(extra: str = ""):
    text = (EXAMPLES / "medisoft.toml").read_text(encoding="utf-8")
    if extra:
        text = text.replace("[clock]", f"[clock]\n{extra}", 1)
    return parse_policy(text)


def test_resolve_stops_the_response_clock_by_default() -> None:
    policy = _policy()
    assert policy.clock.resolve_is_response
    assert set(policy.metrics["response"].stop) == {events.RESPONDED, events.RESOLVED}


def test_a_vendor_can_count_only_explicit_responses() -> None:
    policy = _policy("resolve_is_response = false")
    assert policy.metrics["response"].stop == (events.RESPONDED,)


def test_the_response_clock_stops_at_resolve_in_a_replay() -> None:
    """Opened Thu 16:00 São Paulo (high: 8 bh, due Fri 16:30), resolved Fri 10:00 with
    no `respond`: the response was in time."""
    from deskctl.domain.sla_facts import ticket_clocks

    policy = _policy()
    at = lambda h, d=6: datetime(2026, 3, d, h, tzinfo=UTC)  # noqa: E731
    history = [
        events.Event(seq=1, at=at(19, 5), kind=events.OPENED, actor="a", to_status="draft",
                     data={"plan": "maintenance", "calendar": "medisoft"}),
        events.Event(seq=2, at=at(19, 5), kind=events.TRIAGED, actor="a", from_status="draft",
                     to_status="queued", data={"severity": "high"}),
        events.Event(seq=3, at=at(12), kind=events.STARTED, actor="a", from_status="queued",
                     to_status="in_progress"),
        events.Event(seq=4, at=at(13), kind=events.RESOLVED, actor="a",
                     from_status="in_progress", to_status="awaiting_verification"),
    ]  # fmt: skip
    clock = ticket_clocks(policy, history, at(23, 9)).clocks["response"]
    assert clock.stopped_at == at(13) and clock.state == "met"
