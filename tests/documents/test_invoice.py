"""The printed invoice and draft bill: seller and buyer, lines with ticket titles, the
buyer's language and money format, paper by country, PDF through WeasyPrint."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest

from tests.cli.test_billing_cli import NOW, PERIOD, log, open_dms
from tests.conftest import EXAMPLES
from tests.documents import tools
from tests.factory import seed_dms

pytestmark = pytest.mark.slow


@pytest.fixture
def dms(cli: Any) -> dict[str, str]:
    seed = seed_dms(cli)
    cli("customer", "billing", "studio", "--address", "Via Garibaldi 12",
        "--address", "20121 Milano MI", "--vat-id", "it 09876543210")  # fmt: skip
    return seed


def _invoice_of_2990(cli: Any, dms: dict[str, str]) -> None:
    """€2,990.00 before VAT: 45 + 75 half hours on the current version, 2 × 160."""
    first = open_dms(cli, dms, title="Archivio pazienti bloccato")
    for day, minutes in ((2, "1200m"), (3, "1070m")):  # one entry per day, 2,270 min
        log(cli, first, minutes, at=f"2026-03-{day:02d}T09:00:00Z")
    log(cli, open_dms(cli, dms, version="9.1", title="Stampa referti"), "30m")
    log(cli, open_dms(cli, dms, version="9.1", title="Backup notturno"), "30m")


def test_italian_invoice_pdf_books_as_an_accountant_needs(cli, dms, tmp_path) -> None:
    _invoice_of_2990(cli, dms)
    cli("bill", "finalize", "--customer", "studio", *PERIOD, "--at", NOW)
    pdf = tmp_path / "inv.pdf"
    cli("invoice", "show", "INV-2026-0001", "--pdf", pdf)
    assert tools.pages(pdf) == 1 and tools.paper(pdf) == "A4"
    page = tools.text(pdf)
    for expected in (
        "Fattura INV-2026-0001",
        "TecMedical Tecnologie Medicali S.r.l.", "Via dei Mille 24", "IT01234560789",
        "assistenza@dmsdental.it",
        "Studio Rossi", "Via Garibaldi 12", "20121 Milano MI", "IT09876543210",
        "1 aprile 2026", "1 maggio 2026",  # invoice date, due 30 days later
        "#1", "Archivio pazienti bloccato", "Stampa referti", "Backup notturno",
        "Intervento occasionale, versione corrente", "Intervento singolo, versione precedente",
        "2.270", "75 × 30 min a 35,00 €",
        "2.990,00 €", "IVA 22%", "657,80 €", "3.647,80 €",
        "Pagamento entro 30 giorni", "Pagina 1 / 1",
    ):  # fmt: skip
        assert expected in page, expected
    assert "€3,647.80" not in page and "Invoice" not in page


def test_draft_bill_in_english_on_letter_for_a_us_customer(cli, dms, tmp_path) -> None:
    cli("customer", "add", "acme", "--name", "Acme Dental Inc.", "--country", "US",
        "--address", "1 Main St", "--address", "Springfield, IL 62701")  # fmt: skip
    cli("contact", "add", "acme", "a@acme.example", "--name", "A")
    cli("contract", "add", "acme", "--plan", "maintenance", "--start", "2026-01-01")
    log(cli, open_dms(cli, {**dms, "customer": "acme", "contact": "a@acme.example"}), "21m")
    pdf, html = tmp_path / "bill.pdf", tmp_path / "bill.html"
    cli("bill", "--customer", "acme", *PERIOD, "--pdf", pdf, "--html", html)
    assert tools.paper(pdf) == "letter"
    page = tools.text(pdf)
    for expected in ("Draft bill", "Draft: not an invoice", "Acme Dental Inc.", "1 Main St",
                     "€80.00", "Page 1 / 1"):  # fmt: skip
        assert expected in page, expected
    assert "Due date" not in page  # a draft has no number, so nothing is due yet
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_totals_never_stand_alone_on_a_page(cli, dms, tmp_path) -> None:
    """However many lines, the page holding the totals holds invoice lines too."""
    for n in range(1, 15):
        ticket = open_dms(cli, dms, title=f"Richiesta numero {n} del mese",
                          at=f"2026-03-{n:02d}T08:00:00Z")  # fmt: skip
        log(cli, ticket, f"{20 + 7 * n}m", at=f"2026-03-{n:02d}T09:00:00Z")
    seen_pages = set()
    for last in range(8, 15):
        pdf = tmp_path / f"bill-{last}.pdf"
        cli("bill", "--customer", "studio", "--from", "2026-03-01", "--to", f"2026-03-{last:02d}",
            "--pdf", pdf)  # fmt: skip
        count = tools.pages(pdf)
        seen_pages.add(count)
        holding = [p for p in range(1, count + 1) if "Imponibile" in tools.text(pdf, p)]
        assert len(holding) == 1
        assert re.search(r"^\s*#\d+", tools.text(pdf, holding[0]), re.M), f"{last} lines"
    assert seen_pages >= {1, 2}  # the range really crosses a page break


def test_invoice_html_looks_right_in_chromium(cli, dms, tmp_path) -> None:
    _invoice_of_2990(cli, dms)
    html = tmp_path / "bill.html"
    cli("bill", "--customer", "studio", *PERIOD, "--html", html)
    png = tools.screenshot(html, tmp_path / "bill.png", tmp_path)
    assert tools.png_size(png) == (900, 1270) and tools.not_blank(png)


def test_policy_logo_and_template_folder(cli, dms, tmp_path) -> None:
    folder = tmp_path / "vendor"
    (folder / "templates" / "documents").mkdir(parents=True)
    shutil.copy(EXAMPLES / "dms.toml", folder / "dms.toml")
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    (folder / "templates" / "documents" / "words.it.toml").write_text(
        'draft_bill = "Preventivo di fattura"\n', encoding="utf-8"
    )
    text = (folder / "dms.toml").read_text(encoding="utf-8")
    text = text.replace('payment_terms = "30d"', 'payment_terms = "60d"\nlogo = "logo.png"\n'
                        'templates = "templates"')  # fmt: skip
    (folder / "dms.toml").write_text(text, encoding="utf-8")
    cli("policy", "load", folder / "dms.toml")
    log(cli, open_dms(cli, dms), "20m")
    html = tmp_path / "bill.html"
    cli("bill", "--customer", "studio", *PERIOD, "--html", html)
    page = html.read_text(encoding="utf-8")
    assert "Preventivo di fattura" in page and "Imponibile" in page  # override, then package
    assert 'src="data:image/png;base64,' in page  # the logo travels inside the file


@pytest.mark.parametrize(
    "edit, message",
    [
        (('payment_terms = "30d"', 'payment_terms = "36h"'), "vendor.payment_terms"),
        (('country = "IT"', 'country = "Italy"'), "vendor.country"),
        (('country = "IT"', 'country = "IT"\nlocale = "xx-YY"'), "vendor.locale"),
        (('country = "IT"', 'country = "IT"\nfax = "1"'), "unknown key 'fax'"),
    ],
)
def test_bad_vendor_block_is_refused_at_load(cli, dms, tmp_path, edit, message) -> None:
    text = (EXAMPLES / "dms.toml").read_text(encoding="utf-8").replace(*edit)
    path = tmp_path / "dms.toml"
    path.write_text(text, encoding="utf-8")
    result = cli("policy", "load", path, code=2)
    assert message in result.stderr
    assert len(cli.json("policy", "list")) == 1  # nothing stored


def test_customer_billing_details(cli, dms) -> None:
    doc = cli.json("customer", "show", "studio")
    assert doc["billing_address"] == ["Via Garibaldi 12", "20121 Milano MI"]
    assert doc["vat_id"] == "IT09876543210"
    assert "IT09876543210" in cli("customer", "show", "studio").stdout
    bad = cli("customer", "billing", "studio", "--vat-id", "IT 123 ; DROP", code=2)
    assert "--vat-id" in bad.stderr
    assert cli.json("customer", "show", "studio")["vat_id"] == "IT09876543210"
    cli("customer", "billing", "studio", "--vat-id", "")
    assert cli.json("customer", "show", "studio")["vat_id"] is None
    cli("customer", "billing", "studio", code=2)
