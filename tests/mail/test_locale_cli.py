"""--locale on customer add / contact add: explicit, or the country's language."""

from __future__ import annotations


def test_customer_locale_defaults_from_country_and_contact_inherits(cli) -> None:
    cli("init")
    cli("customer", "add", "hsr", "--name", "Hospital San Rafael", "--country", "CO")
    cli("customer", "add", "lab", "--name", "Lab", "--country", "BR", "--locale", "en")
    hsr = cli.json("customer", "show", "hsr")
    assert hsr["locale"] == "es-CO"
    assert cli.json("customer", "show", "lab")["locale"] == "en"
    inherited = cli.json("contact", "add", "hsr", "ana@hsr.co", "--name", "Ana")
    assert inherited["locale"] == "es-CO"
    own = cli.json("contact", "add", "hsr", "joao@hsr.co", "--name", "João", "--locale", "pt_br")
    assert own["locale"] == "pt-BR"


def test_unknown_locale_is_refused_and_nothing_written(cli) -> None:
    cli("init")
    bad = cli("customer", "add", "x", "--name", "X", "--country", "DE", "--locale", "de-DE", code=2)
    assert "--locale" in bad.stderr and "de-DE" in bad.stderr
    assert cli.json("customer", "list") == []
