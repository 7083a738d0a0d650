"""The yes/no keyword of a reply and the text of a message whose mailer forgot its charset."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from deskctl.domain.mail import answer_keyword, part_text


@pytest.mark.parametrize(
    ("first_line", "locale", "answer"),
    [
        ("Não, continua parado", "pt-BR", "reject"),
        ("nao", "pt-BR", "reject"),  # typed without the tilde, as phones often do
        ("Sim!", "pt-PT", "confirm"),
        ("Si, funciona", "es-CO", "confirm"),
        ("Sì, risolto", "it-IT", "confirm"),
        ("Simples pergunta", "pt-BR", None),
        ("yes", "it-IT", "confirm"),  # English is understood from everyone
    ],
)
def test_the_first_line_decides_with_or_without_accents(
    first_line: str, locale: str, answer: str | None
) -> None:
    assert answer_keyword(f"{first_line}\n\nObrigado", locale) == answer


def _part(payload: bytes, charset: str | None) -> EmailMessage:
    part = EmailMessage()
    part["Content-Type"] = f"text/plain; charset={charset}" if charset else "text/plain"
    part["Content-Transfer-Encoding"] = "8bit"
    part.set_payload(payload)
    return part


def test_declared_charsets_are_obeyed_and_undeclared_8bit_is_guessed() -> None:
    text = "Relatório: não abre às 8h"
    assert part_text(_part(text.encode("iso-8859-1"), "iso-8859-1")) == text
    assert part_text(_part(text.encode("utf-8"), None)) == text
    assert part_text(_part(text.encode("cp1252"), "us-ascii")) == text
