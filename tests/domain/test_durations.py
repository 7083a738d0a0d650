"""Durations as typed and as shown."""

import pytest

from deskctl.domain.durations import format_duration, parse_duration, short_span
from deskctl.errors import BadInput


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("8h", 28800), ("90m", 5400), ("1h30m", 5400), ("5400s", 5400), ("2d", 172800),
     ("1w", 604800), ("-10m", -600)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "8", "h", "8x", "1h1h", "1.5s"])
def test_parse_duration_refuses(text):
    with pytest.raises(BadInput):
        parse_duration(text)


def test_bare_number_with_unit():
    assert parse_duration("25", bare_unit="m") == 1500


def test_business_hours_never_shown_as_days():
    assert format_duration(72 * 3600) == "72h"
    assert format_duration(14 * 86400, days=True) == "14d"
    assert format_duration(5400) == "1h30m"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "now"), (59, "now"), (60, "1m"), (3600, "1h"), (3660, "1h01m"),
     (86400 + 7200, "1d2h"), (155 * 86400 + 3000, "155d"), (-3600, "1h")],
)
def test_short_span(seconds, text):
    assert short_span(seconds) == text
