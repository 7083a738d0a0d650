"""Knowledge-base search: FTS5 on SQLite, a tsvector with a GIN index on PostgreSQL."""

from __future__ import annotations

from typing import Any

from deskctl.store.dbapi import Query, Reader, instant

SEARCH = Query(
    "SELECT rowid FROM kb_article_fts WHERE kb_article_fts MATCH :q"
    " ORDER BY bm25(kb_article_fts, 10.0, 5.0, 3.0, 1.0), rowid LIMIT :n",
    pg=(
        "SELECT id FROM kb_article, to_tsquery('simple', :q) AS q WHERE search @@ q"
        " ORDER BY ts_rank(search, q) DESC, id LIMIT :n"
    ),
)
ARTICLES = Query(
    "SELECT id, key, title, url, topic, body, created_at FROM kb_article WHERE id IN :ids",
    {"created_at": instant},
)


def match_expression(dialect: str, terms: list[str], any_word: bool) -> str:
    """Every term a prefix; on SQLite each is quoted so FTS5 operators are plain words."""
    if dialect == "postgresql":
        return (" | " if any_word else " & ").join(f"{t}:*" for t in terms)
    return (" OR " if any_word else " ").join(f'"{t}"*' for t in terms)


def search_ids(r: Reader, terms: list[str], limit: int, any_word: bool) -> list[int]:
    q = match_expression(r.dialect, terms, any_word)
    return [int(i) for i in r.scalars(SEARCH, q=q, n=limit)]


def articles(r: Reader, ids: list[int]) -> list[dict[str, Any]]:
    """Articles in the order of ``ids``, as ``services.kb.article_json`` writes them."""
    rows = {row["id"]: row for row in r.all(ARTICLES, ids=ids)}
    keys = ("key", "title", "url", "topic", "body", "created_at")
    return [{k: rows[i][k] for k in keys} for i in ids if i in rows]
