"""Output that cannot attack its reader: escapes shown, not obeyed; CSV formulas defused."""

from __future__ import annotations

import csv
import io
import json

import pytest

from deskctl.render import output
from tests.factory import open_ticket, seed_medisoft

ESCAPES = "\x1b[2J\x1b]0;owned\x07\x9b31m\u202etxt.exe"
FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1+1)", "@SUM(1)", "-2+3"]
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\r")


def assert_inert(text: str) -> None:
    for char in RAW:
        assert char not in text, f"{char!r} reached the reader"


@pytest.fixture
def hostile(cli) -> list[int]:
    """Tickets whose text holds escapes and formulas. Input validation refuses control
    characters in a title, so they are written into the store directly: data that got
    there another way (an older deskctl, a stray sqlite3 session) must still be inert."""
    from sqlalchemy import text

    from deskctl.store import db

    seed = seed_medisoft(cli)
    first = open_ticket(cli, seed, "placeholder", "--error", "E1")
    with db.ready_engine().begin() as conn:
        conn.execute(
            text("UPDATE ticket SET title = :title, error = :error WHERE id = :id"),
            {"title": f"{ESCAPES} [red]fake[/red]", "error": f"E1\n{ESCAPES}", "id": first},
        )
    db.dispose_all()
    return [first] + [open_ticket(cli, seed, title) for title in FORMULAS]


def test_safe_text_shows_every_control_visibly() -> None:
    assert output.safe_text("a\x1b[2Jb\x07\x9b\u202e\x00") == "a\\x1b[2Jb\\x07\\x9b\\u202e\\x00"
    assert output.safe_text("one\ttwo\nthree") == "one\\ttwo\\nthree"
    assert output.safe_text("one\ntwo", newlines=True) == "one\ntwo"
    assert output.safe_text("Prontuário não abre") == "Prontuário não abre"
    assert output.csv_safe("\tTAB") == "'\\tTAB" and output.csv_safe("\rCR") == "'\\rCR"
    assert output.csv_safe("plain -1") == "plain -1"


def test_piped_list_and_queue_show_escapes_visibly(cli, hostile) -> None:
    for args in (("ticket", "list"), ("queue",)):
        out = cli(*args).stdout
        assert_inert(out)
        assert "\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\u202etxt.exe" in out
        for line in out.splitlines():  # a tab inside a title cannot add a TSV column
            assert line.count("\t") in (0, len(line.split("\t")) - 1)


def test_terminal_tables_and_ticket_show_show_escapes_visibly(cli, hostile, monkeypatch) -> None:
    monkeypatch.setattr(output, "is_terminal", lambda: True)
    for args in (("ticket", "list"), ("queue",), ("ticket", "show", str(hostile[0]))):
        out = cli(*args).stdout
        assert_inert(out)
        assert "\\x1b[2J" in out
        assert "[red]fake[/red]" in out  # data is never rich markup


def test_csv_defuses_formulas_and_can_be_told_not_to(cli, hostile, monkeypatch) -> None:
    text = cli("ticket", "list", "--csv").stdout
    assert_inert(text)
    titles = {row["title"] for row in csv.DictReader(io.StringIO(text))}
    for formula in FORMULAS:
        assert "'" + output.safe_text(formula) in titles
    assert not any(t.startswith(("=", "+", "-", "@")) for t in titles)
    monkeypatch.delenv(output.CSV_RAW_ENV, raising=False)  # restored after the --csv-raw run
    raw = cli("--csv-raw", "ticket", "list", "--csv").stdout
    assert set(FORMULAS) <= {row["title"] for row in csv.DictReader(io.StringIO(raw))}


def test_json_keeps_the_data_and_escapes_it(cli, hostile) -> None:
    text = cli("ticket", "show", str(hostile[0]), "--json").stdout
    assert_inert(text)
    assert json.loads(text)["title"].startswith(ESCAPES)
    listed = cli("ticket", "list", "--json").stdout
    assert_inert(listed)
    assert {t["title"] for t in json.loads(listed)} >= set(FORMULAS)
