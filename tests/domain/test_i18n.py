"""Customer-facing locale: which locale, how values read, which template file wins."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from deskctl import i18n


def test_locale_from_contact_then_customer_then_country() -> None:
    assert i18n.resolve(None, None, country="BR") == "pt-BR"
    assert i18n.resolve(None, "pt_pt", country="BR") == "pt-PT"
    assert i18n.resolve("es-co", "pt-PT", country="BR") == "es-CO"
    assert i18n.resolve(None, None, country="DE") == "en"


def test_unknown_locale_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown locale"):
        i18n.normalise("de-DE")


def test_money_dates_and_zone_in_the_readers_locale() -> None:
    it = i18n.Formatter("it-IT", "Europe/Rome")
    assert it.money(Decimal("3647.80")).replace("\xa0", " ") == "3.647,80 €"
    br = i18n.Formatter("pt-BR", "America/Sao_Paulo")
    instant = datetime(2026, 3, 6, 19, 30, tzinfo=UTC)
    text = br.instant(instant)
    assert "16:30" in text and "2026" in text and "America/Sao_Paulo" in text
    assert br.date(date(2026, 3, 6), "long") == "6 de março de 2026"


def test_template_fallback_and_policy_override(tmp_path) -> None:
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "hello.txt").write_text("Hello {{ name }}")
    (tmp_path / "mail" / "hello.pt.txt").write_text("Olá {{ name }}")
    (tmp_path / "mail" / "page.html").write_text("<p>{{ name }}</p>")
    assert i18n.render("mail/hello.txt", "pt-BR", {"name": "Ana"}, override=tmp_path) == "Olá Ana"
    assert i18n.render("mail/hello.txt", "it-IT", {"name": "Ana"}, override=tmp_path) == "Hello Ana"
    html = i18n.render("mail/page.html", "en", {"name": "<b>x</b>"}, override=tmp_path)
    assert html == "<p>&lt;b&gt;x&lt;/b&gt;</p>"


def test_paper_size_by_country() -> None:
    assert i18n.paper_size("IT") == "A4" and i18n.paper_size("US") == "letter"
