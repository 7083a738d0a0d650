"""The policy file loader: what it builds, and how it reports a bad file."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskctl.domain.policy import ClockRules, MetricSpec
from deskctl.domain.policy_file import PolicyError, parse_policy, policy_digest
from deskctl.errors import BadInput, ExitStatus

MINIMAL = """\
[policy]
name = "acme"
vendor = "Acme Software"

[calendars.office]
timezone = "Europe/Rome"
[calendars.office.hours]
mon = ["09:00-13:00", "14:00-18:00"]
tue = ["09:00-13:00", "14:00-18:00"]

[severities]
order = ["high", "low"]

[plans.basic]
calendar = "office"
[plans.basic.sla.response]
high = "4h"
low = "2d"
"""


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """1-based number of the line holding ``fragment`` (its n-th occurrence)."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(hits) >= occurrence, f"{fragment!r} not in the test text"
    return hits[occurrence - 1]


def error_of(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source="acme.toml")
    return caught.value


def with_section(section: str) -> str:
    return MINIMAL + "\n" + section


# -- what a valid file builds ----------------------------------------------------------------


def test_minimal_policy_takes_documented_defaults() -> None:
    policy = parse_policy(MINIMAL)
    assert policy.name == "acme"
    assert policy.vendor == "Acme Software"
    assert policy.channels == ("portal", "email", "phone")
    assert policy.reopen_window == 14 * 86400
    # resolve counts as the first response unless [clock] resolve_is_response = false
    assert policy.metrics == {"response": MetricSpec("response", stop=("responded", "resolved"))}
    assert policy.clock == ClockRules()
    assert policy.closure is None and policy.rates is None
    office = policy.calendars["office"]
    assert office.timezone == "Europe/Rome"
    assert office.hours == {0: ((9 * 3600, 13 * 3600), (14 * 3600, 18 * 3600))} | {
        1: ((9 * 3600, 13 * 3600), (14 * 3600, 18 * 3600))
    }
    plan = policy.plans["basic"]
    assert plan.billing == "included"
    assert plan.sla["response"]["high"].goal == plan.sla["response"]["high"].limit == 4 * 3600
    assert plan.sla["response"]["low"].limit == 2 * 86400


def test_spec_calendar_snippet_parses_as_written() -> None:
    text = MINIMAL.replace(
        '[calendars.office]\ntimezone = "Europe/Rome"',
        """[calendars.medisoft]
timezone = "America/Sao_Paulo"
holidays = ["BR"]              # country or country-subdivision codes of the holidays package
extra_holidays = ["2026-12-24"]
closed_dates = []              # optional extra closures
[calendars.medisoft.hours]     # weekday -> open intervals, local time, end may be 24:00
mon = ["08:30-12:00", "13:30-17:30"]
tue = ["08:30-12:00", "13:30-17:30"]
[calendars.always]
timezone = "UTC"
always_open = true             # 24x7
[calendars.office]
timezone = "Europe/Rome\"""",
    )
    policy = parse_policy(text)
    medisoft = policy.calendars["medisoft"]
    assert medisoft.holidays == ("BR",)
    assert medisoft.extra_holidays == (date(2026, 12, 24),)
    assert medisoft.closed_dates == ()
    assert medisoft.hours[1] == ((8 * 3600 + 1800, 12 * 3600), (13 * 3600 + 1800, 17 * 3600 + 1800))
    assert 2 not in medisoft.hours  # a missing weekday is closed
    always = policy.calendars["always"]
    assert always.always_open and always.hours == {}


def test_day_may_end_at_midnight_and_touching_intervals_merge() -> None:
    text = MINIMAL.replace(
        'tue = ["09:00-13:00", "14:00-18:00"]',
        'sat = ["12:00-24:00", "00:00-06:00", "06:00-08:00"]',
    )
    hours = parse_policy(text).calendars["office"].hours
    assert hours[5] == ((0, 8 * 3600), (12 * 3600, 86400))


def test_dates_may_be_toml_dates_or_iso_strings() -> None:
    text = MINIMAL.replace(
        'timezone = "Europe/Rome"',
        'timezone = "Europe/Rome"\nextra_holidays = [2026-08-14, "2026-12-24"]',
    )
    assert parse_policy(text).calendars["office"].extra_holidays == (
        date(2026, 8, 14),
        date(2026, 12, 24),
    )


