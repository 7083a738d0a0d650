"""Looking at printed documents in tests: PDF pages and text (poppler), PNG (Chromium)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])


def paper(pdf: Path) -> str:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("Page size:"))
    return "A4" if "A4" in line else ("letter" if "letter" in line.lower() else line)


def text(pdf: Path, page: int | None = None) -> str:
    """The PDF's text (one page, or all), no-break spaces made plain."""
    args = ["pdftotext", "-layout"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    out = subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True)
    return out.stdout.replace("\xa0", " ").replace("\u202f", " ")


def screenshot(html: Path, png: Path, tmp: Path, width: int = 900, height: int = 1270) -> Path:
    """The first screen of an HTML file as headless Chromium draws it."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    profile = tmp / "chromium-profile"
    profile.mkdir(exist_ok=True)
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            html.resolve().as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return png


def png_size(png: Path) -> tuple[int, int]:
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def not_blank(png: Path) -> bool:
    """A drawn page compresses far worse than a white one."""
    return png.stat().st_size > 20_000
