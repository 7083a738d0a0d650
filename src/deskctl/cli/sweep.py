"""`deskctl sweep`: run the closure protocol, SLA notices and mail delivery (for cron)."""

from __future__ import annotations

from typing import Annotated

import typer

from deskctl.cli._base import JsonOpt


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)


def sweep(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write nothing; list what would be done.")
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option("--limit", help="Act on at most N tickets this run; the rest wait."),
    ] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Do everything that has fallen due (DESKCTL_NOW or now), exactly once.

    Reminds engineers of due protocol calls, e-mails the engineer's agenda to the
    customer, closes unanswered tickets as accepted, raises SLA at-risk and breach
    notices in business hours, and delivers the outbox. Safe to run from cron as
    often as you like, also several at once: exit 0 when it worked (even with
    nothing due), 1 "done, with failures" when a ticket could not be swept or a
    message cannot be sent as it is (everything else was done; each failure is
    listed, and `deskctl mail outbox` shows the message as failed with its reason),
    5 when the store is unavailable. A mail server that is down only defers the
    outbox to the next run (exit 0). One line per action on stderr; --json prints
    {"actions": [{ticket, action, at}]}.
    """
    from deskctl import clock
    from deskctl.errors import BadInput, Refused
    from deskctl.render.output import emit_json, say
    from deskctl.services import mail
    from deskctl.services import sweep as svc
    from deskctl.store import db

    if limit is not None and limit < 1:
        raise BadInput("--limit must be 1 or more")
    mail.smtp_settings()  # a broken [smtp] table stops the run before anything is done
    now = clock.now()
    engine = db.ready_engine()
    log = None if json_out else (lambda action: say(action.line()))
    result = svc.run(engine, now=now, dry_run=dry_run, limit=limit, on_action=log)
    if json_out:
        emit_json(result.to_json())
    else:
        _summary(result, say)
    problems = _failures(result)
    if problems:
        raise Refused("done, with failures: " + "; ".join(problems))


def _failures(result: object) -> list[str]:
    from deskctl.services.sweep import SweepResult

    assert isinstance(result, SweepResult)
    problems = []
    if result.failures:
        first = result.failures[0]
        problems.append(
            f"{len(result.failures)} ticket(s) could not be swept; #{first.ticket}: {first.error}"
        )
    unsendable = [d for d in (result.mail.deliveries if result.mail else []) if d.unsendable]
    if unsendable:
        problems.append(
            f"{len(unsendable)} message(s) cannot be sent (see `deskctl mail outbox`); "
            f"#{unsendable[0].id}: {unsendable[0].error}"
        )
    return problems


def _summary(result: object, say: object) -> None:
    from deskctl.services.sweep import SweepResult

    assert isinstance(result, SweepResult) and callable(say)
    for failure in result.failures:
        say(f"#{failure.ticket} not swept: {failure.error}")
    report = result.mail
    if report is not None:
        for d in report.deliveries:
            state = "sent" if d.ok else ("failed" if d.unsendable else "deferred") + f" ({d.error})"
            say(f"mail #{d.id} to {d.recipient}: {state}")
        if report.pending:
            say(f"{report.pending} message(s) wait in the outbox; the next sweep retries")
    elif result.dry_run and result.mail_pending:
        say(f"would deliver {result.mail_pending} pending message(s)")
    if not result.actions and not result.failures:
        say("nothing due")