def test_one_target_for_every_severity_and_ranges() -> None:
    text = with_section(
        '[metrics.report]\n[plans.basic.sla.report]\nhigh = { goal = "5h", limit = "9h" }\n'
    ).replace(
        '[plans.basic.sla.response]\nhigh = "4h"\nlow = "2d"', '[plans.basic.sla]\nresponse = "8h"'
    )
    policy = parse_policy(text)
    sla = policy.plans["basic"].sla
    assert {sev: t.limit for sev, t in sla["response"].items()} == {
        "high": 8 * 3600,
        "low": 8 * 3600,
    }
    assert sla["report"]["high"].goal == 5 * 3600 and sla["report"]["high"].limit == 9 * 3600
    assert sla["report"]["high"].is_range
    # a known metric name brings its obvious start and stop events
    assert policy.metrics["report"] == MetricSpec(
        "report", "report_requested", ("report_delivered",)
    )


def test_reopen_window_false_means_no_limit_and_zero_forbids_reopening() -> None:
    off = MINIMAL.replace('vendor = "Acme Software"', 'vendor = "Acme"\nreopen_window = false')
    assert parse_policy(off).reopen_window is None
    zero = MINIMAL.replace('vendor = "Acme Software"', 'vendor = "Acme"\nreopen_window = "0s"')
    assert parse_policy(zero).reopen_window == 0


def test_rates_are_decimals_and_vat_rate_reads_percent_or_fraction() -> None:
    text = with_section(
        """[rates]
currency = "EUR"
default_vat_rate = "22%"
incident_price = 250
[rates.current]
price = "45.00"
includes = "20m"
[rates.overtime]
price = "35"
"""
    )
    rates = parse_policy(text).rates
    assert rates is not None
    assert rates.default_vat_rate == Decimal("0.22")
    assert rates.incident_price == Decimal("250.00")
    assert rates.current is not None and rates.current.price == Decimal("45.00")
    assert rates.current.included_minutes == 20
    assert rates.overtime_price == Decimal("35.00") and rates.overtime_block_minutes == 30
    fraction = text.replace('"22%"', '"0.1"')
    fraction_rates = parse_policy(fraction).rates
    assert fraction_rates is not None and fraction_rates.default_vat_rate == Decimal("0.1")


@settings(max_examples=100, deadline=None)
@given(cents=st.integers(min_value=0, max_value=10**9))
def test_money_strings_keep_every_cent(cents: int) -> None:
    text = f"{cents // 100}.{cents % 100:02d}"
    policy = parse_policy(
        with_section(f'[rates]\ncurrency = "EUR"\n[rates.hourly]\nservice = "{text}"\n')
    )
    assert policy.rates is not None
    assert policy.rates.hourly["service"] * 100 == cents


@settings(max_examples=150, deadline=None)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=24 * 4), min_size=2, max_size=12, unique=True),
    order=st.randoms(use_true_random=False),
)
def test_disjoint_intervals_in_any_order_load_sorted(cuts: list[int], order: Random) -> None:
    bounds = sorted(cuts)
    # every other gap is open: [b0,b1], [b2,b3], ... never touch, so nothing merges
    spans = [(bounds[i] * 900, bounds[i + 1] * 900) for i in range(0, len(bounds) - 1, 2)]
    written = [f"{_hhmm(a)}-{_hhmm(b)}" for a, b in spans]
    order.shuffle(written)
    quoted = ", ".join(f'"{w}"' for w in written)
    text = MINIMAL.replace('tue = ["09:00-13:00", "14:00-18:00"]', f"wed = [{quoted}]")
    assert parse_policy(text).calendars["office"].hours[2] == tuple(spans)


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=22 * 4),
    length=st.integers(min_value=2, max_value=8),
    shift=st.integers(min_value=1, max_value=7),
)
def test_any_overlap_is_refused(start: int, length: int, shift: int) -> None:
    shift = min(shift, length - 1)  # the second interval starts inside the first
    first = (start * 900, min(96, start + length) * 900)
    second = (first[0] + shift * 900, min(86400, first[1] + 3600))
    day = f'wed = ["{_hhmm(first[0])}-{_hhmm(first[1])}", "{_hhmm(second[0])}-{_hhmm(second[1])}"]'
    text = MINIMAL.replace('tue = ["09:00-13:00", "14:00-18:00"]', day)
    error = error_of(text)
    assert error.path == "calendars.office.hours.wed[1]"
    assert "overlaps" in error.problem


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def test_digest_is_sha256_of_the_exact_text() -> None:
    assert policy_digest(MINIMAL) == hashlib.sha256(MINIMAL.encode()).hexdigest()
    assert policy_digest(MINIMAL) != policy_digest(MINIMAL + "\n")


