"""The moves docs/rules.md §3 allows between states, and the closing outcomes."""

from __future__ import annotations

from deskctl.domain.policy import OUTCOMES, STATES
from deskctl.errors import BadInput, Refused

# docs/rules.md §3, in the order the spec lists them (messages show this order).
_MOVES: dict[str, tuple[str, ...]] = {
    "draft": ("queued", "awaiting_approval", "awaiting_customer", "closed"),
    "awaiting_approval": ("queued", "closed"),
    "awaiting_customer": ("draft", "queued", "in_progress", "closed"),
    "queued": ("in_progress", "awaiting_customer", "closed"),
    "in_progress": (
        "awaiting_customer",
        "forwarded",
        "awaiting_subticket",
        "awaiting_verification",
        "closed",
    ),
    "forwarded": ("in_progress",),
    "awaiting_subticket": ("in_progress",),
    "awaiting_verification": ("closed", "in_progress"),
    "closed": ("in_progress",),
}


ALLOWED: dict[str, frozenset[str]] = {state: frozenset(moves) for state, moves in _MOVES.items()}


# Outcomes a person may choose; ``accepted`` belongs to the closure protocol.
USER_OUTCOMES = tuple(o for o in OUTCOMES if o != "accepted")


def _check_state(name: str, what: str = "state") -> None:
    if name not in STATES:
        raise BadInput(f"unknown {what} {name!r}; states: {', '.join(STATES)}")


def allowed_moves(status: str) -> tuple[str, ...]:
    _check_state(status)
    return _MOVES[status]


def check_move(
    current: str,
    target: str,
    *,
    outcome: str | None = None,
    reopen_ok: bool = True,
    by_protocol: bool = False,
) -> None:
    """Refuse a move docs/rules.md §3 does not list, or a close without a valid outcome.

    ``reopen_ok=False`` refuses closed -> in_progress (the caller has not checked
    the reopen rule; see :func:`check_reopen`).
    """
    _check_state(current)
    _check_state(target, "target state")
    if target not in ALLOWED[current]:
        raise Refused(
            f"cannot move to {target}: ticket is {current}; "
            f"it can move to: {', '.join(_MOVES[current])}"
        )
    if current == "closed" and not reopen_ok:
        raise Refused("ticket is closed; reopen it (within the policy's window) to work on it")
    if target != "closed":
        if outcome is not None:
            raise BadInput(f"an outcome is given only when closing, not when moving to {target}")
        return
    if outcome is None:
        raise BadInput(f"closing needs an outcome: {', '.join(USER_OUTCOMES)}")
    if outcome not in OUTCOMES:
        raise BadInput(f"unknown outcome {outcome!r}; use one of: {', '.join(USER_OUTCOMES)}")
    if outcome == "accepted":
        if not by_protocol:
            raise Refused(
                "outcome accepted is set only by the closure protocol; "
                "close as resolved when the customer confirms"
            )
        if current != "awaiting_verification":
            raise Refused(
                f"the closure protocol closes only a ticket awaiting verification; "
                f"ticket is {current}"
            )
