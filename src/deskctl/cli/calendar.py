"""`deskctl calendar list | show | due | elapsed`: the policy's business calendars.

For people planning promises ("if it comes in now, when is 8 business hours?")
and for checking the engine against a wall calendar. Instants given without an
offset (``2026-03-05T16:00``, or a bare date for midnight) are read in the
calendar's own time zone; with an offset or ``Z`` they are exact.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, store_session, sub_app

calendar_app = sub_app("Business calendars: deadlines, business time, a month's open hours.")

PolicyOpt = typer.Option("--policy", help="Policy name, when several are loaded.")
NameArg = typer.Argument(help="Calendar name (see `deskctl calendar list`).")


def register(app: typer.Typer) -> None:
    app.add_typer(calendar_app, name="calendar")


def _calendar(name: str, policy_name: str | None) -> Any:
    """The named calendar: of --policy, else of the one policy that has a calendar so named."""
    from deskctl.domain.calendar import calendar_from_policy
    from deskctl.services import policies

    with store_session() as s:
        policy = policies.with_calendar(s, name, policy_name)
    return calendar_from_policy(policy, name)


def _instant(text: str, zone: str, what: str) -> Any:
    """An ISO-8601 instant; without an offset it is local time in ``zone``."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from deskctl import clock
    from deskctl.errors import BadInput

    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw[:-1] + "+00:00" if raw[-1:] in "Zz" else raw)
    except ValueError:
        raise BadInput(f"{what}: not an ISO-8601 instant or date: {text!r}") from None
    if value.tzinfo is not None:
        return clock.parse_instant(raw, what=what)
    from deskctl.domain.validate import instant_in_range

    local = value.replace(tzinfo=ZoneInfo(zone))
    if not 1970 <= value.year <= 2099:  # before converting: year 9999 would overflow
        raise BadInput(f"{what}: {text!r} is outside 1970-2099")
    return instant_in_range(local, what)


@calendar_app.command("list")
def list_(
    policy: Annotated[str | None, PolicyOpt] = None,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """List the calendars (of every policy, or of --policy): zone, weekly hours, holidays, plans.

    Examples: `deskctl calendar list`, `deskctl calendar due medisoft --in 8h`.
    """
    from deskctl.render.calendar import calendar_rows, print_calendar_list
    from deskctl.render.output import choose_format
    from deskctl.services import policies

    fmt = choose_format(json_out=json_out, csv_out=csv_out)
    with store_session() as s:
        chosen: list[str | None] = [policy] if policy else [*policies.names(s)] or [None]
        loaded = [policies.latest(s, name)[1] for name in chosen]
    print_calendar_list([row for p in loaded for row in calendar_rows(p)], fmt)


@calendar_app.command("show")
def show(
    name: Annotated[str, NameArg],
    month: Annotated[
        str | None, typer.Option("--month", help="YYYY-MM; default the current month.")
    ] = None,
    policy: Annotated[str | None, PolicyOpt] = None,
    json_out: bool = JsonOpt,
) -> None:
    """A month of the calendar: open hours per day, holidays named (plain lines when piped)."""
    import re
    from zoneinfo import ZoneInfo

    from deskctl import clock
    from deskctl.errors import BadInput
    from deskctl.render.calendar import month_doc, month_lines, print_month
    from deskctl.render.output import emit_json, is_terminal

    if month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month.strip()):
        raise BadInput(f"--month: not a month like 2026-04: {month!r}")
    cal = _calendar(name, policy)
    if month is None:
        # the program clock (DESKCTL_NOW) read in the calendar's zone
        today = clock.now().astimezone(ZoneInfo(cal.spec.timezone))
        year, mon = today.year, today.month
    else:
        year, mon = (int(x) for x in month.strip().split("-"))
    doc = month_doc(cal, year, mon)
    if json_out:
        emit_json(doc)
    elif is_terminal():
        print_month(doc, cal.spec)
    else:
        from deskctl.render.output import emit_lines

        emit_lines(month_lines(doc))


@calendar_app.command("due")
def due(
    name: Annotated[str, NameArg],
    from_: Annotated[
        str, typer.Option("--from", help="Start instant (ISO-8601; no offset: calendar time).")
    ],
    in_: Annotated[str, typer.Option("--in", help="Business time: 8h, 90m, 1h30m, 5400s.")],
    policy: Annotated[str | None, PolicyOpt] = None,
    json_out: bool = JsonOpt,
) -> None:
    """When DURATION of business time has elapsed since --from: the deadline."""
    from deskctl.clock import iso_z, local_text
    from deskctl.domain.durations import parse_duration
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json

    seconds = parse_duration(in_, what="--in")
    if seconds < 0:
        raise BadInput(f"--in: a duration of business time cannot be negative: {in_!r}")
    from deskctl.domain.policy_file import MAX_SPAN_SECONDS

    if seconds > MAX_SPAN_SECONDS:  # each business hour is walked: a typo would spin for ever
        raise BadInput(f"--in: {in_!r} is longer than a year (366d)")
    cal = _calendar(name, policy)
    start = _instant(from_, cal.spec.timezone, "--from")
    at = cal.due(start, seconds)
    if json_out:
        emit_json({"due_at": iso_z(at)})
    else:
        from deskctl.render.output import emit_text

        emit_text(f"{local_text(at, cal.spec.timezone)} ({cal.spec.timezone})  {iso_z(at)}")


@calendar_app.command("elapsed")
def elapsed(
    name: Annotated[str, NameArg],
    from_: Annotated[
        str, typer.Option("--from", help="Start instant (ISO-8601; no offset: calendar time).")
    ],
    to: Annotated[str, typer.Option("--to", help="End instant (same forms as --from).")],
    policy: Annotated[str | None, PolicyOpt] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Business seconds between --from and --to (0 when --to is not after --from)."""
    from deskctl.domain.durations import format_duration
    from deskctl.render.output import emit_json

    cal = _calendar(name, policy)
    start = _instant(from_, cal.spec.timezone, "--from")
    end = _instant(to, cal.spec.timezone, "--to")
    seconds = cal.elapsed(start, end)
    if json_out:
        emit_json({"seconds": seconds})
    else:
        from deskctl.render.output import emit_text

        emit_text(f"{seconds}\t{format_duration(seconds)}")