# -- errors: message, key path and line -----------------------------------------------------


def test_error_is_bad_input_with_its_parts() -> None:
    text = MINIMAL.replace('"Europe/Rome"', '"Europe/Roma"')
    error = error_of(text)
    assert isinstance(error, BadInput) and error.exit_status is ExitStatus.USAGE
    line = line_of(text, "Europe/Roma")
    assert (error.source, error.line, error.path) == (
        "acme.toml",
        line,
        "calendars.office.timezone",
    )
    assert error.message == (
        f"acme.toml:{line}: calendars.office.timezone: unknown time zone 'Europe/Roma' "
        "(did you mean 'Europe/Rome'?)"
    )
    assert error.details["line"] == line


def test_default_source_name() -> None:
    assert str(error_of_default(MINIMAL.replace('"Europe/Rome"', '"Nowhere/City"'))).startswith(
        "<policy>:6: calendars.office.timezone: unknown time zone 'Nowhere/City'"
    )


def error_of_default(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    return caught.value


def test_overlapping_intervals_name_the_later_interval_on_its_own_line() -> None:
    text = MINIMAL.replace(
        'tue = ["09:00-13:00", "14:00-18:00"]', 'tue = [\n  "09:00-13:00",\n  "12:30-18:00",\n]'
    )
    error = error_of(text)
    line = line_of(text, '"12:30-18:00"')
    assert error.message == (
        f"acme.toml:{line}: calendars.office.hours.tue[1]: 12:30-18:00 overlaps 09:00-13:00"
    )


@pytest.mark.parametrize(
    ("interval", "problem"),
    [
        ("18:00-09:00", "start must be before end"),
        ("9:00-12:00", 'is not an interval like "08:30-12:00"'),
        ("08:00-24:30", "is not a valid time of day"),
        ("08:00-25:00", "is not a valid time of day"),
    ],
)
def test_bad_interval(interval: str, problem: str) -> None:
    text = MINIMAL.replace('"14:00-18:00"]\ntue', f'"{interval}"]\ntue')
    error = error_of(text)
    assert error.path == "calendars.office.hours.mon[1]"
    assert error.line == line_of(text, interval)
    assert problem in error.problem


def test_unknown_key_with_suggestion() -> None:
    text = MINIMAL.replace(
        'timezone = "Europe/Rome"', 'timezone = "Europe/Rome"\nholydays = ["IT"]'
    )
    error = error_of(text)
    assert error.message == (
        f"acme.toml:{line_of(text, 'holydays')}: calendars.office.holydays: "
        "unknown key 'holydays' (did you mean 'holidays'?)"
    )


def test_unknown_key_inside_an_inline_table_in_an_array() -> None:
    text = with_section(
        '[closure]\nsteps = [\n  { at = "0h", action = "contact" },\n'
        '  { at = "3h", acton = "call" },\n'
        '  { at = "6h", action = "close", outcome = "accepted" },\n]\n'
    )
    error = error_of(text)
    assert error.path == "closure.steps[1].acton"
    assert error.line == line_of(text, "acton")
    assert error.problem == "unknown key 'acton' (did you mean 'action'?)"


def test_unknown_table_and_weekday() -> None:
    text = with_section("[scopes]\nout_of_scope = []\n")
    error = error_of(text)
    assert (error.path, error.line) == ("scopes", line_of(text, "[scopes]"))
    assert error.problem == "unknown table 'scopes' (did you mean 'scope'?)"
    text = MINIMAL.replace("tue = ", "tues = ")
    error = error_of(text)
    assert (error.path, error.line) == ("calendars.office.hours.tues", line_of(text, "tues"))
    assert error.problem == "unknown weekday 'tues' (did you mean 'tue'?)"


def test_unknown_calendar_in_a_plan() -> None:
    text = MINIMAL.replace('calendar = "office"', 'calendar = "ofice"')
    error = error_of(text)
    assert error.message == (
        f"acme.toml:{line_of(text, 'ofice')}: plans.basic.calendar: "
        "unknown calendar 'ofice' (did you mean 'office'?)"
    )


def test_goal_past_limit() -> None:
    text = MINIMAL.replace('high = "4h"', 'high = { goal = "9h", limit = "5h" }')
    error = error_of(text)
    assert error.message == (
        f"acme.toml:{line_of(text, 'goal')}: plans.basic.sla.response.high.goal: "
        "goal 9h is past limit 5h"
    )


def test_float_money_is_refused() -> None:
    text = with_section(
        '[rates]\ncurrency = "EUR"\n[rates.current]\nprice = 45.10\nincludes = "20m"\n'
    )
    error = error_of(text)
    assert error.message == (
        f"acme.toml:{line_of(text, '45.10')}: rates.current.price: "
        'money must be a string like "45.10": a TOML float cannot hold cents exactly'
    )


@pytest.mark.parametrize("amount", ['"45.001"', '"-5.00"', '"45,00"', '"EUR 45"'])
def test_money_strings_must_be_plain_amounts(amount: str) -> None:
    text = with_section(f'[rates]\ncurrency = "EUR"\nincident_price = {amount}\n')
    error = error_of(text)
    assert (error.path, error.line) == ("rates.incident_price", line_of(text, "incident_price"))
    assert "is not an amount" in error.problem


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ('"4 hours"', "not a duration like 8h, 90m, 1h30m or 5400s: '4 hours'"),
        ("4", 'a duration is a string with a unit, like "4h" or "90m"'),
        ('"0h"', "duration '0h' must be positive"),
    ],
)
def test_bad_duration(written: str, problem: str) -> None:
    text = MINIMAL.replace('high = "4h"', f"high = {written}")
    error = error_of(text)
    assert error.message == (
        f"acme.toml:{line_of(text, 'high = ')}: plans.basic.sla.response.high: {problem}"
    )


