"""Stored per-ticket figures written back by a fill (``sla refresh --all``): one
compare-and-set UPDATE per row through the driver's ``executemany``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Index


def update_tickets(
    session: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]], indexes: Sequence[Index]
) -> None:
    """Each row is (the ``columns``' values..., id, rev); a row whose ``rev`` moved
    meanwhile is left to the move that wrote it. ``indexes`` are dropped first and
    built again after (one sorted build instead of a B-tree update per row: for big
    fills), in the same transaction."""
    conn = session.connection()
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    sets = ", ".join(f"{c} = {mark}" for c in columns)
    sql = f"UPDATE ticket SET {sets} WHERE id = {mark} AND rev = {mark}"
    for ix in indexes:
        ix.drop(conn)
    conn.connection.driver_connection.cursor().executemany(sql, rows)
    for ix in indexes:
        ix.create(conn)
