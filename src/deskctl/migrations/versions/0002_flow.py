"""Knowledge-base full-text search and queue indexes.

SQLite: an FTS5 table over kb_article kept in sync by triggers.
PostgreSQL: a generated tsvector column with a GIN index.
Both: a covering index for the queue (status, severity, due, age) and a
(team, status) index for ``queue --team``.

The 'simple' configuration and unicode61 tokenizer do no stemming: articles
are written in several languages (pt, es, it, en).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SQLITE_UP = (
    """
    CREATE VIRTUAL TABLE kb_article_fts USING fts5(
        key, title, topic, body,
        content='kb_article', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER kb_article_fts_ai AFTER INSERT ON kb_article BEGIN
        INSERT INTO kb_article_fts(rowid, key, title, topic, body)
        VALUES (new.id, new.key, new.title, new.topic, new.body);
    END
    """,
    """
    CREATE TRIGGER kb_article_fts_ad AFTER DELETE ON kb_article BEGIN
        INSERT INTO kb_article_fts(kb_article_fts, rowid, key, title, topic, body)
        VALUES ('delete', old.id, old.key, old.title, old.topic, old.body);
    END
    """,
    """
    CREATE TRIGGER kb_article_fts_au AFTER UPDATE ON kb_article BEGIN
        INSERT INTO kb_article_fts(kb_article_fts, rowid, key, title, topic, body)
        VALUES ('delete', old.id, old.key, old.title, old.topic, old.body);
        INSERT INTO kb_article_fts(rowid, key, title, topic, body)
        VALUES (new.id, new.key, new.title, new.topic, new.body);
    END
    """,
    "INSERT INTO kb_article_fts(kb_article_fts) VALUES ('rebuild')",
)

_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS kb_article_fts_au",
    "DROP TRIGGER IF EXISTS kb_article_fts_ad",
    "DROP TRIGGER IF EXISTS kb_article_fts_ai",
    "DROP TABLE IF EXISTS kb_article_fts",
)

_PG_UP = (
    """
    ALTER TABLE kb_article ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(key, '') || ' ' || coalesce(title, '')), 'A')
        || setweight(to_tsvector('simple', coalesce(topic, '')), 'B')
        || setweight(to_tsvector('simple', coalesce(body, '')), 'C')
    ) STORED
    """,
    "CREATE INDEX ix_kb_article_search ON kb_article USING gin (search)",
)

_PG_DOWN = (
    "DROP INDEX IF EXISTS ix_kb_article_search",
    "ALTER TABLE kb_article DROP COLUMN IF EXISTS search",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": _SQLITE_UP, "postgresql": _PG_UP}.get(dialect, ())
    for statement in statements:
        op.execute(sa.text(statement))
    op.create_index(
        "ix_ticket_queue", "ticket", ["status", "severity", "sla_due_at", "opened_at", "id"]
    )
    op.create_index("ix_ticket_team_status", "ticket", ["team", "status"])


def downgrade() -> None:
    op.drop_index("ix_ticket_team_status", table_name="ticket")
    op.drop_index("ix_ticket_queue", table_name="ticket")
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": _SQLITE_DOWN, "postgresql": _PG_DOWN}.get(dialect, ())
    for statement in statements:
        op.execute(sa.text(statement))
