"""The findings report as text: every finding's lines, printed in one go
(``render.report.print_findings``), exactly as they were printed one by one."""

from __future__ import annotations

from typing import Any

import pytest

from deskctl.render.report import print_findings


def _doc(findings: list[dict[str, Any]]) -> dict[str, Any]:
    return {"from": "2026-01-01", "to": "2026-03-31", "customer": None, "product": None,
            "tickets": 12, "findings": findings}  # fmt: skip


def test_each_finding_prints_its_lines_under_its_kind(capsys: pytest.CaptureFixture[str]) -> None:
    update = {
        "kind": "update_needed",
        "subject": "product ecc [5.1]",  # brackets are text, not markup
        "message": "defects rise",
        "evidence": {"monthly_defects": {"2026-01": 0, "2026-02": 2, "2026-03": 4}},
        "tickets": [3, 7],
        "tickets_total": 6,
    }
    training = {"kind": "training_need", "subject": "customer bank, topic export",
                "message": "3 misuse tickets", "evidence": {}, "tickets": [1, 2, 5],
                "tickets_total": 3}  # fmt: skip
    print_findings(_doc([update, training]))
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "Helpdesk findings: 2026-01-01 to 2026-03-31",
        "12 tickets analysed; 2 finding(s)",
        "",
        "Training needs",
        "• customer bank, topic export",
        "  3 misuse tickets",
        "  tickets: #1 #2 #5",
        "",
        "Software to update",
        "• product ecc [5.1]",
        "  defects rise",
        "  tickets: #3 #7 … and 4 more",
        lines[-1],
    ]
    assert lines[-1].startswith("  defects per month: ") and lines[-1].endswith(" 0 2 4")


def test_no_findings_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    print_findings(_doc([]))
    assert capsys.readouterr().out.splitlines()[1:] == [
        "12 tickets analysed; 0 finding(s)",
        "nothing stands out",
    ]


def test_a_pipe_gets_each_line_whole(capsys: pytest.CaptureFixture[str]) -> None:
    """Piped, nothing is wrapped, however long (``render.output.stdout_console``)."""
    from deskctl.render.output import PIPE_WIDTH

    long = " ".join(["word"] * (PIPE_WIDTH // 4))  # wider than the pipe's width
    found = {"kind": "root_cause", "subject": "topic export", "message": long,
             "evidence": {}, "tickets": [1], "tickets_total": 1}  # fmt: skip
    print_findings(_doc([found]))
    assert f"  {long}" in capsys.readouterr().out.splitlines()
