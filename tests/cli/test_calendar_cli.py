"""`deskctl calendar`: rules §5's worked examples and §9's due/elapsed contract, via the CLI."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLES


@pytest.fixture
def medisoft(cli):
    cli("init", "--policy", str(EXAMPLES / "medisoft.toml"))
    return cli


# docs/rules.md §5: Mon-Fri 08:30-12:00 and 13:30-17:30, America/Sao_Paulo (UTC-3, no DST in 2026),
# Brazilian national holidays.
WORKED = [
    ("2026-03-05T16:00:00-03:00", "8h", "2026-03-06T19:30:00Z"),  # Fri 16:30
    ("2026-03-05T16:00:00-03:00", "24h", "2026-03-10T20:30:00Z"),  # Tue 17:30, at closing
    ("2026-03-07T10:00:00-03:00", "8h", "2026-03-10T12:00:00Z"),  # Sat -> Tue 09:00
    ("2026-03-04T12:30:00-03:00", "8h", "2026-03-05T17:00:00Z"),  # lunch -> Thu 14:00
    ("2026-04-02T15:00:00-03:00", "8h", "2026-04-06T18:30:00Z"),  # Good Friday -> Mon 15:30
]


@pytest.mark.parametrize("start, target, due", WORKED)
def test_worked_examples_due(medisoft, start, target, due) -> None:
    doc = medisoft.json("calendar", "due", "medisoft", "--from", start, "--in", target)
    assert doc == {"due_at": due}


@pytest.mark.parametrize("start, target, due", WORKED)
def test_worked_examples_elapsed_back_to_target(medisoft, start, target, due) -> None:
    doc = medisoft.json("calendar", "elapsed", "medisoft", "--from", start, "--to", due)
    assert doc == {"seconds": int(target[:-1]) * 3600}


def test_local_time_without_offset_is_read_in_the_calendar_zone(medisoft) -> None:
    local = medisoft.json("calendar", "due", "medisoft", "--from", "2026-03-05T16:00", "--in", "8h")
    assert local == {"due_at": "2026-03-06T19:30:00Z"}


@pytest.mark.parametrize("duration", ["90m", "1h30m", "5400s"])
def test_duration_forms_agree(medisoft, duration) -> None:
    doc = medisoft.json(
        "calendar", "due", "medisoft", "--from", "2026-03-05T11:00:00-03:00", "--in", duration
    )
    # 1 h before lunch, 30 min after it
    assert doc == {"due_at": "2026-03-05T17:00:00Z"}


def test_due_at_closing_time_is_the_closing_time(medisoft) -> None:
    doc = medisoft.json(
        "calendar", "due", "medisoft", "--from", "2026-03-05T13:30:00-03:00", "--in", "4h"
    )
    assert doc == {"due_at": "2026-03-05T20:30:00Z"}  # 17:30 local, not Friday 08:30


@pytest.mark.parametrize(
    "start, end",
    [
        ("2026-03-06T12:00:00Z", "2026-03-06T12:00:00Z"),
        ("2026-03-06T15:00:00Z", "2026-03-05T15:00:00Z"),
    ],
)
def test_elapsed_is_zero_when_to_is_not_after_from(medisoft, start, end) -> None:
    assert medisoft.json("calendar", "elapsed", "medisoft", "--from", start, "--to", end) == {
        "seconds": 0
    }


def test_elapsed_skips_nights_weekends_and_holidays(medisoft) -> None:
    # Thu 2 Apr 2026 08:30 to Mon 6 Apr 08:30: Thursday only (Good Friday, weekend closed)
    doc = medisoft.json(
        "calendar", "elapsed", "medisoft",
        "--from", "2026-04-02T08:30:00-03:00", "--to", "2026-04-06T08:30:00-03:00",
    )  # fmt: skip
    assert doc == {"seconds": 7 * 3600 + 1800}


def test_plain_output_is_one_line_with_local_and_utc(medisoft) -> None:
    out = medisoft("calendar", "due", "medisoft", "--from", "2026-03-05T16:00-03:00", "--in", "8h")
    assert out.stdout.count("\n") == 1
    assert "2026-03-06 16:30" in out.stdout and "2026-03-06T19:30:00Z" in out.stdout


def test_always_open_calendar_is_wall_time(cli) -> None:
    cli("init", "--policy", str(EXAMPLES / "imexhs.toml"))
    doc = cli.json("calendar", "due", "always", "--from", "2026-03-07T23:00:00Z", "--in", "5h")
    assert doc == {"due_at": "2026-03-08T04:00:00Z"}


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["due", "medisoft", "--from", "yesterday", "--in", "8h"], 2, "--from"),
        (["due", "medisoft", "--from", "2026-03-05T16:00Z", "--in", "8 hours"], 2, "--in"),
        (["due", "medisoft", "--from", "2026-03-05T16:00Z", "--in", "-8h"], 2, "negative"),
        (["due", "nowhere", "--from", "2026-03-05T16:00Z", "--in", "8h"], 3, "nowhere"),
        (["elapsed", "medisoft", "--from", "2026-03-05", "--to", "soon"], 2, "--to"),
        (["show", "medisoft", "--month", "2026-13"], 2, "--month"),
        (["due", "medisoft", "--from", "2026-03-05T16:00Z", "--in", "8h", "--policy", "x"], 3,
         "no policy"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_code(medisoft, args, code, message) -> None:
    result = medisoft("calendar", *args, code=code)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_a_unique_calendar_name_needs_no_policy(cli) -> None:
    cli("init", "--policy", str(EXAMPLES / "medisoft.toml"))
    cli("policy", "load", str(EXAMPLES / "dms.toml"))
    doc = cli.json("calendar", "due", "rome", "--from", "2026-03-05T09:00:00+01:00", "--in", "1h")
    assert doc == {"due_at": "2026-03-05T09:00:00Z"}
    assert cli.json("calendar", "show", "medisoft", "--month", "2026-04")["days"]
    rows = cli.json("calendar", "list")
    assert {(r["policy"], r["name"]) for r in rows} >= {("dms", "rome"), ("medisoft", "medisoft")}
    assert cli("calendar", "list").stdout.splitlines()[0].split("\t")[0] == "dms"


def test_a_calendar_name_in_two_policies_needs_policy(cli, tmp_path) -> None:
    cli("init", "--policy", str(EXAMPLES / "dms.toml"))
    twin = tmp_path / "twin.toml"
    twin.write_text((EXAMPLES / "dms.toml").read_text().replace('name = "dms"', 'name = "twin"', 1))
    cli("policy", "load", str(twin))
    result = cli("calendar", "due", "rome", "--from", "2026-03-05T09:00Z", "--in", "1h", code=2)
    assert "calendar 'rome' is in the policies dms, twin: name one with --policy" in result.stderr
    doc = cli.json(
        "calendar", "due", "rome", "--from", "2026-03-05T09:00:00+01:00", "--in", "1h",
        "--policy", "dms",
    )  # fmt: skip
    assert doc == {"due_at": "2026-03-05T09:00:00Z"}


def test_an_unknown_calendar_among_several_policies_is_not_found(cli) -> None:
    cli("init", "--policy", str(EXAMPLES / "medisoft.toml"))
    cli("policy", "load", str(EXAMPLES / "dms.toml"))
    result = cli("calendar", "show", "paris", code=3)
    assert "no calendar 'paris' in the policies dms, medisoft" in result.stderr


def test_show_month_names_holidays_and_counts_open_time(medisoft) -> None:
    doc = medisoft.json("calendar", "show", "medisoft", "--month", "2026-04")
    days = {d["date"]: d for d in doc["days"]}
    assert len(days) == 30
    assert days["2026-04-03"]["holiday"] == "Good Friday"
    assert days["2026-04-03"]["open"] == [] and days["2026-04-03"]["business_seconds"] == 0
    assert days["2026-04-21"]["holiday"]  # Tiradentes
    assert days["2026-04-02"]["open"] == ["08:30-12:00", "13:30-17:30"]
    assert days["2026-04-04"]["weekday"] == "sat" and days["2026-04-04"]["open"] == []
    # 22 weekdays in April 2026 minus Good Friday and Tiradentes, 7.5 h each
    assert (
        doc["business_seconds"] == 20 * 27000 == sum(d["business_seconds"] for d in days.values())
    )


def test_show_defaults_to_the_current_month_of_the_program_clock(medisoft, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-01T01:00:00Z")  # still February in São Paulo
    assert medisoft.json("calendar", "show", "medisoft")["month"] == "2026-02"


def test_show_piped_is_plain_lines(medisoft) -> None:
    out = medisoft("calendar", "show", "medisoft", "--month", "2026-04").stdout
    lines = out.splitlines()
    assert len(lines) == 30
    assert lines[2].split("\t")[:4] == ["2026-04-03", "fri", "closed", "Good Friday"]
    assert "[" not in out and "\x1b" not in out


def test_list_shows_calendars_and_the_plans_using_them(cli) -> None:
    cli("init", "--policy", str(EXAMPLES / "imexhs.toml"))
    rows = {r["name"]: r for r in cli.json("calendar", "list")}
    assert rows["bogota-8x5"]["plans"] == ["8x5"] and rows["always"]["plans"] == ["24x7"]
    assert rows["bogota-8x5"]["hours"]["mon"] == ["08:00-18:00"]
    assert rows["always"]["always_open"] is True
    plain = cli("calendar", "list").stdout
    assert "Mon-Fri 08:00-18:00" in plain


def test_json_is_a_single_document(medisoft) -> None:
    out = medisoft("calendar", "list", "--json").stdout
    assert isinstance(json.loads(out), list)
