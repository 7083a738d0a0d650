"""The HTML reports open in a real browser with no network and print cleanly.

Headless Chromium prints each report to PDF (A4, several pages: each major part
starts a page) and the headings and key figures are read back from the PDF's
text; the DOM and a screenshot confirm the page rendered. Skipped only when no
Chromium binary exists (CI installs one: ``apt-get install -y chromium``).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import unicodedata
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_reports import NOW, PERIOD, build

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM = next((path for name in BROWSERS if (path := shutil.which(name))), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium binary on PATH (CI installs it: apt-get install -y chromium)",
)

OVERVIEW_HEADINGS = [
    "Summary",
    "Response and resolution times",
    "SLA compliance by month",
    "Backlog at 2026-03-31",
    "Ticket volumes",
    "Quality and billing",
]
FINDINGS_HEADINGS = [
    "Summary",
    "Training needs",
    "Software to update",
    "Equipment to update or replace",
    "Root causes to fix",
]


def chromium(profile: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        # nothing may be fetched: every host name fails to resolve
        "--host-resolver-rules=MAP * ~NOTFOUND",
        *args,
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def print_pdf(tmp_path: Path, page: Path) -> bytes:
    pdf = tmp_path / f"{page.stem}.pdf"
    chromium(tmp_path / "profile", page, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    return pdf.read_bytes()


class Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("h1", "h2"):
            self._open = tag
            self.found.append((tag, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            tag, text = self.found[-1]
            self.found[-1] = (tag, text + data)


def headings(dom: str) -> list[tuple[str, str]]:
    parser = Headings()
    parser.feed(dom)
    return parser.found


def pdf_text(data: bytes) -> str:
    """The text a PDF shows, through its fonts' ToUnicode maps (enough for Chromium's PDFs)."""
    objects = {
        int(m.group(1)): m.group(2) for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", data, re.S)
    }
    fonts: dict[bytes, dict[int, str]] = {}
    for body in objects.values():
        for block in re.findall(rb"/Font\s*<<(.*?)>>", body, re.S):
            for name, ref in re.findall(rb"/(\w+)\s+(\d+) 0 R", block):
                to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", objects.get(int(ref), b""))
                if to_unicode:
                    fonts[name] = _cmap(_stream(objects[int(to_unicode.group(1))]))
    shown = []
    show = rb"/(\w+)\s+[\d.]+\s+Tf|\[(.*?)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj"
    for body in objects.values():
        content = _stream(body)
        if b" Tf" not in content:
            continue
        glyphs: dict[int, str] = {}
        for op in re.finditer(show, content, re.S):
            if op.group(1):
                glyphs = fonts.get(op.group(1), {})
                continue
            hexes = re.findall(rb"<([0-9A-Fa-f]*)>", op.group(2)) if op.group(2) else [op.group(3)]
            for h in hexes:
                shown.extend(glyphs.get(int(h[i : i + 4], 16), "") for i in range(0, len(h), 4))
    return "".join(shown)


def _stream(body: bytes) -> bytes:
    m = re.search(rb"stream\r?\n(.*)\r?\nendstream", body, re.S)
    if not m:
        return b""
    if b"/FlateDecode" not in body[: m.start()]:
        return m.group(1)
    try:
        return zlib.decompress(m.group(1))
    except zlib.error:
        return b""


def _cmap(text: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = chr(int(dst, 16) + i)
    return out


def squash(text: str) -> str:
    """The text without white space, ligature glyphs spelled out (a font that joins "fi"
    maps that glyph to U+FB01; NFKC gives the two letters back)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def pages(pdf: bytes) -> list[bytes]:
    return re.findall(rb"/Type\s*/Page\b(?!s)", pdf)


def png_size_and_colours(png: bytes) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the pixel data) of a PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    idat = b"".join(
        png[m.end() : m.end() + struct.unpack(">I", png[m.start() - 4 : m.start()])[0]]
        for m in re.finditer(rb"IDAT", png)
    )
    return width, height, len(set(zlib.decompress(idat)))


def assert_self_contained(html: str) -> None:
    lowered = html.lower()
    for banned in ("<script", "<link", "<img", "<iframe", "url(", "@import", " src="):
        assert banned not in lowered, banned
    assert re.findall(r"https?://[^\s\"'<>]+", html) == ["http://www.w3.org/2000/svg"] * len(
        re.findall(r"<svg", html)
    )
    assert "break-before: page" not in html and "@page" in html  # sections flow


@pytest.fixture
def desk(cli: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    ids = build(cli)
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    return ids


def test_html_reports_render_and_print(cli: Any, desk: dict[str, int], tmp_path: Path) -> None:
    overview = tmp_path / "overview.html"
    findings = tmp_path / "findings.html"
    cli("report", "overview", *PERIOD, "--html", str(overview))
    cli(
        "report",
        "findings",
        *PERIOD,
        "--min-defects",
        "2",
        "--share-ratio",
        "1.1",
        "--html",
        str(findings),
    )
    for page in (overview, findings):
        assert_self_contained(page.read_text(encoding="utf-8"))

    pdf = print_pdf(tmp_path, overview)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
    assert 1 <= len(pages(pdf)) <= 3  # sections flow on, no page each
    assert b"/MediaBox [0 0 59" in pdf  # A4: 595 x 842 points
    text = squash(pdf_text(pdf))
    for heading in ["Helpdesk overview", *OVERVIEW_HEADINGS]:
        assert squash(heading) in text, heading
    for figure in ("285.00", "75.0%", "18h00m", "phone"):
        assert figure in text, figure

    dom = chromium(tmp_path / "profile", overview, "--dump-dom").stdout
    assert headings(dom) == [("h1", "Helpdesk overview")] + [("h2", h) for h in OVERVIEW_HEADINGS]

    shot = tmp_path / "overview.png"
    chromium(tmp_path / "profile", overview, "--window-size=1000,1400", f"--screenshot={shot}")
    width, height, colours = png_size_and_colours(shot.read_bytes())
    assert (width, height) == (1000, 1400)
    assert colours > 16  # text, bars and lines, not a blank page

    pdf = print_pdf(tmp_path, findings)
    text = squash(pdf_text(pdf))
    for heading in [
        "Helpdesk findings",
        *FINDINGS_HEADINGS,
        "customer bank, topic export",
        "hardware DL380 G7",
        "topic scan",
        "ecc 5.1",
    ]:
        assert squash(heading) in text, heading
    dom = chromium(tmp_path / "profile", findings, "--dump-dom").stdout
    assert [h for tag, h in headings(dom) if tag == "h2"] == FINDINGS_HEADINGS
