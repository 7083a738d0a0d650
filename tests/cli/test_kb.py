"""`deskctl kb`: articles, and full-text search kept in sync by the store (migration 0002)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.cli import test_flow as flow
from tests.cli.test_flow import snapshot

fast_cli = flow.fast_cli  # the shared fixture

ARTICLES = [
    (
        "kb-install",
        "Installing the viewer",
        "installation",
        "Run the installer as administrator, then activate the licence.",
    ),
    (
        "kb-merge",
        "Merging two studies",
        "merge studies",
        "Select both studies in the worklist and choose Merge.",
    ),
    (
        "kb-worklist",
        "Filtering the worklist",
        "worklist",
        "Use the modality filter to narrow the worklist.",
    ),
]


def add_all(cli: Any) -> None:
    cli("init")
    for key, title, topic, body in ARTICLES:
        cli(
            "kb",
            "add",
            key,
            "--title",
            title,
            "--url",
            f"https://kb.example/{key}",
            "--topic",
            topic,
            "--body",
            body,
        )


def keys(cli: Any, *args: str) -> list[str]:
    return [a["key"] for a in cli.json("kb", *args)]


def test_add_list_and_search(store, fast_cli) -> None:
    cli = fast_cli
    add_all(cli)
    listed = cli.json("kb", "list")
    assert [a["key"] for a in listed] == ["kb-install", "kb-merge", "kb-worklist"]
    assert listed[1]["url"] == "https://kb.example/kb-merge"
    assert listed[1]["topic"] == "merge studies"
    assert keys(cli, "list", "--topic", "Merge  Studies") == ["kb-merge"]

    assert keys(cli, "search", "instal") == ["kb-install"]  # a prefix
    assert keys(cli, "search", "LICENCE") == ["kb-install"]  # the body, any case
    # Every word must match: both articles mention the worklist, one also merging.
    assert keys(cli, "search", "worklist merge") == ["kb-merge"]
    # A word in the title ranks above the same word in the body only.
    assert keys(cli, "search", "worklist") == ["kb-worklist", "kb-merge"]
    assert cli.json("kb", "search", "nothing-like-this") == []
    # Search syntax typed by a user is taken as plain words, never an error.
    assert keys(cli, "search", 'merge" (studies* -') == ["kb-merge"]


def test_search_follows_edits_and_deletes(store, fast_cli) -> None:
    from deskctl.store import db

    add_all(fast_cli)
    with db.session(db.ready_engine(), write=True) as s:
        s.execute(text("UPDATE kb_article SET title = 'Fusing studies' WHERE key = 'kb-merge'"))
        s.execute(text("DELETE FROM kb_article WHERE key = 'kb-install'"))
    assert keys(fast_cli, "search", "fusing") == ["kb-merge"]
    assert keys(fast_cli, "search", "merging") == []
    assert keys(fast_cli, "search", "installer") == []


def test_upgrade_from_0001_indexes_existing_articles(store, fast_cli) -> None:
    from alembic import command

    from deskctl.store import db

    engine = db.default_engine()
    db.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO kb_article (key, title, url, topic, body, created_at) "
                "VALUES ('kb-old', 'Exporting a report', 'https://kb.example/old', 'reports', "
                "'Choose Export.', CURRENT_TIMESTAMP)"
            )
        )
    assert db.upgrade(engine) == ("0001", db.SCHEMA_HEAD)
    assert keys(fast_cli, "search", "export") == ["kb-old"]
    command.downgrade(db.alembic_config(engine), "0001")
    assert db.current_revision(engine) == "0001"
    db.upgrade(engine)
    assert keys(fast_cli, "search", "report") == ["kb-old"]


def test_search_is_built_for_the_store_it_runs_on(store, fast_cli) -> None:
    from sqlalchemy import inspect

    from deskctl.store import db

    fast_cli("init")
    inspector = inspect(db.default_engine())
    tables = inspector.get_table_names()
    columns = {c["name"] for c in inspector.get_columns("kb_article")}
    if store == "sqlite":
        assert "kb_article_fts" in tables and "search" not in columns
    else:
        assert "kb_article_fts" not in tables and "search" in columns
        indexes = {i["name"] for i in inspector.get_indexes("kb_article")}
        assert "ix_kb_article_search" in indexes


def test_bad_articles_are_refused_and_nothing_is_written(fast_cli) -> None:
    cli = fast_cli
    add_all(cli)
    before = snapshot()
    url = ["--url", "https://kb.example/x"]
    cases = [
        (["kb-merge", "--title", "Again", *url, "--topic", "t"], "already exists"),
        (["kb new", "--title", "T", *url, "--topic", "t"], "article key"),
        (["kb-x", "--title", " ", *url, "--topic", "t"], "--title"),
        (["kb-x", "--title", "T", "--url", "kb.example/x", "--topic", "t"], "--url"),
        (["kb-x", "--title", "T", *url, "--topic", " "], "--topic"),
    ]
    for args, message in cases:
        result = cli("kb", "add", *args, code=2)
        assert message in result.stderr, (args, result.stderr)
    cli("kb", "add", "kb-x", "--title", "T", "--topic", "t", code=2)  # --url is required
    cli("kb", "search", "  ...  ", code=2)
    assert snapshot() == before
    assert len(cli.json("kb", "list")) == len(ARTICLES)


def test_piped_list_is_tab_separated(fast_cli) -> None:
    add_all(fast_cli)
    lines = fast_cli("kb", "list").stdout.splitlines()
    assert lines[0].split("\t") == [
        "kb-install",
        "installation",
        "Installing the viewer",
        "https://kb.example/kb-install",
    ]
    csv = fast_cli("kb", "search", "merge", "--csv").stdout.splitlines()
    assert csv[0] == "key,topic,title,url"
