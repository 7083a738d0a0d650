"""One demo store per test session, copied into each test's own store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

DEMO_NOW = "2026-12-01T12:00:00Z"
MONTH = ("--from", "2026-10-01", "--to", "2026-10-31")


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo (2,000 tickets over a year), made once."""
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.db"
    env = {
        **os.environ,
        "DESKCTL_DB": str(path),
        "DESKCTL_NOW": DEMO_NOW,
        "DESKCTL_USER": "tester",
        "DESKCTL_DATA_DIR": str(folder / "data"),
        "HOME": str(folder),
        "NO_COLOR": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "deskctl", "demo"], env=env, check=True, capture_output=True
    )
    return path


@pytest.fixture
def demo(demo_file: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's store is a copy of the demo; the clock is the demo's."""
    target = Path(os.environ["DESKCTL_DB"])
    shutil.copy(demo_file, target)
    monkeypatch.setenv("DESKCTL_NOW", DEMO_NOW)
    yield target
