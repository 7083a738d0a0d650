"""On-site visits and requested reports (docs/rules.md §5): the events that start and stop
the ``onsite`` and ``report`` SLA metrics.

Each ``plan_*`` builder validates the request against the ticket's history and
returns the next event (``seq = state.version + 1``); nothing is written here.

Decisions on points the spec leaves open:

- A request is *open* from its ``*_requested`` event until the next
  ``*_arrived``/``*_delivered`` event. A second request while one is open is
  refused: the metric is already running and a duplicate would hide when the
  customer first asked. Once fulfilled, a new request is accepted (a second
  visit, another report) and recorded, but the SLA engine measures the first
  request of the ticket (``deskctl.domain.sla``: a metric starts at the first
  event of its kind).
- Arriving or delivering with no open request is refused: it would stop a clock
  that never started.
- Arriving or delivering before the open request was made is bad input (the
  ``--at`` is wrong), not a refusal.
- A closed ticket is refused for all four: closing already stopped the metrics.
  Any other status is accepted (a visit may be booked while the ticket waits).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from deskctl.clock import iso_z
from deskctl.domain import events as ev
from deskctl.domain.events import Event
from deskctl.domain.lifecycle import TicketState
from deskctl.errors import BadInput, Refused


def open_request(events: Sequence[Event], requested: str, fulfilled: str) -> Event | None:
    """The pending ``requested`` event: the last one with no ``fulfilled`` after it."""
    pending: Event | None = None
    for event in sorted(events, key=lambda e: e.seq):
        if event.kind == requested:
            pending = pending or event
        elif event.kind == fulfilled:
            pending = None
    return pending


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("instants must be timezone-aware (UTC)")
    return now.astimezone(UTC)


def _event(
    state: TicketState, kind: str, *, now: datetime, actor: str, data: dict[str, str]
) -> Event:
    return Event(seq=state.version + 1, at=_utc(now), kind=kind, actor=actor, data=data)


def _payload(note: str | None, **extra: str | None) -> dict[str, str]:
    values = {"note": note, **extra}
    return {k: v.strip() for k, v in values.items() if v and v.strip()}


def _plan_request(
    state: TicketState,
    events: Sequence[Event],
    kinds: tuple[str, str],
    what: str,
    *,
    now: datetime,
    actor: str,
    data: dict[str, str],
) -> Event:
    if state.status == "closed":
        raise Refused(f"ticket is closed; reopen it to request {what}")
    pending = open_request(events, *kinds)
    if pending is not None:
        raise Refused(f"{what} was already requested at {iso_z(pending.at)} and is still open")
    return _event(state, kinds[0], now=now, actor=actor, data=data)


def _plan_fulfil(
    state: TicketState,
    events: Sequence[Event],
    kinds: tuple[str, str],
    what: str,
    done: str,
    *,
    now: datetime,
    actor: str,
    data: dict[str, str],
) -> Event:
    if state.status == "closed":
        raise Refused(f"ticket is closed; reopen it to record {what} {done}")
    pending = open_request(events, *kinds)
    if pending is None:
        raise Refused(f"no open request for {what}; record the request first")
    if _utc(now) < pending.at:
        raise BadInput(f"{iso_z(_utc(now))} is before {what} was requested at {iso_z(pending.at)}")
    return _event(state, kinds[1], now=now, actor=actor, data=data)


_ONSITE = (ev.ONSITE_REQUESTED, ev.ONSITE_ARRIVED)
_REPORT = (ev.REPORT_REQUESTED, ev.REPORT_DELIVERED)


def plan_onsite_request(
    state: TicketState,
    events: Sequence[Event],
    *,
    now: datetime,
    actor: str,
    note: str | None = None,
) -> Event:
    """The customer asked for an engineer on site: starts the ``onsite`` metric."""
    data = _payload(note)
    return _plan_request(
        state, events, _ONSITE, "an on-site visit", now=now, actor=actor, data=data
    )


def plan_onsite_arrived(
    state: TicketState,
    events: Sequence[Event],
    *,
    now: datetime,
    actor: str,
    note: str | None = None,
) -> Event:
    """The engineer arrived on site: stops the ``onsite`` metric."""
    data = _payload(note)
    return _plan_fulfil(
        state, events, _ONSITE, "an on-site visit", "arrived", now=now, actor=actor, data=data
    )


def plan_report_request(
    state: TicketState,
    events: Sequence[Event],
    *,
    now: datetime,
    actor: str,
    note: str | None = None,
    what: str | None = None,
) -> Event:
    """The customer asked for a report (``what`` names it): starts the ``report`` metric."""
    data = _payload(note, what=what)
    return _plan_request(state, events, _REPORT, "a report", now=now, actor=actor, data=data)


def plan_report_delivered(
    state: TicketState,
    events: Sequence[Event],
    *,
    now: datetime,
    actor: str,
    note: str | None = None,
) -> Event:
    """The requested report was delivered: stops the ``report`` metric."""
    data = _payload(note)
    return _plan_fulfil(
        state, events, _REPORT, "a report", "delivered", now=now, actor=actor, data=data
    )
