"""Business calendars: when a desk is open, and how much business time lies between instants.

A calendar (``CalendarSpec``) gives weekly open intervals in local time, an IANA zone,
holiday codes of the ``holidays`` package and explicit closed dates. The engine turns
each local year into sorted UTC open intervals with a running total of business
seconds, so ``due`` and ``elapsed`` are two binary searches whatever the span.

Conventions (docs/rules.md §5), the same for every method:

- Instants are aware datetimes; any zone is accepted, results are UTC. Business time
  has a resolution of one second: an instant counts from its whole second
  (microseconds are dropped), so ``elapsed`` is always a whole number of seconds.
- The desk is open at an instant when the calendar's local wall clock, read at that
  instant, shows an open time of an open date. This settles DST switch days
  without guessing: a local time skipped by a spring-forward jump is never shown, so
  it is never business time (an interval 01:00-03:00 over a 02:00->03:00 jump is one
  hour long); a local hour shown twice on a fall-back day is business time both
  times when it lies in open hours (the desk is staffed for that whole real time).
  Open hours themselves never move: 08:30 local stays 08:30 local all year.
- ``due(start, n)`` is the earliest instant at which ``n`` business seconds have
  elapsed since ``start``; a deadline landing exactly on a closing time *is* that
  closing time (17:30, not the next opening). A start outside open hours counts from
  the next opening. ``due(start, 0)`` is ``next_open(start)``: ``start`` itself
  when open, else the next opening.
- ``elapsed(start, end)`` is 0 when ``end`` is not after ``start``.
- Adjacent intervals merge: Mon 00:00-24:00 then Tue 00:00-24:00 is one stretch.
- ``always_open`` (24x7) ignores hours and holidays: elapsed is wall seconds and
  due is ``start + n`` seconds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from math import floor
from typing import Any
from zoneinfo import ZoneInfo

from deskctl.domain import holiday_tables
from deskctl.domain.policy import CalendarSpec, Interval, Policy
from deskctl.errors import BadInput, NotFound

DAY = 86400
# How far ahead to look for an opening before calling a calendar closed for good.
SEARCH_YEARS = 20
# Room kept around a loaded year: no zone is more than 26 h away from UTC.
_MARGIN = 2 * DAY
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Offsets are sampled this often when looking for DST transitions.
_OFFSET_STEP = 6 * 3600
_MIN_YEAR = 2
_MAX_YEAR = 9998
_CACHE_SIZE = 64

# starts, ends, business seconds before each start, after each end, complete-from, -to
_Tables = tuple[list[int], list[int], list[int], list[int], int, int]


def build_calendar(spec: CalendarSpec) -> BusinessCalendar:
    """The engine for ``spec``; equal specs share one (lazily filled) engine."""
    key = _spec_key(spec)
    calendar = _CACHE.get(key)
    if calendar is None:
        calendar = BusinessCalendar(spec)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = calendar
    return calendar


def calendar_from_policy(policy: Policy, name: str) -> BusinessCalendar:
    spec = policy.calendars.get(name)
    if spec is None:
        known = ", ".join(sorted(policy.calendars)) or "none"
        raise NotFound(f"no calendar {name} in policy {policy.name} (calendars: {known})")
    return build_calendar(spec)


def check_holiday_codes(codes: tuple[str, ...] | list[str]) -> None:
    """Raise BadInput naming the first code the ``holidays`` package does not know.

    For the policy loader, so a typo is reported when the file is loaded rather than
    at the first deadline computed.
    """
    for code in codes:
        _holiday_names(code, 2000)


class BusinessCalendar:
    """Answers business-time questions for one ``CalendarSpec``.

    Open intervals are kept as merged UTC epoch-second edges for a contiguous range
    of local years, loaded on demand in either direction (each year built once), with
    the business time before each start and after each end. Holiday codes are
    looked up, and so validated, at the first query that needs a year's tables: an
    unknown code raises BadInput then (``check_holiday_codes`` checks up front).
    """

    spec: CalendarSpec

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self._always = spec.always_open
        self._zone = _zone(spec)
        self._hours = _weekly_hours(spec)
        self._has_hours = any(self._hours)
        self._closed_extra = {day: "holiday" for day in spec.extra_holidays}
        for day in spec.closed_dates:
            self._closed_extra.setdefault(day, "closed")
        self._year_cache: dict[int, list[Interval]] = {}
        self._first_year = 0
        self._last_year = -1
        # One tuple, swapped whole when years are added, so a reader never sees half
        # an update: (starts, ends, cum, cum_end, lo, hi), where [lo, hi] is the UTC
        # range (inclusive) inside which the tables are complete.
        self._tables: _Tables = ([], [], [], [], 1, 0)

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.spec.name!r}, {self.spec.timezone!r})"

    # -- queries -------------------------------------------------------------------

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Business seconds in [start, end); 0 when end is not after start."""
        if start.tzinfo is None or end.tzinfo is None:
            raise BadInput("calendar: instants need a UTC offset")
        s = start.timestamp()
        e = end.timestamp()
        if e <= s:
            return 0
        return self.elapsed_epoch(floor(s), floor(e))

    def elapsed_epoch(self, s: int, e: int) -> int:
        """``elapsed`` between whole epoch seconds (callers that keep no datetimes)."""
        if e <= s:
            return 0
        if self._always:
            return e - s
        starts, ends, cum, _, lo, hi = self._tables
        if s < lo or e > hi:
            if not self._has_hours:
                return 0
            starts, ends, cum, _, lo, hi = self._cover(s, e)
        # business seconds before e, minus those before s
        i = bisect_right(starts, e) - 1
        if i < 0:
            return 0
        total = cum[i] + (e if e < ends[i] else ends[i]) - starts[i]
        j = bisect_right(starts, s) - 1
        if j >= 0:
            total -= cum[j] + (s if s < ends[j] else ends[j]) - starts[j]
        return total

    def due(self, start: datetime, seconds: int) -> datetime:
        """Earliest instant at which ``seconds`` business seconds have elapsed since start."""
        if seconds < 0:
            raise BadInput(f"calendar {self.spec.name}: negative duration {seconds}s")
        _check_aware(start)
        if self._always:
            return (start + timedelta(seconds=seconds)).astimezone(UTC)
        if seconds == 0:
            return self.next_open(start)
        return _utc(self.due_epoch(floor(start.timestamp()), seconds))

    def due_epoch(self, s: int, seconds: int) -> int:
        """``due`` from a whole epoch second, as a whole epoch second (the same instant
        ``due`` gives for a start without microseconds)."""
        if seconds < 0:
            raise BadInput(f"calendar {self.spec.name}: negative duration {seconds}s")
        if self._always:
            return s + seconds
        if seconds == 0:
            return self.next_open_epoch(s)
        self._need_hours()
        tables = self._cover(s, s)
        while True:
            starts, _, cum, cum_end, _, hi = tables
            target = _before(tables, s) + seconds
            i = bisect_left(cum_end, target)
            if i < len(starts):
                t = starts[i] + target - cum[i]
                if t <= hi:
                    return t
            tables = self._extend_for(s, target - (cum_end[-1] if cum_end else 0))

    def is_open(self, at: datetime) -> bool:
        _check_aware(at)
        if self._always:
            return True
        if not self._has_hours:
            return False
        t = floor(at.timestamp())
        starts, ends, *_ = self._cover(t, t)
        i = bisect_right(starts, t) - 1
        return i >= 0 and t < ends[i]

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself (in UTC) when open, else the next opening."""
        _check_aware(at)
        if self._always:
            return at.astimezone(UTC)
        t = floor(at.timestamp())
        opening = self.next_open_epoch(t)
        return at.astimezone(UTC) if opening == t else _utc(opening)

    def next_open_epoch(self, t: int) -> int:
        """``next_open`` of a whole epoch second: ``t`` when open, else the next opening."""
        if self._always:
            return t
        self._need_hours()
        tables = self._cover(t, t)
        while True:
            starts, ends, _, _, _, hi = tables
            i = bisect_right(starts, t) - 1
            if i >= 0 and t < ends[i]:
                return t
            if i + 1 < len(starts) and starts[i + 1] <= hi:
                return starts[i + 1]
            tables = self._extend_for(t, 1)

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Open stretches inside [start, end), clipped to it, as UTC instants."""
        _check_aware(start)
        _check_aware(end)
        start = start.astimezone(UTC)
        end = end.astimezone(UTC)
        if end <= start:
            return []
        if self._always:
            return [(start, end)]
        if not self._has_hours:
            return []
        s = floor(start.timestamp())
        e = floor(end.timestamp())
        starts, ends, *_ = self._cover(s, e + 1)
        out = []
        i = bisect_right(ends, s)
        while i < len(starts) and starts[i] <= e:
            first = max(start, _utc(starts[i]))
            last = min(end, _utc(ends[i]))
            if first < last:
                out.append((first, last))
            i += 1
        return out

    def holiday_name(self, day: date) -> str | None:
        """Why ``day`` is closed although a working weekday may be: the holiday's name
        (names of several codes joined by "; "), ``"holiday"`` for an explicit extra
        holiday, ``"closed"`` for an explicit closed date; None otherwise and always
        for a 24x7 calendar. Package names are in English (``language="en_US"``) so
        they do not depend on the machine's locale."""
        if self._always:
            return None
        names: list[str] = []
        for code in self.spec.holidays:
            name = _holiday_names(code, day.year).get(day)
            if name and name not in names:
                names.append(name)
        if names:
            return "; ".join(names)
        return self._closed_extra.get(day)

    def day_hours(self, day: date) -> list[tuple[time, time]]:
        """The local open hours of ``day`` as written in the policy ([] when closed).

        An end of 24:00 is shown as ``time.max`` (23:59:59.999999). These are the
        nominal hours: on a DST switch day the wall-clock rule of the module
        docstring decides which real instants they cover.
        """
        if self._always:
            return [(time(0), time.max)]
        intervals = self._hours[day.weekday()]
        if not intervals or self.holiday_name(day) is not None:
            return []
        return [(_clock(s), _clock(e)) for s, e in intervals]

    # -- tables --------------------------------------------------------------------

    def _need_hours(self) -> None:
        if not self._has_hours:
            raise BadInput(f"calendar {self.spec.name} has no open hours: nothing is ever due")

    def _cover(self, lo: int, hi: int) -> _Tables:
        """The tables, made complete over the UTC range [lo, hi] first if need be."""
        tables = self._tables
        if tables[4] <= lo and hi <= tables[5]:
            return tables
        first = _utc_year(lo) - 1
        last = _utc_year(hi) + 1
        if self._last_year >= self._first_year:
            first = min(first, self._first_year)
            last = max(last, self._last_year)
        return self._load(first, last)

    def _extend_for(self, t: int, missing: int) -> _Tables:
        """Load years past the tables' end, enough for about ``missing`` more seconds.

        Raises BadInput when SEARCH_YEARS after ``t`` hold no business time at all.
        """
        _, ends, _, cum_end, _, _ = self._tables
        have_after_t = bool(ends) and ends[-1] > t
        if not have_after_t and self._last_year > _utc_year(t) + SEARCH_YEARS:
            raise BadInput(
                f"calendar {self.spec.name} has no open hours within {SEARCH_YEARS} years "
                f"after {_utc(t).isoformat()}"
            )
        years = self._last_year - self._first_year + 1
        per_year = cum_end[-1] // years if cum_end else 0
        step = 1 if per_year <= 0 else missing // per_year + 1
        return self._load(self._first_year, self._last_year + min(step, SEARCH_YEARS))

    def _load(self, first: int, last: int) -> _Tables:
        if first < _MIN_YEAR or last > _MAX_YEAR:
            raise BadInput(f"calendar {self.spec.name}: date out of range (years 2..9998)")
        intervals: list[Interval] = []
        for year in range(first, last + 1):
            year_intervals = self._year_cache.get(year)
            if year_intervals is None:
                year_intervals = self._year_cache[year] = self._year_intervals(year)
            intervals.extend(year_intervals)
        # A zone may move its offset across New Year; sorting keeps the merge honest.
        intervals.sort()
        starts: list[int] = []
        ends: list[int] = []
        for a, b in intervals:
            if ends and a <= ends[-1]:
                if b > ends[-1]:
                    ends[-1] = b
            else:
                starts.append(a)
                ends.append(b)
        cum: list[int] = []
        cum_end: list[int] = []
        total = 0
        for a, b in zip(starts, ends, strict=True):
            cum.append(total)
            total += b - a
            cum_end.append(total)
        lo = _year_start(first) + _MARGIN
        hi = _year_start(last + 1) - _MARGIN
        self._tables = (starts, ends, cum, cum_end, lo, hi)
        self._first_year, self._last_year = first, last
        return self._tables

    def _year_intervals(self, year: int) -> list[Interval]:
        """UTC open intervals of the local dates of ``year`` (unmerged, sorted)."""
        first_day = _year_start(year) // DAY
        last_day = _year_start(year + 1) // DAY
        closed = self._closed_days(year)
        hours = self._hours
        out: list[Interval] = []
        for a, b, offset in _offset_segments(self.spec.timezone, year):
            # local days shown by the wall clock while this offset holds
            day_from = max(first_day, (a + offset) // DAY)
            day_to = min(last_day, (b + offset - 1) // DAY + 1)
            for day in range(day_from, day_to):
                intervals = hours[(day + 3) % 7]  # 1970-01-01 was a Thursday
                if not intervals or day in closed:
                    continue
                base = day * DAY - offset
                for s, e in intervals:
                    u0 = base + s
                    u1 = base + e
                    if u0 < a:
                        u0 = a
                    if u1 > b:
                        u1 = b
                    if u0 < u1:
                        out.append((u0, u1))
        return out

    def _closed_days(self, year: int) -> set[int]:
        """Epoch-day numbers of the closed dates of ``year``."""
        days = set(self._closed_extra)
        for code in self.spec.holidays:
            days.update(_holiday_names(code, year))
        return {day.toordinal() - _EPOCH_ORDINAL for day in days if day.year == year}


# -- helpers ---------------------------------------------------------------------------

_CACHE: dict[tuple[Any, ...], BusinessCalendar] = {}


def _before(tables: _Tables, t: int) -> int:
    """Business seconds from the start of the loaded tables to ``t``."""
    starts, ends, cum, _, _, _ = tables
    i = bisect_right(starts, t) - 1
    if i < 0:
        return 0
    end = ends[i]
    return cum[i] + (t if t < end else end) - starts[i]


def _spec_key(spec: CalendarSpec) -> tuple[Any, ...]:
    hours = tuple(sorted((day, tuple(map(tuple, ivs))) for day, ivs in spec.hours.items()))
    return (
        spec.name,
        spec.timezone,
        hours,
        tuple(spec.holidays),
        tuple(spec.extra_holidays),
        tuple(spec.closed_dates),
        spec.always_open,
    )


def _zone(spec: CalendarSpec) -> ZoneInfo:
    try:
        return ZoneInfo(spec.timezone)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise BadInput(
            f"calendar {spec.name}: unknown time zone {spec.timezone!r} "
            "(use an IANA name like America/Sao_Paulo)"
        ) from None


def _weekly_hours(spec: CalendarSpec) -> tuple[tuple[Interval, ...], ...]:
    week: list[tuple[Interval, ...]] = [()] * 7
    for weekday, intervals in spec.hours.items():
        if weekday not in range(7):
            raise BadInput(f"calendar {spec.name}: weekday {weekday!r} is not 0 (Mon) to 6 (Sun)")
        previous_end = -1
        clean = []
        for start, end in intervals:
            if not 0 <= start < end <= DAY or start < previous_end:
                raise BadInput(
                    f"calendar {spec.name}: open hours of weekday {weekday} must be sorted, "
                    f"non-overlapping intervals within 00:00-24:00 (got {start}-{end} seconds)"
                )
            previous_end = end
            clean.append((int(start), int(end)))
        week[weekday] = tuple(clean)
    return tuple(week)


@lru_cache(maxsize=256)
def _holiday_names(code: str, year: int) -> dict[date, str]:
    """Holidays of one ``holidays`` code ("BR", "BR-SP", "US-NY") in one year."""
    kept = holiday_tables.current()
    found = kept.get(code, year) if kept is not None else None
    if found is not None:
        return found
    table = _holidays_package(code, year)
    if kept is not None:
        kept.put(code, year, table)
    return table


def _holidays_package(code: str, year: int) -> dict[date, str]:
    import holidays  # slow to import: only when no kept table answers

    country, _, subdiv = code.strip().partition("-")
    try:
        table = holidays.country_holidays(
            country.upper(), subdiv=subdiv or None, years=year, language="en_US"
        )
    except (NotImplementedError, KeyError, ValueError):
        raise BadInput(
            f"unknown holidays code {code!r}: use a country or country-subdivision code "
            "of the holidays package, like BR, BR-SP or US-NY"
        ) from None
    return {day: name for day, name in table.items() if day.year == year}


@lru_cache(maxsize=512)
def _offset_segments(zone_key: str, year: int) -> tuple[tuple[int, int, int], ...]:
    """(start, end, utc_offset) pieces of constant offset covering local ``year``.

    The pieces span from two days before the local year to two days after, in UTC
    epoch seconds. Shared by every calendar of the zone.
    """
    zone = ZoneInfo(zone_key)

    def offset(u: int) -> int:
        delta = datetime.fromtimestamp(u, zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    lo = _year_start(year) - _MARGIN
    hi = _year_start(year + 1) + _MARGIN
    segments = []
    seg_start = lo
    current = offset(lo)
    u = lo
    while u < hi:
        nxt = min(u + _OFFSET_STEP, hi)
        if offset(nxt) != current:
            # the transition lies in (u, nxt]: find its exact second
            left, right = u, nxt
            while right - left > 1:
                mid = (left + right) // 2
                if offset(mid) == current:
                    left = mid
                else:
                    right = mid
            segments.append((seg_start, right, current))
            seg_start = right
            current = offset(right)
            u = right
        else:
            u = nxt
    segments.append((seg_start, hi, current))
    return tuple(segments)


def _check_aware(at: datetime) -> None:
    if at.tzinfo is None:
        raise BadInput("calendar: instants need a UTC offset")


def _utc(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _utc_year(t: int) -> int:
    # 365.2425-day years from 1970, good to a day; the callers keep a year of margin
    return 1970 + floor(t / 31556952)


def _year_start(year: int) -> int:
    """Epoch seconds of 1 January ``year`` 00:00 (UTC, or local as a naive reading)."""
    return (date(year, 1, 1).toordinal() - _EPOCH_ORDINAL) * DAY


def _clock(seconds: int) -> time:
    if seconds >= DAY:
        return time.max
    return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)
