"""The document pipeline: template -> HTML -> file, or PDF through WeasyPrint.

Every printable document (invoice, draft bill, SLA report, overview, findings) is a
Jinja2 template in ``templates/documents/`` extending ``base.html``, rendered with
``deskctl.i18n`` for its reader: the locale's words (``words.toml`` and its
translations), dates, numbers and money, times in the calendar's zone. A policy's
``[vendor] templates`` folder overrides any file. ``base.html`` sets the paper (A4 or
Letter), a running header (issuer and title) and page numbers for print.

WeasyPrint is imported only when a PDF is written: it is slow to import and needs
pango, which HTML output does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deskctl import i18n
from deskctl.errors import BadInput


@dataclass(frozen=True)
class Reader:
    """Whom a document is written for: their locale, the zone times are shown in, the
    paper their country prints on, and the policy's template folder, if any."""

    locale: str = i18n.DEFAULT
    timezone: str = "UTC"
    paper: str = "A4"
    templates: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fmt(self) -> i18n.Formatter:
        return i18n.Formatter(self.locale, self.timezone)


def render(name: str, reader: Reader, context: Mapping[str, Any]) -> str:
    """The HTML of document ``name`` (``invoice`` -> ``documents/invoice.html``)."""
    words = i18n.words("documents/words", reader.locale, override=reader.templates)
    page = {"paper": "letter" if reader.paper.lower() == "letter" else "A4"}
    ctx = {"t": words, "page": page, **reader.extra, **context}
    return i18n.render(
        f"documents/{name}.html",
        reader.locale,
        ctx,
        override=reader.templates,
        formatter=reader.fmt,
    )


def check_target(path: Path | None, option: str) -> None:
    """Refuse before any work a file that cannot be written (no such folder)."""
    if path is not None and not path.parent.is_dir():
        raise BadInput(f"{option}: cannot write {path}: no directory {path.parent}")


def write(html: str, *, html_path: Path | None = None, pdf_path: Path | None = None) -> list[Path]:
    """Write the HTML and/or the PDF made from it; returns the files written."""
    written = []
    if html_path is not None:
        _replace(html_path, html.encode("utf-8"), "--html")
        written.append(html_path)
    if pdf_path is not None:
        _replace(pdf_path, pdf_bytes(html), "--pdf")
        written.append(pdf_path)
    return written


def pdf_bytes(html: str) -> bytes:
    """The PDF of a self-contained HTML document (WeasyPrint, CSS paged media)."""
    import logging

    from weasyprint import HTML

    # WeasyPrint logs every CSS property it ignores; the documents are ours, not the
    # user's business.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return bytes(HTML(string=html, base_url=None).write_pdf())


def _replace(path: Path, data: bytes, option: str) -> None:
    """Atomic and owner-only (``deskctl.files``): a reader never sees half a document,
    a failed write leaves the old file, and a bill is not world-readable."""
    from deskctl import files

    files.write_bytes(path, data, what=option)
