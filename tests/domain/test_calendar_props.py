"""Property tests: the calendar engine against a minute-stepping reference.

The reference reads the calendar's wall clock at every UTC minute and asks whether
that local time of that local date is open: the rule the engine documents. Open
edges fall on whole minutes here (intervals on minute boundaries, zones whose
offsets and transitions are whole minutes), so a minute is open or closed as a whole.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import holidays
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deskctl.domain.calendar import build_calendar
from deskctl.domain.policy import CalendarSpec

DAY = 86400
MINUTE = 60
ZONES = ("America/Sao_Paulo", "Europe/Rome", "America/New_York", "UTC")
HOLIDAY_CODES = ((), ("BR",), ("IT",), ("US-NY",))
# Local dates of DST switches in 2017-2019, where starts are drawn more often.
SWITCHES = {
    "America/Sao_Paulo": ("2017-02-19", "2017-10-15", "2018-02-18", "2018-11-04", "2019-02-17"),
    "Europe/Rome": ("2017-03-26", "2017-10-29", "2018-03-25", "2018-10-28", "2019-03-31"),
    "America/New_York": ("2017-03-12", "2017-11-05", "2018-03-11", "2018-11-04", "2019-03-10"),
    "UTC": ("2018-01-01", "2018-12-31"),
}
FIRST = int(datetime(2017, 1, 1, tzinfo=UTC).timestamp())
LAST = int(datetime(2019, 12, 1, tzinfo=UTC).timestamp())
# Minutes near the local DST switches (00:00, 01:00-03:00, 23:00) and midnight ends.
SPECIAL_MINUTES = (0, 60, 90, 120, 150, 180, 1380, 1410, 1440)

FAST = settings(max_examples=100, deadline=None)


@st.composite
def day_intervals(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    count = draw(st.integers(1, 3))
    minute = st.one_of(st.sampled_from(SPECIAL_MINUTES), st.integers(0, 1440))
    edges = sorted(draw(st.sets(minute, min_size=2 * count, max_size=2 * count)))
    return tuple((edges[i] * MINUTE, edges[i + 1] * MINUTE) for i in range(0, 2 * count, 2))


@st.composite
def calendars(draw: st.DrawFn) -> tuple[CalendarSpec, int]:
    """A random calendar and an instant (epoch seconds) to start from."""
    zone = draw(st.sampled_from(ZONES))
    hours = {}
    for weekday in range(7):
        if draw(st.booleans()) or draw(st.booleans()):
            hours[weekday] = draw(day_intervals())
    assume(hours)
    near_switch = st.builds(
        lambda day, shift: int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()) + shift,
        st.sampled_from(SWITCHES[zone]),
        st.integers(-6 * DAY, 2 * DAY),
    )
    start = draw(st.one_of(near_switch, st.integers(FIRST, LAST)))
    around = st.integers(-2, 12).map(
        lambda n: datetime.fromtimestamp(start, UTC).date() + timedelta(days=n)
    )
    spec = CalendarSpec(
        name="random",
        timezone=zone,
        hours=hours,
        holidays=draw(st.sampled_from(HOLIDAY_CODES)),
        extra_holidays=tuple(draw(st.lists(around, max_size=2))),
        closed_dates=tuple(draw(st.lists(around, max_size=2))),
    )
    return spec, start


# -- the reference -----------------------------------------------------------------------


@lru_cache(maxsize=64)
def _package_holidays(codes: tuple[str, ...], year: int) -> frozenset[date]:
    days: set[date] = set()
    for code in codes:
        country, _, subdiv = code.partition("-")
        days.update(holidays.country_holidays(country, subdiv=subdiv or None, years=year))
    return frozenset(days)


class Reference:
    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)
        self.explicit = set(spec.extra_holidays) | set(spec.closed_dates)

    def minute_open(self, u: int) -> bool:
        local = datetime.fromtimestamp(u, self.zone)
        day = local.date()
        if day in self.explicit or day in _package_holidays(self.spec.holidays, day.year):
            return False
        second = local.hour * 3600 + local.minute * 60
        return any(s <= second < e for s, e in self.spec.hours.get(local.weekday(), ()))

    def elapsed(self, s: int, e: int) -> int:
        total = 0
        m = s - s % MINUTE
        while m < e:
            if self.minute_open(m):
                total += min(m + MINUTE, e) - max(m, s)
            m += MINUTE
        return total

    def due(self, s: int, n: int) -> int:
        m = s - s % MINUTE
        for _ in range(60 * 24 * 120):
            if self.minute_open(m):
                begin = max(m, s)
                if n <= m + MINUTE - begin:
                    return begin + n
                n -= m + MINUTE - begin
            m += MINUTE
        raise AssertionError("reference: no deadline within 120 days")


def weekly_open_seconds(spec: CalendarSpec) -> int:
    return sum(e - s for intervals in spec.hours.values() for s, e in intervals)


def utc(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


# -- properties ----------------------------------------------------------------------------


@FAST
@given(calendars(), st.data())
def test_due_matches_reference(cal_start, data):
    spec, start = cal_start
    n = data.draw(st.integers(0, weekly_open_seconds(spec)), label="seconds")
    got = build_calendar(spec).due(utc(start), n)
    assert got == utc(Reference(spec).due(start, n))


@FAST
@given(calendars(), st.integers(0, 10 * DAY))
def test_elapsed_matches_reference(cal_start, length):
    spec, start = cal_start
    got = build_calendar(spec).elapsed(utc(start), utc(start + length))
    assert got == Reference(spec).elapsed(start, start + length)


@FAST
@given(calendars(), st.integers(0, 400 * 3600))
def test_elapsed_to_due_is_the_target(cal_start, n):
    spec, start = cal_start
    cal = build_calendar(spec)
    due = cal.due(utc(start), n)
    assert cal.elapsed(utc(start), due) == n
    if n:
        assert cal.elapsed(utc(start), due - timedelta(seconds=1)) == n - 1


@FAST
@given(calendars(), st.integers(0, 200 * 3600), st.integers(0, 200 * 3600))
def test_due_is_monotonic_in_the_target(cal_start, a, b):
    spec, start = cal_start
    cal = build_calendar(spec)
    small, large = sorted((a, b))
    assert cal.due(utc(start), small) <= cal.due(utc(start), large)


@FAST
@given(calendars(), st.integers(0, 90 * DAY), st.integers(0, 90 * DAY))
def test_elapsed_is_additive_over_a_split_point(cal_start, a, b):
    spec, start = cal_start
    cal = build_calendar(spec)
    middle, end = sorted((start + a, start + b))
    whole = cal.elapsed(utc(start), utc(end))
    assert whole == cal.elapsed(utc(start), utc(middle)) + cal.elapsed(utc(middle), utc(end))
    assert 0 <= whole <= end - start


@FAST
@given(calendars(), st.integers(0, 10 * DAY))
def test_open_intervals_sum_to_elapsed_and_are_open(cal_start, length):
    spec, start = cal_start
    cal = build_calendar(spec)
    stretches = cal.open_intervals(utc(start), utc(start + length))
    total = sum(int((b - a).total_seconds()) for a, b in stretches)
    assert total == cal.elapsed(utc(start), utc(start + length))
    for (a, b), (c, _) in pairwise(stretches):
        assert a < b < c  # sorted, disjoint and merged
    for a, b in stretches:
        assert cal.is_open(a)
        assert cal.is_open(b - timedelta(seconds=1))
