"""The schema revision this code expects, read from the shipped migration file names.

Kept apart from ``store.db`` so a read command can check a store's revision
without importing SQLAlchemy or Alembic.
"""

from __future__ import annotations

from pathlib import Path


def migrations_dir() -> Path:
    """The Alembic scripts shipped inside the package (an installed wheel included)."""
    from importlib.resources import files

    return Path(str(files("deskctl") / "migrations"))


def _head_from_files() -> str:
    # Revisions are numbered in the order they apply (a test checks the chain), so the
    # highest number is the head; reading file names costs nothing next to importing alembic.
    names = [p.name for p in (migrations_dir() / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
    return max(name[:4] for name in names)


# The revision this code expects: the head of the shipped migrations.
SCHEMA_HEAD = _head_from_files()
