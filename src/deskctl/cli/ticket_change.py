"""The one way a command changes tickets: ``@ticket_change("assign")``.

A command declares only its own options and returns an action, ``(session, ctx,
ticket_id) -> Change`` (a ``deskctl.services.flow`` use case); the decorator adds the
options every change shares -- the ids, ``--at``, ``--note``, ``--if-rev``, ``--json``
-- and runs the action once per id:

- ``ticket assign 12 13 14 --to maria``; ``-`` reads ids from stdin, one per line
  (what ``ticket list -q`` prints), so lists pipe into changes;
- each id is its own transaction, compare-and-set on the ticket's rev: a bad id, a
  refused move or a lost race fails that id alone, never half-written, and the others
  go on; a store that is unavailable stops the run;
- one literal id prints what it always did: a line on stderr, or the ticket's
  ``ticket show --json`` document; its error is the command's. Several ids (or ``-``)
  print a line per id, or one JSON list of ``{"id", "ok", "ticket" | "error", "exit"}``,
  and exit with the worst code of the failed ones;
- an action marked :func:`through_dbapi` (``ticket assign``) gets a DBAPI ``Writer``
  instead of an ORM session: no SQLAlchemy is imported and one connection serves
  every id, each id still its own transaction.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Annotated, Any

import typer

from deskctl.cli._base import _map_store_error, store_session
from deskctl.cli.ticket import ticket_app
from deskctl.errors import BadInput, DeskctlError, SomeFailed, StoreUnavailable

NOTE_HELP = "A note for the ticket's history."
IDS_HELP = "Ticket ids; - reads them from stdin, one per line (as ticket list -q prints them)."

Action = Callable[[Any, Any, int], Any]  # (session, flow.Ctx, ticket id) -> flow.Change


def through_dbapi(action: Action) -> Action:
    """Mark ``action`` as taking a DBAPI ``Writer`` instead of an ORM session: the run
    then imports no SQLAlchemy and keeps one connection for every id
    (``services.moves``: the moves that change only the ticket's own rows)."""
    action.dbapi = True  # type: ignore[attr-defined]
    return action


@dataclass
class Result:
    """One id's outcome: the change and its document, or the error that stopped it."""

    ticket_id: int | str
    change: Any = None
    doc: Any = None
    error: DeskctlError | None = None


def _shared(note_help: str) -> tuple[list[inspect.Parameter], list[inspect.Parameter]]:
    """The parameters every ticket change takes: ids first, the options last."""
    kw = inspect.Parameter.KEYWORD_ONLY
    ids = inspect.Parameter(
        "ticket_ids",
        kw,
        annotation=Annotated[list[str], typer.Argument(help=IDS_HELP)],
    )
    options = [
        (
            "at",
            str | None,
            typer.Option("--at", help="When it happened (ISO-8601 with offset). Default: now."),
        ),
        ("note", str | None, typer.Option("--note", help=note_help)),
        (
            "if_rev",
            int | None,
            typer.Option(
                "--if-rev",
                min=0,
                help="Only if the ticket is still at this rev (exit 4 otherwise).",
            ),
        ),
        ("json_out", bool, typer.Option("--json", help="Print the changed ticket as JSON.")),
    ]
    tail = [
        inspect.Parameter(
            name, kw, annotation=Annotated[kind, info], default=False if kind is bool else None
        )
        for name, kind, info in options
    ]
    return [ids], tail


def ticket_change(
    name: str, *, note_help: str = NOTE_HELP
) -> Callable[[Callable[..., Action]], Callable[..., Action]]:
    """Register ``make`` as ``ticket NAME``: ``make(**its own options)`` returns the action."""

    def decorate(make: Callable[..., Action]) -> Callable[..., Action]:
        head, tail = _shared(note_help)
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(make, eval_str=True).parameters.values()
        ]
        params = [*head, *own, *tail]

        def command(**values: Any) -> None:
            ids = values.pop("ticket_ids")
            shared = {p.name: values.pop(p.name) for p in tail}
            run(ids, make(**values), **shared)

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        command.__name__ = make.__name__
        command.__doc__ = make.__doc__
        ticket_app.command(name)(command)
        return make

    return decorate


