"""Values the shell completes: states and outcomes, and agents, customers, policies, plans
and severities read from the store.

The completion path stays as light as ``--help``: the store is read with plain
``sqlite3`` (or ``psycopg`` for PostgreSQL), never the ORM, and any failure (no
store yet, no server) completes nothing rather than printing an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_SQL = {
    "AGENT": "SELECT login FROM agent ORDER BY login",
    "CUSTOMER": "SELECT key FROM customer ORDER BY key",
    "POLICY": "SELECT DISTINCT name FROM policy_version ORDER BY name",
}
_LATEST_POLICIES = (
    "SELECT p.text FROM policy_version p WHERE p.version = "
    "(SELECT MAX(q.version) FROM policy_version q WHERE q.name = p.name)"
)


def _rows(sql: str) -> list[Any]:
    """Rows of a read-only query on the configured store; [] when it cannot be read."""
    from deskctl.config import database_url

    url = database_url()
    try:
        if url.startswith("sqlite:///"):
            import sqlite3

            path = url.removeprefix("sqlite:///")
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
                return list(con.execute(sql))
        if url.startswith(("postgresql", "postgres")):
            import psycopg

            rest = url.partition("://")[2]
            with psycopg.connect(f"postgresql://{rest}", connect_timeout=2) as con:
                return list(con.execute(sql))
    except Exception:  # completion must never fail loudly
        return []
    return []


def _policies() -> list[dict[str, Any]]:
    import tomllib

    docs = []
    for (text,) in _rows(_LATEST_POLICIES):
        try:
            docs.append(tomllib.loads(text))
        except (tomllib.TOMLDecodeError, TypeError):
            continue
    return docs


def _plans() -> list[str]:
    return sorted({name for doc in _policies() for name in doc.get("plans", {})})


def _severities() -> list[str]:
    found: dict[str, None] = {}
    for doc in _policies():
        for name in doc.get("severities", {}).get("order", []):
            found[str(name)] = None
    return list(found)


def _domain(name: str) -> Callable[[], list[str]]:
    """A fixed vocabulary (``domain.vocabulary``), imported only when a shell asks for it:
    every command's options get their completers at start-up."""

    def values() -> list[str]:
        from deskctl.domain import vocabulary

        return list(getattr(vocabulary, name))

    return values


def _static(values: tuple[str, ...]) -> Callable[[], list[str]]:
    return lambda: list(values)


def _query(metavar: str) -> Callable[[], list[str]]:
    return lambda: [str(row[0]) for row in _rows(_SQL[metavar])]


# metavar (see cli/_help.py) -> where its values come from
SOURCES: dict[str, Callable[[], list[str]]] = {
    "STATUS": _domain("STATES"),
    "OUTCOME": _domain("OUTCOMES"),
    "CATEGORY": _domain("CATEGORIES"),
    "PARTY": _static(("customer", "third-party")),
    "SEVERITY": _severities,
    "PLAN": _plans,
    **{metavar: _query(metavar) for metavar in _SQL},
}


def completer(metavar: str | None) -> Callable[..., list[str]] | None:
    source = SOURCES.get(metavar or "")
    if source is None:
        return None

    def complete(_ctx: Any, _param: Any, incomplete: str) -> list[str]:
        return [value for value in source() if value.startswith(incomplete)]

    return complete
