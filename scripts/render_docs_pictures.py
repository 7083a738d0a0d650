"""Regenerate the document pictures of the README (docs/pictures/*.png).

Builds a fresh demo store at a fixed clock in a temporary folder, writes each
printed document as PDF (WeasyPrint, as `--pdf` does), and turns its first page into
a PNG with pdftoppm (poppler-utils). Run from the repository root:

    python scripts/render_docs_pictures.py

Nothing outside docs/pictures/ is touched; the demo store is thrown away.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "pictures"
NOW = "2026-12-01T12:00:00Z"
MONTH = ["--from", "2026-10-01", "--to", "2026-10-31"]


def deskctl(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "deskctl", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"deskctl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def first_page_png(pdf: Path, png: Path) -> None:
    stem = png.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
        check=True,
    )


def main() -> None:
    if not shutil.which("pdftoppm"):
        raise SystemExit("pdftoppm (poppler-utils) is needed")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "DESKCTL_DB": str(work / "demo.db"),
            "DESKCTL_DATA_DIR": str(work / "data"),
            "DESKCTL_NOW": NOW,
            "DESKCTL_USER": "marta",
            "NO_COLOR": "1",
            "PYTHONPATH": str(ROOT / "src"),
        }
        deskctl(env, "demo")
        italian = _customer(env, "IT")
        number = deskctl(env, "bill", "finalize", "--customer", italian, *MONTH).strip()
        documents = {
            "invoice": ["invoice", "show", number],
            "sla-report": ["sla", "report", *MONTH, "--policy", "medisoft", "--breached-only"],
            "overview": ["report", "overview", *MONTH],
            "findings": ["report", "findings", "--from", "2026-01-01", "--to", "2026-11-30"],
        }
        for name, args in documents.items():
            pdf = work / f"{name}.pdf"
            deskctl(env, *args, "--pdf", str(pdf))
            first_page_png(pdf, OUT / f"{name}.png")
            print(f"wrote {OUT / (name + '.png')}")


def _customer(env: dict[str, str], country: str) -> str:
    import json

    rows = json.loads(deskctl(env, "customer", "list", "--json"))
    return next(r["key"] for r in rows if r["country"] == country)


if __name__ == "__main__":
    main()
