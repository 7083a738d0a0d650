"""The ``[calendars]`` table: time zones, business hours, holidays."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from deskctl.domain.policy import (
    WEEKDAYS,
    CalendarSpec,
    Interval,
)
from deskctl.domain.policy_file.errors import Path, format_path
from deskctl.domain.policy_file.reader import Reader, suggest

_HOLIDAY_CODE = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,5})?\Z")


_INTERVAL = re.compile(r"(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\Z")


def _span(start: int, end: int) -> str:
    return f"{start // 3600:02d}:{start % 3600 // 60:02d}-{end // 3600:02d}:{end % 3600 // 60:02d}"


class CalendarTables(Reader):
    """``[calendars]``."""

    def calendars(self, raw: object) -> dict[str, CalendarSpec]:
        t = self.names_table(raw, ("calendars",), "calendar")
        if not t:
            self.fail(("calendars",), "define at least one calendar, e.g. [calendars.office]")
        return {name: self.calendar(name, value, ("calendars", name)) for name, value in t.items()}

    def calendar(self, name: str, raw: object, path: Path) -> CalendarSpec:
        keys = ("timezone", "holidays", "extra_holidays", "closed_dates", "hours", "always_open")
        t = self.table(raw, path, keys=keys, required=("timezone",))
        timezone = self.timezone(t["timezone"], (*path, "timezone"))
        always_open = self.boolean(t.get("always_open", False), (*path, "always_open"))
        if always_open:
            for key in ("hours", "holidays", "extra_holidays", "closed_dates"):
                if key in t:
                    self.fail((*path, key), f"an always_open calendar takes no {key}: remove it")
            return CalendarSpec(name=name, timezone=timezone, always_open=True)
        if "hours" not in t:
            self.fail(
                path,
                f"no opening hours: add [{format_path((*path, 'hours'))}] or always_open = true",
            )
        hours = self.week(t["hours"], (*path, "hours"))
        codes: list[str] = []
        for index, item in enumerate(self.array(t.get("holidays", []), (*path, "holidays"))):
            code = self.string(item, (*path, "holidays", index))
            if not _HOLIDAY_CODE.match(code):
                self.fail(
                    (*path, "holidays", index),
                    f'{code!r} is not a holidays code like "BR" or "BR-SP" (country-subdivision)',
                )
            if code not in codes:
                codes.append(code)
        return CalendarSpec(
            name=name,
            timezone=timezone,
            hours=hours,
            holidays=tuple(codes),
            extra_holidays=self.days(t.get("extra_holidays", []), (*path, "extra_holidays")),
            closed_dates=self.days(t.get("closed_dates", []), (*path, "closed_dates")),
        )

    def timezone(self, value: object, path: Path) -> str:
        name = self.string(value, path)
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(
                path, f"unknown time zone {name!r}{suggest(name, sorted(available_timezones()))}"
            )
        return name

    def week(self, raw: object, path: Path) -> dict[int, tuple[Interval, ...]]:
        t = self.table(raw, path, keys=WEEKDAYS, what="weekday")
        hours: dict[int, tuple[Interval, ...]] = {}
        for day, value in t.items():
            intervals = self.day_hours(value, (*path, day))
            if intervals:
                hours[WEEKDAYS.index(day)] = intervals
        if not hours:
            self.fail(path, "every weekday is closed; give some hours or use always_open = true")
        return dict(sorted(hours.items()))

    def day_hours(self, raw: object, path: Path) -> tuple[Interval, ...]:
        spans: list[tuple[int, int, int]] = []
        for index, item in enumerate(self.array(raw, path)):
            start, end = self.interval(item, (*path, index))
            spans.append((start, end, index))
        spans.sort()
        merged: list[Interval] = []
        for position, (start, end, index) in enumerate(spans):
            if position and start < spans[position - 1][1]:
                before = spans[position - 1]
                self.fail(
                    (*path, max(index, before[2])),
                    f"{_span(start, end)} overlaps {_span(before[0], before[1])}",
                )
            if merged and merged[-1][1] == start:
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        return tuple(merged)

    def interval(self, value: object, path: Path) -> Interval:
        text = self.string(value, path)
        match = _INTERVAL.match(text.strip())
        if not match:
            self.fail(path, f'{text!r} is not an interval like "08:30-12:00"')
        sh, sm, eh, em = (int(part) for part in match.groups())
        if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em):
            self.fail(path, f"{text!r} is not a valid time of day (00:00 to 24:00)")
        start, end = sh * 3600 + sm * 60, eh * 3600 + em * 60
        if start >= end:
            self.fail(
                path,
                f"{text!r}: start must be before end (split a night shift at midnight: "
                '"22:00-24:00" today, "00:00-06:00" the next day)',
            )
        return start, end