def test_toml_syntax_error_reports_tomllib_line() -> None:
    text = MINIMAL.replace('low = "2d"', 'low = "2d')
    error = error_of(text)
    line = line_of(text, 'low = "2d')
    assert error.line == line
    assert error.message.startswith(f"acme.toml:{line}: invalid TOML: ")
    assert error.path == ""


def test_duplicate_key_is_a_syntax_error_on_its_line() -> None:
    text = MINIMAL.replace('low = "2d"', 'low = "2d"\nlow = "3d"')
    assert error_of(text).line == line_of(text, 'low = "3d"')


@pytest.mark.parametrize("table", ["policy", "calendars", "severities", "plans"])
def test_missing_required_table(table: str) -> None:
    kept = [block for block in MINIMAL.split("\n\n") if not block.startswith(f"[{table}")]
    error = error_of("\n\n".join(kept))
    assert error.message == f"acme.toml:1: {table}: missing required table [{table}]"


def test_missing_required_key_points_at_its_table() -> None:
    text = MINIMAL.replace('timezone = "Europe/Rome"\n', "")
    error = error_of(text)
    assert error.message == (
        f"acme.toml:{line_of(text, '[calendars.office]')}: calendars.office: "
        "missing required key 'timezone'"
    )


def test_every_plan_answers_every_severity() -> None:
    text = MINIMAL.replace('low = "2d"\n', "")
    error = error_of(text)
    assert error.message == (
        f"acme.toml:{line_of(text, '[plans.basic.sla.response]')}: plans.basic.sla.response: "
        "missing a target for severity 'low'"
    )
    text = with_section('[plans.gold]\ncalendar = "office"\n[plans.gold.sla]\n')
    error = error_of(text)
    assert error.path == "plans.gold.sla"
    assert error.line == line_of(text, "[plans.gold.sla]")
    assert error.problem == "missing response targets (every plan needs one per severity)"