def run(
    raw_ids: Sequence[str],
    action: Action,
    *,
    at: str | None,
    note: str | None,
    if_rev: int | None,
    json_out: bool,
) -> None:
    """Apply ``action`` to every id (see the module doc for the rules)."""
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.render import tickets as render
    from deskctl.services.moves import Ctx

    clean_note = note.strip() if note and note.strip() else None
    ctx = Ctx(now=when(at), actor=acting_user(), note=clean_note, if_rev=if_rev)
    applier = _dbapi_applier if getattr(action, "dbapi", False) else _orm_applier
    with applier(action, json_out) as apply_one:
        if len(raw_ids) == 1 and raw_ids[0] != "-":
            change, doc = apply_one(parse_id(raw_ids[0]), ctx)
            render.print_change(change, doc)
            return
        results = [_attempt(item, apply_one, ctx) for item in expand(raw_ids)]
    render.print_results(results, json_out=json_out)
    failed = [r.error for r in results if r.error is not None]
    if failed:
        worst = max(e.exit_status for e in failed)
        raise SomeFailed(f"{len(failed)} of {len(results)} tickets not changed", worst)


def expand(raw_ids: Sequence[str]) -> Iterator[str]:
    """The ids as given, ``-`` replaced by the lines of stdin (blank ones skipped)."""
    for item in raw_ids:
        if item == "-":
            yield from (line.strip() for line in sys.stdin if line.strip())
        else:
            yield item


def parse_id(text: str) -> int:
    value = text.strip()
    if not value.isdigit():
        raise BadInput(f"not a ticket id: {text!r}")
    return int(value)


Apply = Callable[[int, Any], tuple[Any, Any]]  # (ticket id, ctx) -> (change, document)


@contextmanager
def _orm_applier(action: Action, json_out: bool) -> Iterator[Apply]:
    def apply_one(ticket_id: int, ctx: Any) -> tuple[Any, Any]:
        """One id, one transaction: the change, and the changed ticket's document."""
        from deskctl.config import acting_user
        from deskctl.render.tickets import ticket_document

        with store_session(write=True) as s:
            # inside the transaction the acting agent is the one the store decided (on
            # PostgreSQL the database login, not DESKCTL_USER)
            ctx = replace(ctx, actor=acting_user())
            change = action(s, ctx, ticket_id)
            doc = ticket_document(s, change.ticket_id) if json_out else None
        return change, doc

    yield apply_one


@contextmanager
def _dbapi_applier(action: Action, json_out: bool) -> Iterator[Apply]:
    """Every id on one DBAPI connection, each its own transaction with the same role
    check as an ORM write session (``store.db.session``)."""
    from deskctl import clock, config
    from deskctl.domain.roles import Act
    from deskctl.services import views
    from deskctl.store import dbapi, identity

    with dbapi.writes() as transaction:

        def apply_one(ticket_id: int, ctx: Any) -> tuple[Any, Any]:
            with transaction() as w:
                who = identity.require_on(w, Act.WORK)
                token = config.ACTING.set(who.login)
                try:
                    change = action(w, replace(ctx, actor=who.login), ticket_id)
                    doc = views.ticket_document(w, ticket_id, clock.now()) if json_out else None
                finally:
                    config.ACTING.reset(token)
            return change, doc

        yield apply_one


def _attempt(item: str, apply_one: Apply, ctx: Any) -> Result:
    try:
        ticket_id = parse_id(item)
    except BadInput as exc:
        return Result(item, error=exc)
    try:
        change, doc = apply_one(ticket_id, ctx)
    except StoreUnavailable:
        raise
    except DeskctlError as exc:
        return Result(ticket_id, error=exc)
    except Exception as exc:
        mapped = _map_store_error(exc)
        if mapped is None or isinstance(mapped, StoreUnavailable):
            raise
        return Result(ticket_id, error=mapped)
    return Result(ticket_id, change, doc)
