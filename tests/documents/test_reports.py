"""Printed SLA reports on the demo store: summary first, breaches worst first, paper-sized."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.documents import tools
from tests.documents.conftest import MONTH

pytestmark = pytest.mark.slow


def _report_doc(policy: str | None = None, breached_only: bool = False) -> dict[str, Any]:
    from datetime import date

    from deskctl import clock
    from deskctl.services import documents
    from deskctl.services import sla as svc
    from deskctl.store import db

    query = svc.ReportQuery(
        date(2026, 10, 1), date(2026, 10, 31), policy=policy, breached_only=breached_only
    )
    with db.session(db.ready_engine()) as s:
        doc = svc.report(s, query, clock.now())
        return documents.sla_report(s, doc, now=clock.now())


def test_breached_only_month_fits_on_four_pages(cli, demo, tmp_path) -> None:
    pdf, html = tmp_path / "sla.pdf", tmp_path / "sla.html"
    cli("sla", "report", *MONTH, "--breached-only", "--pdf", pdf, "--html", html)
    count = tools.pages(pdf)
    assert 1 <= count <= 4
    first = tools.text(pdf, 1)
    for heading in ("SLA report", "Summary", "Compliance", "By severity", "By customer",
                    f"Page 1 / {count}"):  # fmt: skip
        assert heading in first, heading
    whole = tools.text(pdf)
    assert "Breaches, worst first" in whole and "Other tickets" not in whole
    assert "Only breached tickets are listed" in whole
    png = tools.screenshot(html, tmp_path / "sla.png", tmp_path)
    assert tools.not_blank(png)


def test_medisoft_report_is_portuguese_with_local_times(cli, demo, tmp_path) -> None:
    pdf = tmp_path / "medisoft.pdf"
    cli("sla", "report", *MONTH, "--policy", "medisoft", "--pdf", pdf)
    text = tools.text(pdf)
    for expected in ("Relatório de SLA", "Medisoft Sistemas Ltda.",
                     "Chamados abertos de 1 de outubro de 2026 a 31 de outubro de 2026",
                     "Resumo", "Violações, as piores primeiro", "Página 1 /"):  # fmt: skip
        assert expected in text, expected
    assert "America/Sao_Paulo" in text  # limits in the calendar's zone, named
    assert "IMEXHS" not in text  # only Medisoft's tickets
    # statuses and outcomes in Portuguese, never the internal names
    assert "encerrado (resolvido)" in text
    for internal in ("in_progress", "awaiting_", "closed", "queued"):
        assert internal not in text, internal


def test_breaches_worst_first_with_names_and_the_rest_after(cli, demo) -> None:
    report = _report_doc()
    late = [b["late_seconds"] for b in report["breaches"]]
    assert late and late == sorted(late, reverse=True) and min(late) > 0
    keys = {c["key"]: c["name"] for c in cli.json("customer", "list")}
    for row in report["breaches"]:
        assert row["customer_name"] == keys[row["customer"]] != row["customer"]
        assert row["title"]
    assert all(o["state"] != "breached" for o in report["others"])
    assert report["total"]["tickets"] == sum(r["tickets"] for r in report["by_customer"])
    assert report["has_previous"] is False  # the service caller adds it (the CLI does)


def test_report_follows_the_customers_language(cli, demo, tmp_path) -> None:
    italian = next(c["key"] for c in cli.json("customer", "list") if c["country"] == "IT")
    html = tmp_path / "it.html"
    cli("sla", "report", *MONTH, "--customer", italian, "--html", html)
    page = html.read_text(encoding="utf-8")
    assert "Rapporto SLA" in page and "TecMedical" in page
    english = tmp_path / "en.html"
    cli("sla", "report", *MONTH, "--customer", italian, "--locale", "en", "--html", english)
    assert "SLA report" in english.read_text(encoding="utf-8")
    bad = cli("sla", "report", *MONTH, "--locale", "klingon", "--html", english, code=2)
    assert "--locale" in bad.stderr


def test_trend_compares_with_the_previous_period(cli, demo, tmp_path) -> None:
    html = tmp_path / "sla.html"
    cli("sla", "report", *MONTH, "--policy", "imexhs", "--html", html)
    page = html.read_text(encoding="utf-8")
    assert "previous period" in page.lower() or "periodo anterior" in page
    assert re.search(r"[▲▼=]\d", page)


def test_overview_and_findings_fit_on_paper(cli, demo, tmp_path) -> None:
    overview = tmp_path / "overview.pdf"
    cli("report", "overview", *MONTH, "--pdf", overview)
    assert tools.pages(overview) <= 5  # sections flow; no page per section (was 7)
    assert re.search(r"1 ?/ ?\d", tools.text(overview, 1))  # page numbers
    findings = tmp_path / "findings.pdf"
    cli("report", "findings", "--from", "2026-01-01", "--to", "2026-11-30", "--pdf", findings)
    text = tools.text(findings)
    assert "threshold" not in text.lower()
    assert tools.pages(findings) <= 4  # 37 findings in one table per kind (was 13 pages)
    for heading in ("Training needs", "Software to update", "Root causes to fix", "Tickets"):
        assert heading in text, heading
