"""Business calendars for people (a month grid, a list) and scripts (JSON, TSV)."""

from __future__ import annotations

import calendar as stdlib_calendar
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from deskctl.domain.durations import format_duration
from deskctl.domain.policy import WEEKDAYS, CalendarSpec, Interval, Policy

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def clock_text(seconds: int) -> str:
    """Seconds from local midnight as ``HH:MM`` (``HH:MM:SS`` when needed); 86400 is 24:00."""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _time_seconds(t: time) -> int:
    if t == time.max:
        return 86400
    return t.hour * 3600 + t.minute * 60 + t.second


def interval_text(interval: Interval) -> str:
    return f"{clock_text(interval[0])}-{clock_text(interval[1])}"


def week_summary(spec: CalendarSpec) -> str:
    """Weekly hours with runs of equal days grouped: ``Mon-Fri 08:30-12:00 13:30-17:30``."""
    if spec.always_open:
        return "24x7"
    parts: list[str] = []
    day = 0
    while day < 7:
        hours = spec.hours.get(day, ())
        last = day
        while last + 1 < 7 and spec.hours.get(last + 1, ()) == hours:
            last += 1
        if hours:
            days = DAY_NAMES[day] if last == day else f"{DAY_NAMES[day]}-{DAY_NAMES[last]}"
            parts.append(f"{days} {' '.join(interval_text(i) for i in hours)}")
        day = last + 1
    return ", ".join(parts) or "closed"


def calendar_rows(policy: Policy) -> list[dict[str, Any]]:
    """``calendar list``: one row per calendar of the policy, with the plans that use it."""
    rows = []
    for name, spec in policy.calendars.items():
        rows.append(
            {
                "name": name,
                "policy": policy.name,
                "timezone": spec.timezone,
                "always_open": spec.always_open,
                "hours": {
                    WEEKDAYS[d]: [interval_text(i) for i in spec.hours.get(d, ())]
                    for d in range(7)
                    if spec.hours.get(d)
                },
                "summary": week_summary(spec),
                "holidays": list(spec.holidays),
                "extra_holidays": [d.isoformat() for d in spec.extra_holidays],
                "closed_dates": [d.isoformat() for d in spec.closed_dates],
                "plans": [p.name for p in policy.plans.values() if p.calendar == name],
            }
        )
    return rows


def month_doc(calendar: Any, year: int, month: int) -> dict[str, Any]:
    """Every local day of the month: open hours, holiday name, business seconds."""
    spec = calendar.spec
    zone = ZoneInfo(spec.timezone)
    days = []
    total = 0
    last = stdlib_calendar.monthrange(year, month)[1]
    for n in range(1, last + 1):
        day = date(year, month, n)
        start = datetime.combine(day, time(0), zone)
        end = datetime.combine(day + timedelta(days=1), time(0), zone)
        seconds = calendar.elapsed(start, end)
        total += seconds
        hours = calendar.day_hours(day)
        days.append(
            {
                "date": day.isoformat(),
                "weekday": WEEKDAYS[day.weekday()],
                "open": [
                    f"{clock_text(_time_seconds(a))}-{clock_text(_time_seconds(b))}"
                    for a, b in hours
                ],
                "holiday": calendar.holiday_name(day),
                "business_seconds": seconds,
            }
        )
    return {
        "calendar": spec.name,
        "timezone": spec.timezone,
        "always_open": spec.always_open,
        "month": f"{year:04d}-{month:02d}",
        "business_seconds": total,
        "days": days,
    }


def _day_note(day: Mapping[str, Any]) -> str:
    if day["holiday"]:
        return str(day["holiday"])
    return " ".join(day["open"]) or "closed"


def month_lines(doc: Mapping[str, Any]) -> list[str]:
    """Plain text, one tab-separated line per day: date, weekday, hours, holiday, total."""
    lines = []
    for day in doc["days"]:
        hours = " ".join(day["open"]) or "closed"
        lines.append(
            "\t".join(
                (
                    day["date"],
                    day["weekday"],
                    hours,
                    day["holiday"] or "",
                    format_duration(day["business_seconds"]),
                )
            )
        )
    return lines


def print_month(doc: Mapping[str, Any], spec: CalendarSpec) -> None:
    """A month grid, weeks by rows; holidays named. Weekdays the calendar never opens get
    no column (a caption says so), so a month fits an 80-column terminal."""
    from rich.table import Table

    from deskctl.render.output import stdout_console

    year, month = (int(x) for x in doc["month"].split("-"))
    open_days = [d for d in range(7) if spec.always_open or spec.hours.get(d)] or list(range(7))
    # A Sunday-to-Thursday desk reads its week from Sunday.
    first = 6 if 6 in open_days and 5 not in open_days else 0
    order = [(first + i) % 7 for i in range(7)]
    shown = [d for d in order if d in open_days]
    closed = [DAY_NAMES[d] for d in order if d not in open_days]
    title = (
        f"{doc['calendar']} — {stdlib_calendar.month_name[month]} {year} ({doc['timezone']}), "
        f"{format_duration(doc['business_seconds'])} open"
    )
    table = Table(
        title=title,
        caption=f"closed every {', '.join(closed)}" if closed else None,
        show_lines=True,
        header_style="bold",
        title_justify="left",
        caption_justify="left",
    )
    for d in shown:
        table.add_column(DAY_NAMES[d], vertical="top")
    by_date = {d["date"]: d for d in doc["days"]}
    weeks = stdlib_calendar.Calendar(firstweekday=first).monthdatescalendar(year, month)
    for week in weeks:
        cells = []
        for day in week:
            if day.weekday() not in shown:
                continue
            info = by_date.get(day.isoformat())
            cells.append("" if info is None else _cell(day, info))
        table.add_row(*cells)
    stdout_console().print(table)


def _cell(day: date, info: Mapping[str, Any]) -> str:
    from rich.markup import escape

    head = f"[bold]{day.day}[/bold]"
    if info["holiday"]:
        return f"{head}\n[red]{escape(str(info['holiday']))}[/red]"
    if not info["open"]:
        return f"[dim]{day.day}\nclosed[/dim]"
    if info["open"] == ["00:00-24:00"]:
        return f"{head}\n24h"
    return head + "\n" + "\n".join(info["open"])


def print_calendar_list(rows: Sequence[Mapping[str, Any]], fmt: str) -> None:
    from deskctl.render.output import Column, emit_rows

    def joined(value: Any) -> str:
        return ", ".join(value) if value else ""

    several = len({row["policy"] for row in rows}) > 1
    columns = [
        *([Column("policy", "POLICY")] if several else []),
        Column("name", "CALENDAR"),
        Column("timezone", "ZONE"),
        Column("summary", "HOURS"),
        Column("holidays", "HOLIDAYS", render=joined),
        Column("plans", "PLANS", render=joined),
    ]
    emit_rows(rows, columns, fmt, json_doc=list(rows), id_key="name", empty="no calendars")