def test_unknown_severity_and_metric_in_a_plan() -> None:
    text = MINIMAL.replace('low = "2d"', 'lo = "2d"')
    error = error_of(text)
    assert (error.path, error.line) == ("plans.basic.sla.response.lo", line_of(text, 'lo = "2d"'))
    assert error.problem == "unknown severity 'lo' (did you mean 'low'?)"
    text = with_section('[plans.basic.sla.resolution]\nhigh = "2d"\n')
    error = error_of(text)
    assert error.path == "plans.basic.sla.resolution"
    assert error.line == line_of(text, "[plans.basic.sla.resolution]")
    assert error.problem.startswith("unknown metric 'resolution'")


def test_always_open_calendar_takes_no_hours() -> None:
    text = MINIMAL.replace(
        'timezone = "Europe/Rome"', 'timezone = "Europe/Rome"\nalways_open = true'
    )
    error = error_of(text)
    assert (error.path, error.line) == ("calendars.office.hours", line_of(text, ".hours]"))
    assert error.problem == "an always_open calendar takes no hours: remove it"


def test_calendar_must_open_sometime() -> None:
    text = MINIMAL.replace(
        '[calendars.office.hours]\nmon = ["09:00-13:00", "14:00-18:00"]\n'
        'tue = ["09:00-13:00", "14:00-18:00"]\n',
        "",
    )
    error = error_of(text)
    assert (error.path, error.line) == ("calendars.office", line_of(text, "[calendars.office]"))
    assert "no opening hours" in error.problem


@pytest.mark.parametrize(
    ("dates", "problem"),
    [
        ('["2026-02-30"]', "'2026-02-30' is not a real date"),
        ('["24/12/2026"]', "expected a date like 2026-12-24, got '24/12/2026'"),
        ("[2026-12-24T10:00:00]", "expected a date without a time, got 2026-12-24T10:00:00"),
    ],
)
def test_bad_dates(dates: str, problem: str) -> None:
    text = MINIMAL.replace(
        'timezone = "Europe/Rome"', f'timezone = "Europe/Rome"\nclosed_dates = {dates}'
    )
    error = error_of(text)
    assert (error.path, error.problem) == ("calendars.office.closed_dates[0]", problem)
    assert error.line == line_of(text, "closed_dates")


def test_holiday_codes_look_like_country_codes() -> None:
    good = MINIMAL.replace(
        'timezone = "Europe/Rome"', 'timezone = "Europe/Rome"\nholidays = ["IT", "BR-RS"]'
    )
    assert parse_policy(good).calendars["office"].holidays == ("IT", "BR-RS")
    bad = good.replace('"BR-RS"', '"br-rs"')
    error = error_of(bad)
    assert error.path == "calendars.office.holidays[1]"
    assert error.problem.startswith("'br-rs' is not a holidays code")


def test_severity_matrix_must_cover_every_level() -> None:
    text = MINIMAL.replace(
        'order = ["high", "low"]',
        'order = ["high", "low"]\nlevels = ["big", "small"]\n[severities.matrix]\n'
        'big = { big = "high", small = "high" }\nsmall = { big = "high" }',
    )
    error = error_of(text)
    assert (error.path, error.line) == ("severities.matrix.small", line_of(text, "small = {"))
    assert error.problem == "missing urgency 'small' (the matrix covers every level)"
    wrong = text.replace('small = { big = "high" }', 'small = { big = "hihg", small = "low" }')
    error = error_of(wrong)
    assert error.path == "severities.matrix.small.big"
    assert error.problem == "unknown severity 'hihg' (did you mean 'high'?)"


def test_closure_steps_in_time_order_ending_with_one_close() -> None:
    steps = (
        '[closure]\nsteps = [\n  { at = "3h", action = "call" },\n'
        '  { at = "1h", action = "call" },\n]\n'
    )
    error = error_of(with_section(steps))
    assert error.path == "closure.steps[1].at"
    assert error.problem == "1h is before the previous step (3h); list steps in time order"
    no_close = (
        '[closure]\nsteps = [\n  { at = "0h", action = "contact" },\n'
        '  { at = "1h", action = "call" },\n]\n'
    )
    text = with_section(no_close)
    error = error_of(text)
    assert (error.path, error.line) == ("closure.steps[1].action", line_of(text, '"1h"'))
    assert error.problem == "the last step must be a close"
    early = (
        '[closure]\nsteps = [\n  { at = "0h", action = "close", outcome = "accepted" },\n'
        '  { at = "1h", action = "close", outcome = "accepted" },\n]\n'
    )
    error = error_of(with_section(early))
    assert (error.path, error.problem) == ("closure.steps[0].action", "close must be the last step")
    no_outcome = '[closure]\nsteps = [{ at = "0h", action = "close" }]\n'
    error = error_of(with_section(no_outcome))
    assert error.problem == 'a close step needs an outcome, e.g. outcome = "accepted"'


