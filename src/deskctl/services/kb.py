"""The knowledge base: articles a misuse ticket is redirected to, and full-text search.

Search runs in the store: an FTS5 table on SQLite, a tsvector column with a
GIN index on PostgreSQL (migration 0002). A query is split into words (letters
and digits); every word matches as a prefix (``instal`` finds "installation").
``kb search`` wants every word (AND); triage suggestions take any word (OR),
best ranked first, since a ticket title rarely uses an article's exact words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from deskctl.errors import BadInput, NotFound
from deskctl.store.models import KbArticle

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class ArticleIn:
    key: str
    title: str
    url: str
    topic: str
    body: str | None = None


def check_article(article: ArticleIn) -> ArticleIn:
    """Validate before anything is written; returns the article with trimmed values."""
    key = article.key.strip()
    if not _KEY.match(key):
        raise BadInput(f"article key {key!r}: use letters, digits, '.', '_' or '-' (at most 80)")
    title = article.title.strip()
    if not title:
        raise BadInput("--title must not be empty")
    url = article.url.strip()
    if not _URL.match(url):
        raise BadInput(f"--url: {url!r} is not an http(s) address")
    topic = " ".join(article.topic.split()).lower()
    if not topic:
        raise BadInput("--topic must not be empty")
    if len(title) > 300 or len(url) > 1000 or len(topic) > 80:
        raise BadInput("title (300), url (1000) or topic (80 characters) too long")
    body = article.body.strip() if article.body and article.body.strip() else None
    return ArticleIn(key=key, title=title, url=url, topic=topic, body=body)


def add(session: Session, article: ArticleIn, *, now: datetime) -> KbArticle:
    article = check_article(article)
    if session.execute(select(col(KbArticle.id)).where(col(KbArticle.key) == article.key)).first():
        raise BadInput(f"article {article.key!r} already exists")
    row = KbArticle(
        key=article.key,
        title=article.title,
        url=article.url,
        topic=article.topic,
        body=article.body,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get(session: Session, key: str) -> KbArticle:
    row = (
        session.execute(select(KbArticle).where(col(KbArticle.key) == key.strip()))
        .scalars()
        .first()
    )
    if row is None:
        raise NotFound(f"no knowledge-base article {key.strip()!r}; see `deskctl kb list`")
    return row


def list_articles(session: Session, topic: str | None = None) -> list[dict[str, Any]]:
    stmt = select(KbArticle).order_by(KbArticle.key)
    if topic:
        stmt = stmt.where(col(KbArticle.topic) == " ".join(topic.split()).lower())
    return [article_json(r) for r in session.execute(stmt).scalars()]


def article_json(row: KbArticle) -> dict[str, Any]:
    return {
        "key": row.key,
        "title": row.title,
        "url": row.url,
        "topic": row.topic,
        "body": row.body,
        "created_at": row.created_at,
    }


def words(query: str) -> list[str]:
    from deskctl.services.views import kb_words

    return kb_words(query)


def search(
    session: Session, query: str, *, limit: int = 20, any_word: bool = False
) -> list[dict[str, Any]]:
    """Articles matching ``query``, best first; [] when the query has no words."""
    from deskctl.services.views import kb_search
    from deskctl.store.dbapi import Reader

    return kb_search(Reader.over(session), words(query), limit=limit, any_word=any_word)


def suggest(session: Session, *texts: str | None, limit: int = 3) -> list[dict[str, Any]]:
    """Articles that may answer a ticket (its topic and title), for a misuse triage."""
    query = " ".join(t for t in texts if t)
    return search(session, query, limit=limit, any_word=True)
