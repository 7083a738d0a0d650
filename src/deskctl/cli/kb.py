"""`deskctl kb add | list | search`: the knowledge base misuse tickets are redirected to."""

from typing import Annotated

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, read_store, store_session, sub_app

kb_app = sub_app("Knowledge base: articles a misuse ticket is redirected to.")


def register(app: typer.Typer) -> None:
    app.add_typer(kb_app, name="kb")


def _columns() -> list:
    from deskctl.render.output import Column

    return [
        Column("key", "KEY"),
        Column("topic", "TOPIC"),
        Column("title", "TITLE"),
        Column("url", "URL"),
    ]


@kb_app.command("add")
def add(
    key: Annotated[str, typer.Argument(help="Article key, e.g. kb-merge-studies.")],
    title: Annotated[str, typer.Option("--title", help="Title.")],
    url: Annotated[str, typer.Option("--url", help="Where the customer reads it.")],
    topic: Annotated[str, typer.Option("--topic", help="The case type it answers.")],
    body: Annotated[str | None, typer.Option("--body", help="Text (searched too).")] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Add an article."""
    from deskctl import clock
    from deskctl.render.output import emit_json, say
    from deskctl.services import kb

    article = kb.check_article(kb.ArticleIn(key=key, title=title, url=url, topic=topic, body=body))
    with store_session(write=True) as s:
        doc = kb.article_json(kb.add(s, article, now=clock.now()))
    if json_out:
        emit_json(doc)
    else:
        say(f"article {doc['key']} added (topic {doc['topic']})")


@kb_app.command("list")
def list_(
    topic: Annotated[str | None, typer.Option("--topic", help="Only this topic.")] = None,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """List articles by key."""
    from deskctl.render.output import choose_format, emit_rows
    from deskctl.services import kb

    fmt = choose_format(json_out=json_out, csv_out=csv_out)
    with store_session() as s:
        rows = kb.list_articles(s, topic)
    emit_rows(rows, _columns(), fmt, id_key="key", empty="no articles")


@kb_app.command("search")
def search(
    text: Annotated[str, typer.Argument(help="Words to find (each as a prefix; all must match).")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 20,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """Full-text search over key, title, topic and body; best match first."""
    from deskctl.errors import BadInput
    from deskctl.render.output import choose_format, emit_rows
    from deskctl.services import views

    fmt = choose_format(json_out=json_out, csv_out=csv_out)
    terms = views.kb_words(text)
    if not terms:
        raise BadInput("search needs at least one word")
    with read_store() as r:
        rows = views.kb_search(r, terms, limit=limit)
    emit_rows(rows, _columns(), fmt, id_key="key", empty="no matching articles")
