"""The README's tour runs as written and prints what the README shows (see tests/tour.py)."""

from __future__ import annotations

import pytest

from tests import tour

SECTIONS = tour.sections(tour.README.read_text(encoding="utf-8"))


def _report(section: tour.Section, outputs: list[list[str]]) -> str:
    wrong = []
    for command, actual in zip(section.commands, outputs, strict=True):
        if not tour.matches(command.expected, actual):
            wrong.append(
                f"$ {command.line}\n--- README\n" + "\n".join(command.expected)
                + "\n--- printed\n" + "\n".join(actual)
            )
    return "\n\n".join(wrong)


def test_the_tour_has_its_sections() -> None:
    titles = [s.title for s in SECTIONS]
    assert titles[0] == "The demo store"
    assert len(titles) >= 4 and all(s.commands for s in SECTIONS)


@pytest.mark.slow
@pytest.mark.parametrize("section", SECTIONS, ids=[s.title for s in SECTIONS])
def test_tour_section_prints_what_the_readme_shows(section: tour.Section) -> None:
    wrong = _report(section, tour.run(section))
    assert not wrong, (
        f"README tour section {section.title!r} differs from what the commands print "
        f"(regenerate with `python -m tests.tour --update` and review the diff):\n\n{wrong}"
    )


def test_matching_rules() -> None:
    assert tour.matches(["a", "...", "z"], ["a", "b", "c", "z"])
    assert tour.matches(["a", "..."], ["a"])
    assert not tour.matches(["a", "b"], ["a", "c"])
    assert not tour.matches(["a"], ["a", "b"])
    assert tour.matches(["demo: 3 tickets in 1.1 s into x"], ["demo: 3 tickets in 9.8 s into x"])


def test_parsing_commands_and_outputs() -> None:
    text = "\n".join([
        "## A tour", "### One", "```console", "$ echo hi", "hi", "$ false", "exit 1", "```",
        "## Next", "```console", "$ not in the tour", "```",
    ])
    (section,) = tour.sections(text)
    assert [(c.line, c.expected) for c in section.commands] == [
        ("echo hi", ["hi"]), ("false", ["exit 1"])
    ]
    assert tour.run(section) == [["hi"], ["exit 1"]]
