"""Business calendar engine: rules §5 worked examples, conventions, DST, holidays, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from deskctl.domain.calendar import build_calendar, calendar_from_policy, check_holiday_codes
from deskctl.domain.policy import CalendarSpec, Policy, SeverityScheme
from deskctl.errors import BadInput, NotFound

HOUR = 3600
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NEW_YORK = ZoneInfo("America/New_York")
ROME = ZoneInfo("Europe/Rome")
AMMAN = ZoneInfo("Asia/Amman")


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * HOUR + int(minutes) * 60


def span(text: str) -> tuple[int, int]:
    start, end = text.split("-")
    return hm(start), hm(end)


def weekly(days: range | list[int], *spans: str) -> dict[int, tuple[tuple[int, int], ...]]:
    return {day: tuple(span(s) for s in spans) for day in days}


MEDISOFT_HOURS = weekly(range(5), "08:30-12:00", "13:30-17:30")
MEDISOFT = CalendarSpec(
    name="medisoft", timezone="America/Sao_Paulo", hours=MEDISOFT_HOURS, holidays=("BR",)
)


def sp(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    """A São Paulo wall-clock instant."""
    return datetime(y, mo, d, h, mi, s, us, tzinfo=SAO_PAULO)


@pytest.fixture
def medisoft():
    return build_calendar(MEDISOFT)


# -- docs/rules.md §5 worked examples ---------------------------------------------------------

WORKED = [
    (sp(2026, 3, 5, 16, 0), 8, sp(2026, 3, 6, 16, 30)),
    (sp(2026, 3, 5, 16, 0), 24, sp(2026, 3, 10, 17, 30)),
    (sp(2026, 3, 7, 10, 0), 8, sp(2026, 3, 10, 9, 0)),  # Saturday
    (sp(2026, 3, 4, 12, 30), 8, sp(2026, 3, 5, 14, 0)),  # lunch break
    (sp(2026, 4, 2, 15, 0), 8, sp(2026, 4, 6, 15, 30)),  # Good Friday closed
]


@pytest.mark.parametrize(("opened", "hours", "expected"), WORKED)
def test_spec_worked_examples(medisoft, opened, hours, expected):
    due = medisoft.due(opened, hours * HOUR)
    assert due == expected
    assert due.tzinfo is UTC


@pytest.mark.parametrize(("opened", "hours", "expected"), WORKED)
def test_elapsed_to_worked_deadline_is_the_target(medisoft, opened, hours, expected):
    assert medisoft.elapsed(opened, expected) == hours * HOUR
    assert medisoft.elapsed(opened, expected - timedelta(seconds=1)) == hours * HOUR - 1


# -- conventions -----------------------------------------------------------------------


def test_deadline_on_closing_time_is_the_closing_time(medisoft):
    assert medisoft.due(sp(2026, 3, 5, 16, 0), 90 * 60) == sp(2026, 3, 5, 17, 30)
    assert medisoft.due(sp(2026, 3, 4, 8, 30), hm("03:30")) == sp(2026, 3, 4, 12, 0)


def test_one_second_past_closing_waits_for_next_opening(medisoft):
    assert medisoft.due(sp(2026, 3, 5, 16, 0), 90 * 60 + 1) == sp(2026, 3, 6, 8, 30, 1)


def test_start_before_opening_counts_from_opening(medisoft):
    assert medisoft.due(sp(2026, 3, 5, 6, 0), HOUR) == sp(2026, 3, 5, 9, 30)
    assert medisoft.elapsed(sp(2026, 3, 5, 6, 0), sp(2026, 3, 5, 9, 30)) == HOUR


def test_due_zero_is_start_when_open_else_next_opening(medisoft):
    open_at = sp(2026, 3, 5, 10, 15, 7, 250000)
    assert medisoft.due(open_at, 0) == open_at
    assert medisoft.due(sp(2026, 3, 7, 10, 0), 0) == sp(2026, 3, 9, 8, 30)
    assert medisoft.due(sp(2026, 3, 5, 12, 0), 0) == sp(2026, 3, 5, 13, 30)


def test_elapsed_is_zero_when_end_not_after_start(medisoft):
    at = sp(2026, 3, 5, 10, 0)
    assert medisoft.elapsed(at, at) == 0
    assert medisoft.elapsed(at, at - timedelta(hours=5)) == 0


def test_elapsed_over_weekend_and_lunch(medisoft):
    assert medisoft.elapsed(sp(2026, 3, 6, 17, 0), sp(2026, 3, 9, 9, 0)) == HOUR
    assert medisoft.elapsed(sp(2026, 3, 4, 11, 0), sp(2026, 3, 4, 14, 0)) == 90 * 60


def test_instants_in_any_zone_give_the_same_answers(medisoft):
    local = sp(2026, 3, 5, 16, 0)
    as_utc = local.astimezone(UTC)
    as_tokyo = local.astimezone(ZoneInfo("Asia/Tokyo"))
    assert medisoft.due(as_tokyo, 8 * HOUR) == medisoft.due(as_utc, 8 * HOUR)
    assert medisoft.elapsed(as_tokyo, sp(2026, 3, 6, 9, 0)) == 2 * HOUR


def test_business_time_counts_whole_seconds(medisoft):
    start = sp(2026, 3, 5, 10, 0, 0, 700000)
    end = sp(2026, 3, 5, 10, 0, 2, 200000)
    assert medisoft.elapsed(start, end) == 2


def test_whole_year_2026(medisoft):
    # 2026 has 261 weekdays; BR national holidays on a weekday: Jan 1, Apr 3, Apr 21,
    # May 1, Sep 7, Oct 12, Nov 2, Nov 20, Dec 25 (Nov 15 is a Sunday) -> 252 days of 7.5 h.
    total = 252 * hm("07:30")
    start = sp(2026, 1, 1)
    end = sp(2027, 1, 1)
    assert medisoft.elapsed(start, end) == total
    assert medisoft.due(start, total) == sp(2026, 12, 31, 17, 30)


def test_years_loaded_in_either_order_agree(medisoft):
    fresh = build_calendar(
        CalendarSpec(name="fresh", timezone="America/Sao_Paulo", hours=MEDISOFT_HOURS)
    )
    later = fresh.elapsed(sp(2030, 5, 1), sp(2030, 5, 8))
    earlier = fresh.elapsed(sp(2021, 5, 3), sp(2021, 5, 10))
    whole = fresh.elapsed(sp(2021, 5, 3), sp(2030, 5, 8))
    assert later == earlier == 5 * hm("07:30")
    assert whole == fresh.elapsed(sp(2021, 5, 3), sp(2025, 1, 1)) + fresh.elapsed(
        sp(2025, 1, 1), sp(2030, 5, 8)
    )


def test_is_open_and_next_open(medisoft):
    assert medisoft.is_open(sp(2026, 3, 5, 8, 30))
    assert medisoft.is_open(sp(2026, 3, 5, 11, 59, 59))
    assert not medisoft.is_open(sp(2026, 3, 5, 12, 0))
    assert not medisoft.is_open(sp(2026, 4, 3, 10, 0))  # Good Friday
    at = sp(2026, 3, 5, 9, 0)
    assert medisoft.next_open(at) == at
    assert medisoft.next_open(sp(2026, 3, 5, 17, 30)) == sp(2026, 3, 6, 8, 30)
    assert medisoft.next_open(sp(2026, 4, 2, 18, 0)) == sp(2026, 4, 6, 8, 30)


def test_open_intervals(medisoft):
    got = medisoft.open_intervals(sp(2026, 3, 5, 10, 0), sp(2026, 3, 6, 9, 0))
    assert got == [
        (sp(2026, 3, 5, 10, 0), sp(2026, 3, 5, 12, 0)),
        (sp(2026, 3, 5, 13, 30), sp(2026, 3, 5, 17, 30)),
        (sp(2026, 3, 6, 8, 30), sp(2026, 3, 6, 9, 0)),
    ]
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in got)
    assert medisoft.open_intervals(sp(2026, 3, 7), sp(2026, 3, 8)) == []


def test_holiday_name_and_day_hours(medisoft):
    assert medisoft.holiday_name(date(2026, 4, 3)) == "Good Friday"
    assert medisoft.holiday_name(date(2026, 4, 2)) is None
    assert medisoft.day_hours(date(2026, 4, 3)) == []
    assert medisoft.day_hours(date(2026, 3, 7)) == []  # Saturday
    assert medisoft.day_hours(date(2026, 4, 2)) == [
        (time(8, 30), time(12, 0)),
        (time(13, 30), time(17, 30)),
    ]


# -- 24:00, explicit closures, subdivisions, 24x7 ---------------------------------------


def test_24h_end_runs_across_midnight():
    night = build_calendar(
        CalendarSpec(
            name="night", timezone="UTC", hours={0: (span("20:00-24:00"),), 1: ((0, hm("04:00")),)}
        )
    )
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    assert night.due(monday + timedelta(hours=23), 2 * HOUR) == monday + timedelta(hours=25)
    assert night.open_intervals(monday + timedelta(hours=19), monday + timedelta(hours=29)) == [
        (monday + timedelta(hours=20), monday + timedelta(hours=28))
    ]
    assert night.is_open(monday + timedelta(hours=24))
    assert night.day_hours(date(2026, 3, 2)) == [(time(20), time.max)]


def test_round_the_clock_days_merge_into_one_stretch():
    week = build_calendar(
        CalendarSpec(name="wk", timezone="Europe/Rome", hours=weekly(range(7), "00:00-24:00"))
    )
    start = datetime(2026, 6, 1, 10, tzinfo=ROME)
    end = datetime(2026, 6, 4, 10, tzinfo=ROME)
    assert week.open_intervals(start, end) == [(start, end)]
    assert week.elapsed(start, end) == 72 * HOUR


def test_extra_holidays_and_closed_dates():
    spec = CalendarSpec(
        name="medisoft",
        timezone="America/Sao_Paulo",
        hours=MEDISOFT_HOURS,
        holidays=("BR",),
        extra_holidays=(date(2026, 12, 24),),
        closed_dates=(date(2026, 3, 6),),
    )
    cal = build_calendar(spec)
    assert cal.due(sp(2026, 3, 5, 16, 0), 8 * HOUR) == sp(2026, 3, 9, 16, 30)
    assert cal.due(sp(2026, 12, 23, 17, 0), HOUR) == sp(2026, 12, 28, 9, 0)
    assert cal.holiday_name(date(2026, 12, 24)) == "holiday"
    assert cal.holiday_name(date(2026, 3, 6)) == "closed"
    assert cal.day_hours(date(2026, 3, 6)) == []


def test_subdivision_holidays():
    # 9 July is a São Paulo state holiday, not a national one (a Thursday in 2026)
    state = build_calendar(
        CalendarSpec(
            name="sp", timezone="America/Sao_Paulo", hours=MEDISOFT_HOURS, holidays=("BR-SP",)
        )
    )
    nation = build_calendar(
        CalendarSpec(
            name="br", timezone="America/Sao_Paulo", hours=MEDISOFT_HOURS, holidays=("BR",)
        )
    )
    start = sp(2026, 7, 8, 17, 0)
    assert state.due(start, HOUR) == sp(2026, 7, 10, 9, 0)
    assert nation.due(start, HOUR) == sp(2026, 7, 9, 9, 0)
    assert state.holiday_name(date(2026, 7, 9)) is not None
    assert state.holiday_name(date(2026, 4, 3)) == "Good Friday"  # national days still apply
    new_york = build_calendar(
        CalendarSpec(
            name="ny", timezone="America/New_York", hours=MEDISOFT_HOURS, holidays=("US-NY",)
        )
    )
    assert new_york.holiday_name(date(2026, 2, 12)) == "Lincoln's Birthday"
    assert not new_york.is_open(datetime(2026, 2, 12, 10, tzinfo=NEW_YORK))


def test_always_open():
    always = build_calendar(CalendarSpec(name="always", timezone="UTC", always_open=True))
    start = datetime(2026, 3, 7, 22, 15, tzinfo=SAO_PAULO)  # a Saturday night
    assert always.due(start, 8 * HOUR) == start + timedelta(hours=8)
    assert always.elapsed(start, start + timedelta(days=3)) == 72 * HOUR
    assert always.is_open(start)
    assert always.next_open(start) == start
    assert always.day_hours(date(2026, 12, 25)) == [(time(0), time.max)]
    assert always.holiday_name(date(2026, 12, 25)) is None


# -- DST --------------------------------------------------------------------------------

ROUND_THE_CLOCK = weekly(range(7), "00:00-24:00")


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/New_York", date(2026, 3, 8), 23),
        ("America/New_York", date(2026, 11, 1), 25),
        ("Europe/Rome", date(2026, 3, 29), 23),
        ("Europe/Rome", date(2026, 10, 25), 25),
        ("America/Sao_Paulo", date(2018, 11, 4), 23),  # DST began at local midnight
        ("America/Sao_Paulo", date(2018, 2, 17), 25),  # 23:00-24:00 shown twice
        ("America/Sao_Paulo", date(2026, 3, 8), 24),  # no DST since 2019
    ],
)
def test_a_local_day_lasts_as_long_as_the_wall_clock_shows_it(zone, day, hours):
    cal = build_calendar(CalendarSpec(name="clock", timezone=zone, hours=ROUND_THE_CLOCK))
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    assert cal.elapsed(start, end) == hours * HOUR
    # open around the clock, business time is real time (aware subtraction in one zone
    # would give wall time, hence the UTC conversion)
    wide_start = (start - timedelta(days=2)).astimezone(UTC)
    wide_end = (end + timedelta(days=2)).astimezone(UTC)
    assert cal.elapsed(wide_start, wide_end) == (wide_end - wide_start).total_seconds()


def test_business_hours_do_not_move_with_dst():
    nine_to_five = weekly(range(5), "09:00-17:00")
    ny = build_calendar(CalendarSpec(name="ny", timezone="America/New_York", hours=nine_to_five))
    # Friday 16:00 EST (21:00 UTC); Monday is on EDT: 10:00 local is 14:00 UTC
    assert ny.due(datetime(2026, 3, 6, 16, tzinfo=NEW_YORK), 2 * HOUR) == datetime(
        2026, 3, 9, 14, tzinfo=UTC
    )
    rome = build_calendar(
        CalendarSpec(
            name="rome",
            timezone="Europe/Rome",
            hours=weekly(range(5), "09:00-13:00", "14:00-18:00"),
        )
    )
    friday = datetime(2026, 3, 27, 17, tzinfo=ROME)
    monday = datetime(2026, 3, 30, 10, tzinfo=ROME)
    assert rome.due(friday, 2 * HOUR) == monday
    assert monday.astimezone(UTC).hour == 8
    assert rome.elapsed(friday, monday) == 2 * HOUR


def test_spring_forward_gap_is_never_open():
    # Open Sundays 01:00-03:00 New York time; on 2026-03-08 the clock jumps 02:00 -> 03:00
    cal = build_calendar(
        CalendarSpec(name="gap", timezone="America/New_York", hours={6: (span("01:00-03:00"),)})
    )
    sunday = datetime(2026, 3, 8, tzinfo=NEW_YORK)
    assert cal.elapsed(sunday, sunday + timedelta(days=1)) == HOUR
    assert cal.due(sunday, HOUR) == datetime(2026, 3, 8, 7, tzinfo=UTC)  # 02:00 EST -> 03:00 EDT
    only_gap = build_calendar(
        CalendarSpec(name="gap2", timezone="America/New_York", hours={6: (span("02:00-03:00"),)})
    )
    assert only_gap.elapsed(sunday, sunday + timedelta(days=1)) == 0
    assert only_gap.due(sunday, 60) == datetime(2026, 3, 15, 2, 1, tzinfo=NEW_YORK)


def test_fall_back_repeated_hour_counts_twice():
    # New York 2026-11-01: 02:00 EDT -> 01:00 EST, so 01:00-03:00 shows for three hours
    cal = build_calendar(
        CalendarSpec(name="fold", timezone="America/New_York", hours={6: (span("01:00-03:00"),)})
    )
    sunday = datetime(2026, 11, 1, tzinfo=NEW_YORK)
    assert cal.elapsed(sunday, sunday + timedelta(days=1)) == 3 * HOUR
    assert cal.open_intervals(sunday, sunday + timedelta(days=1)) == [
        (datetime(2026, 11, 1, 5, tzinfo=UTC), datetime(2026, 11, 1, 8, tzinfo=UTC))
    ]


def test_sao_paulo_2018_ambiguous_half_hour_opens_twice():
    # 2018-02-18 00:00 BRST became 2018-02-17 23:00 BRT: 23:30-24:00 on Saturday shows twice
    cal = build_calendar(
        CalendarSpec(name="late", timezone="America/Sao_Paulo", hours={5: (span("23:30-24:00"),)})
    )
    got = cal.open_intervals(datetime(2018, 2, 17, tzinfo=UTC), datetime(2018, 2, 19, tzinfo=UTC))
    assert got == [
        (datetime(2018, 2, 18, 1, 30, tzinfo=UTC), datetime(2018, 2, 18, 2, 0, tzinfo=UTC)),
        (datetime(2018, 2, 18, 2, 30, tzinfo=UTC), datetime(2018, 2, 18, 3, 0, tzinfo=UTC)),
    ]


def test_sao_paulo_2018_dst_start_with_holiday(medisoft):
    # Thu 2018-11-01 17:00 (-03:00); Fri is All Souls' Day; DST starts Sunday 4 Nov:
    # Monday 09:00 is -02:00, 11:00 UTC
    start = datetime(2018, 11, 1, 17, tzinfo=SAO_PAULO)
    assert medisoft.due(start, HOUR) == datetime(2018, 11, 5, 11, tzinfo=UTC)


def test_sun_to_thu_calendar_amman():
    amman = build_calendar(
        CalendarSpec(
            name="amman", timezone="Asia/Amman", hours=weekly([6, 0, 1, 2, 3], "08:00-16:00")
        )
    )
    thursday = datetime(2026, 3, 5, 15, tzinfo=AMMAN)
    assert amman.due(thursday, 2 * HOUR) == datetime(2026, 3, 8, 9, tzinfo=AMMAN)
    assert not amman.is_open(datetime(2026, 3, 6, 10, tzinfo=AMMAN))  # Friday
    assert amman.is_open(datetime(2026, 3, 8, 10, tzinfo=AMMAN))  # Sunday
    assert amman.elapsed(thursday, datetime(2026, 3, 9, 8, tzinfo=AMMAN)) == 9 * HOUR


def test_round_trip_over_a_year(medisoft):
    start = sp(2026, 1, 1, 7, 13)
    for step in range(0, 365 * 24, 37):
        at = start + timedelta(hours=step)
        for seconds in (1, 1800, 8 * HOUR, 72 * HOUR):
            due = medisoft.due(at, seconds)
            assert medisoft.elapsed(at, due) == seconds
            assert medisoft.elapsed(at, due - timedelta(seconds=1)) == seconds - 1


# -- errors and policy lookup -----------------------------------------------------------


def test_negative_duration_is_bad_input(medisoft):
    with pytest.raises(BadInput, match="negative"):
        medisoft.due(sp(2026, 3, 5, 10), -1)


def test_naive_instant_is_bad_input(medisoft):
    with pytest.raises(BadInput, match="UTC offset"):
        medisoft.elapsed(datetime(2026, 3, 5, 10), datetime(2026, 3, 6, 10, tzinfo=UTC))


@pytest.mark.parametrize("code", ["XX", "BR-ZZ"])
def test_unknown_holiday_code_names_the_code(code):
    cal = build_calendar(
        CalendarSpec(name="bad", timezone="UTC", hours=MEDISOFT_HOURS, holidays=(code,))
    )
    with pytest.raises(BadInput, match=code):
        cal.due(datetime(2026, 3, 5, tzinfo=UTC), HOUR)
    with pytest.raises(BadInput, match=code):
        check_holiday_codes(["BR", code])


def test_unknown_time_zone_is_bad_input():
    with pytest.raises(BadInput, match="Mars/Olympus"):
        build_calendar(CalendarSpec(name="mars", timezone="Mars/Olympus", hours=MEDISOFT_HOURS))


def test_overlapping_hours_are_bad_input():
    with pytest.raises(BadInput, match="non-overlapping"):
        build_calendar(
            CalendarSpec(name="x", hours={0: (span("08:00-12:00"), span("11:00-13:00"))})
        )


def test_calendar_without_hours_never_falls_due():
    closed = build_calendar(CalendarSpec(name="closed", timezone="UTC"))
    at = datetime(2026, 3, 5, tzinfo=UTC)
    with pytest.raises(BadInput, match="no open hours"):
        closed.due(at, HOUR)
    with pytest.raises(BadInput, match="no open hours"):
        closed.next_open(at)
    assert closed.elapsed(at, at + timedelta(days=30)) == 0
    assert not closed.is_open(at)


def test_calendar_closed_for_decades_stops_searching():
    mondays = tuple(date(2026, 1, 5) + timedelta(weeks=n) for n in range(52 * 25))
    cal = build_calendar(
        CalendarSpec(
            name="never", timezone="UTC", hours={0: (span("09:00-10:00"),)}, closed_dates=mondays
        )
    )
    with pytest.raises(BadInput, match="within 20 years"):
        cal.due(datetime(2026, 1, 1, tzinfo=UTC), 60)


def test_calendar_from_policy():
    policy = Policy(
        name="medisoft",
        vendor="Medisoft",
        calendars={"medisoft": MEDISOFT},
        severities=SeverityScheme(order=("high", "medium", "low")),
        plans={},
    )
    cal = calendar_from_policy(policy, "medisoft")
    assert cal.spec == MEDISOFT
    assert calendar_from_policy(policy, "medisoft") is cal
    with pytest.raises(NotFound, match="no calendar rome in policy medisoft"):
        calendar_from_policy(policy, "rome")
