"""The shipped migrations build exactly the schema the SQLModel tables declare.

Every change to store/models.py needs its Alembic revision: a column, table or index
declared in a model but missing from the migrated store (or the reverse) fails here.
What only the migrations create on purpose is named below with its reason.
"""

from __future__ import annotations

from pathlib import Path

# SQLite's FTS5 virtual table for KB search and its shadow tables (created by SQL in
# the migration: no model describes them).
_FTS = {"kb_article_fts", "kb_article_fts_config", "kb_article_fts_docsize",
        "kb_article_fts_idx", "kb_article_fts_data"}
# Indexes the queue and team views need, declared in their migrations only.
_MIGRATION_ONLY_INDEXES = {"ix_ticket_queue", "ix_ticket_team_status"}


def _expected(diff: tuple) -> bool:
    kind, obj = diff[0], diff[1]
    if kind == "remove_table":
        return obj.name in _FTS
    if kind == "remove_index":
        return obj.name in _MIGRATION_ONLY_INDEXES
    return False


def test_a_migrated_store_has_every_table_column_and_index_of_the_models(cli, tmp_path: Path,
                                                                      monkeypatch) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlmodel import SQLModel

    import deskctl.store.models  # noqa: F401 -- the tables register on the metadata

    path = tmp_path / "migrated.db"
    monkeypatch.setenv("DESKCTL_DB", str(path))
    cli("init")  # every shipped revision, in order
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    unexplained = [d for d in diff if not (isinstance(d, tuple) and _expected(d))]
    assert unexplained == []
