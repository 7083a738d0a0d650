"""The ticket lifecycle (docs/rules.md §3): allowed moves, the projection of a ticket's
events into its current state, and builders of the next event for each command.

The service layer loads a ticket's events, calls :func:`project`, asks a
``plan_*`` builder for the next event(s) — which validates the request and
raises ``Refused``/``BadInput`` before anything is written — and appends them
with compare-and-set on ``state.version`` (events are numbered 1..n per
ticket; a builder numbers its events ``state.version + 1``, ``+ 2``...).

Decisions on points the spec leaves open:

- ``accepted`` is the closure protocol's outcome only (``by_protocol=True``)
  and only for a ticket awaiting verification, the one state the protocol runs
  in. A customer who confirms closes ``resolved``; a customer who declines the
  cost of a billable service closes ``rejected``.
- Reopening is allowed up to and including the instant the window ends
  (``closed_at + window``); one second later it is refused. Reopening goes back
  to ``in_progress`` and clears outcome, closed_at and resolved_at.
- ``resolved_at`` is when the current solution was proposed (entering
  ``awaiting_verification``); it is cleared when the customer rejects the
  solution or the ticket is reopened.
- Moves are recorded in time order: a move dated before the ticket's previous
  move is refused (BadInput), since the SLA clock replays moves in order. Other
  events (comments, work logs) may be back-dated.
- A waiting ticket (``awaiting_customer``) resumes to the state it came from
  (draft, queued or in_progress); a forwarded one resumes to ``in_progress``.
- Split: one part or more (OpMon: a subordinate problem is a separate
  incident, so splitting off a single one is legitimate). A split needs a
  triaged ticket: from ``in_progress``, or from ``queued``, which is first
  started (a ``started`` event, then the ``split``), since
  ``awaiting_subticket`` is only reachable from ``in_progress``. A parent in
  ``awaiting_subticket`` is not resumed by hand while sub-tickets are open;
  it resumes by itself when the last one closes (:func:`on_child_closed`).
  Children open ``queued`` with the parent's triage, fields and contract.
- Closing a draft with missing required fields is allowed (see
  ``deskctl.domain.triage``): a duplicate or out-of-scope request is rejected
  without collecting data first.

The package's names below are its API (docs/rules.md §3); the modules say where each
part lives: ``moves`` (the move table), ``state`` (the projection), ``builders`` (the
checks every builder shares), ``intake``, ``progress``, ``closing`` and ``split`` (the
``plan_*`` builders by the part of the life they move).
"""

from __future__ import annotations

from deskctl.domain.lifecycle.builders import check_close_parent, check_reopen, plan_move
from deskctl.domain.lifecycle.closing import (
    plan_close,
    plan_confirm,
    plan_reject_solution,
    plan_reopen,
)
from deskctl.domain.lifecycle.intake import (
    plan_assign,
    plan_comment,
    plan_open,
    plan_respond,
    plan_triage,
    plan_update,
)
from deskctl.domain.lifecycle.moves import ALLOWED, USER_OUTCOMES, allowed_moves, check_move
from deskctl.domain.lifecycle.progress import (
    plan_approve,
    plan_decline,
    plan_resolve,
    plan_resume,
    plan_start,
    plan_wait,
    plan_worklog,
)
from deskctl.domain.lifecycle.split import check_split, on_child_closed, plan_child_open, plan_split
from deskctl.domain.lifecycle.state import TicketState, project

__all__ = [
    "ALLOWED",
    "USER_OUTCOMES",
    "TicketState",
    "allowed_moves",
    "check_close_parent",
    "check_move",
    "check_reopen",
    "check_split",
    "on_child_closed",
    "plan_approve",
    "plan_assign",
    "plan_child_open",
    "plan_close",
    "plan_comment",
    "plan_confirm",
    "plan_decline",
    "plan_move",
    "plan_open",
    "plan_reject_solution",
    "plan_reopen",
    "plan_resolve",
    "plan_respond",
    "plan_resume",
    "plan_split",
    "plan_start",
    "plan_triage",
    "plan_update",
    "plan_wait",
    "plan_worklog",
    "project",
]
