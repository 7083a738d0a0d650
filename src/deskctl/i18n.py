"""Customer-facing language: which locale a customer reads, how values are written in
it, and the template files that say it.

Shared by the mail loop (services compose e-mails) and the document pipeline (render
writes invoices and reports), so it sits below both layers. Babel and Jinja2 are
imported only when a value is formatted or a template rendered: listing tickets never
pays for them.

Locale lookup, most specific first: the contact's locale, the customer's, then the one
its country implies (``COUNTRY_LOCALES``), then ``en``. Template lookup for
``mail/ack.txt`` in ``pt-BR``: ``mail/ack.pt-BR.txt``, ``mail/ack.pt.txt``,
``mail/ack.txt``; a policy's own template folder is searched before the package's, so a
vendor may override any single file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

Day = date  # the type, under a name the Formatter.date method does not shadow

SUPPORTED = ("pt-BR", "es-CO", "it-IT", "pt-PT", "en")
DEFAULT = "en"
COUNTRY_LOCALES = {
    "BR": "pt-BR",
    "PT": "pt-PT",
    "AO": "pt-PT",
    "MZ": "pt-PT",
    "IT": "it-IT",
    "SM": "it-IT",
    "CO": "es-CO",
    "ES": "es-CO",
    "MX": "es-CO",
    "AR": "es-CO",
    "CL": "es-CO",
    "PE": "es-CO",
    "EC": "es-CO",
    "VE": "es-CO",
}
# Countries that print on US Letter; everyone else uses A4.
LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "CO", "VE", "CL", "PH"})


def normalise(tag: str) -> str:
    """``pt_br``/``PT-br`` → ``pt-BR``; refuses a locale deskctl does not ship."""
    parts = tag.replace("_", "-").split("-")
    wanted = "-".join([parts[0].lower(), *(p.upper() for p in parts[1:])])
    if wanted in SUPPORTED:
        return wanted
    raise ValueError(f"unknown locale {tag!r} (one of {', '.join(SUPPORTED)})")


def locale_for_country(country: str | None) -> str:
    return COUNTRY_LOCALES.get((country or "").upper(), DEFAULT)


def resolve(*explicit: str | None, country: str | None = None) -> str:
    """The first explicit locale given (contact's, then customer's), else the country's."""
    for tag in explicit:
        if tag:
            return normalise(tag)
    return locale_for_country(country)


def paper_size(country: str | None) -> str:
    return "letter" if (country or "").upper() in LETTER_COUNTRIES else "A4"


def _babel(tag: str) -> str:
    return tag.replace("-", "_")


@dataclass(frozen=True)
class Formatter:
    """Values written for one reader: their locale, and the calendar zone times are in."""

    locale: str = DEFAULT
    timezone: str = "UTC"

    def money(self, amount: Decimal, currency: str = "EUR") -> str:
        from babel.numbers import format_currency

        return str(format_currency(amount, currency, locale=_babel(self.locale)))

    def number(self, value: Decimal | int | float, digits: int | None = None) -> str:
        from babel.numbers import format_decimal

        fmt = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
        return str(format_decimal(value, format=fmt, locale=_babel(self.locale)))

    def percent(self, value: Decimal | float, digits: int = 0) -> str:
        from babel.numbers import format_percent

        fmt = "#,##0%" if not digits else "#,##0." + "0" * digits + "%"
        return str(format_percent(value, format=fmt, locale=_babel(self.locale)))

    def date(self, value: date, width: str = "medium") -> str:
        from babel.dates import format_date

        if isinstance(value, datetime):
            value = self.local(value).date()
        return str(format_date(value, format=width, locale=_babel(self.locale)))

    def day(self, value: Day) -> str:
        """A day as the locale names it in a list: ``ter., 10 de março``, ``Tue, March 10``."""
        from babel.dates import format_skeleton

        return str(format_skeleton("MMMMEEEEd", value, locale=_babel(self.locale)))

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(ZoneInfo(self.timezone))

    def instant(self, instant: datetime, width: str = "medium") -> str:
        """Local date and time with the zone named, e.g. ``6 de mar. de 2026 16:30 (BRT)``."""
        from babel.dates import format_date, format_time

        local = self.local(instant)
        day = format_date(local.date(), format=width, locale=_babel(self.locale))
        clock = format_time(local.time(), format="HH:mm", locale=_babel(self.locale))
        return f"{day} {clock} ({self.zone_name(instant)})"

    def zone_name(self, instant: datetime) -> str:
        abbrev = self.local(instant).tzname() or self.timezone
        # zoneinfo gives numeric abbreviations (-03) for many zones: name the zone instead.
        if abbrev[:1] in "+-":
            return f"{self.timezone} {abbrev}"
        return abbrev


def candidates(name: str, locale: str) -> list[str]:
    """File names to try for template ``name`` in ``locale``, most specific first."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    lang = locale.split("-")[0]
    tries = [f"{stem}.{locale}{suffix}", f"{stem}.{lang}{suffix}", name]
    return list(dict.fromkeys(tries))


def environment(override: Path | None = None) -> Any:
    """A Jinja2 environment over the policy's folder (if any), then the shipped templates.

    HTML is autoescaped; text templates are not (they are never shown as HTML).
    """
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if override is not None:
        loaders.append(jinja2.FileSystemLoader(str(override)))
    loaders.append(jinja2.PackageLoader("deskctl", "templates"))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"], default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render(
    name: str,
    locale: str,
    context: dict[str, Any],
    *,
    override: Path | None = None,
    formatter: Formatter | None = None,
) -> str:
    """Render template ``name`` in ``locale`` (falling back as ``candidates`` says)."""
    env = environment(override)
    fmt = formatter or Formatter(locale)
    template = env.select_template(candidates(name, locale))
    return str(template.render(fmt=fmt, locale=locale, **context))