def test_closure_as_array_of_tables_locates_each_step() -> None:
    text = with_section(
        '[[closure.steps]]\nat = "0h"\naction = "contact"\n'
        '[[closure.steps]]\nat = "2h"\naction = "phone"\n'
        '[[closure.steps]]\nat = "4h"\naction = "close"\noutcome = "accepted"\n'
    )
    error = error_of(text)
    assert (error.path, error.line) == ("closure.steps[1].action", line_of(text, '"phone"'))
    assert error.problem == "unknown action 'phone' (expected one of: contact, call, email, close)"
    fixed = parse_policy(text.replace('"phone"', '"call"'))
    assert fixed.closure is not None
    assert [(s.offset, s.action, s.outcome) for s in fixed.closure.steps] == [
        (0, "contact", None),
        (7200, "call", None),
        (14400, "close", "accepted"),
    ]


def test_cross_references_between_tables() -> None:
    text = MINIMAL.replace(
        'calendar = "office"', 'calendar = "office"\nbilling = "pay_per_incident"'
    )
    error = error_of(text)
    assert (error.path, error.line) == ("plans.basic.billing", line_of(text, "pay_per_incident"))
    assert error.problem == "pay_per_incident billing needs rates.incident_price"
    text = MINIMAL.replace('calendar = "office"', 'calendar = "office"\nwarranty = true')
    error = error_of(text)
    assert error.problem == "warranty = true needs entitlement.warranty_days > 0"
    text = MINIMAL.replace('calendar = "office"', 'calendar = "office"\nchannels = ["fax"]')
    error = error_of(text)
    assert (error.path, error.problem[:22]) == ("plans.basic.channels[0]", "unknown channel 'fax' ")
    text = with_section('[clock]\nstart = "info_complete"\n')
    error = error_of(text)
    assert error.path == "clock.start"
    assert error.problem == "info_complete needs policy.required_fields to say what is complete"


def test_hourly_rates_name_a_billable_topic() -> None:
    text = with_section(
        '[scope]\nbillable_services = ["data-recovery"]\n'
        '[rates]\ncurrency = "EUR"\n[rates.hourly]\ndata-recovry = "60.00"\n'
    )
    error = error_of(text)
    assert (error.path, error.line) == ("rates.hourly.data-recovry", line_of(text, "data-recovry"))
    assert error.problem == "unknown hourly rate 'data-recovry' (did you mean 'data-recovery'?)"


def test_topic_in_two_scope_lists_is_refused() -> None:
    text = with_section('[scope]\nout_of_scope = ["network"]\nbillable_services = ["network"]\n')
    error = error_of(text)
    assert (error.path, error.line) == ("scope.billable_services[0]", line_of(text, "billable"))
    assert error.problem == "topic 'network' is already in scope.out_of_scope"


def test_listed_values_are_checked_against_the_model() -> None:
    text = MINIMAL.replace(
        'vendor = "Acme Software"', 'vendor = "Acme"\nrequired_fields = ["verison"]'
    )
    error = error_of(text)
    assert error.path == "policy.required_fields[0]"
    assert error.problem == "unknown intake field 'verison' (did you mean 'version'?)"
    text = with_section('[clock]\npause_states = ["awaiting_custmer"]\n')
    error = error_of(text)
    assert error.problem == "unknown state 'awaiting_custmer' (did you mean 'awaiting_customer'?)"
    text = with_section("[clock]\nat_risk_share = 1.5\n")
    assert error_of(text).problem == "must be between 0 and 1 (exclusive), got 1.5"


def test_wrong_types_say_what_was_expected() -> None:
    text = MINIMAL.replace('order = ["high", "low"]', 'order = "high"')
    error = error_of(text)
    assert (error.path, error.problem) == ("severities.order", "expected an array, got a string")
    text = with_section('[entitlement]\nnamed_contacts_only = "yes"\n')
    error = error_of(text)
    assert error.problem == "expected true or false, got a string"
    assert error.line == line_of(text, "named_contacts_only")
