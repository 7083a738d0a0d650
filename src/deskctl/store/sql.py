"""Read queries written once, run on a DBAPI connection or inside an ORM session.

A :class:`Query` is SQL with ``:name`` parameters and a converter per column, so a
row comes back as the ORM would give it (UTC-aware instants, ``date``, ``Decimal``
money, decoded JSON, ``bool``). A :class:`Reader` runs queries on one DBAPI
connection (``store.dbapi``) or, through :meth:`Reader.over`, inside an open
SQLAlchemy session's transaction. Kept apart from the connections (which fall back
to ``store.db`` for a store not at this code's revision) so ``store.identity`` can
run its queries on both paths without an import cycle.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from deskctl.errors import BadInput, StoreUnavailable

Converter = Callable[[Any], Any]


# -- column converters: raw DBAPI value -> the value the ORM types give -------------------


def instant(value: Any) -> datetime | None:
    """UTCDateTime: SQLite keeps naive UTC text, PostgreSQL an aware timestamp."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def cents(value: Any) -> Decimal | None:
    """Cents: whole cents in a BIGINT."""
    if value is None:
        return None
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


def decimal_text(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def json_doc(value: Any) -> Any:
    """JSON columns: text on SQLite, decoded by psycopg on PostgreSQL."""
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value


# -- queries ---------------------------------------------------------------------------

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Query:
    """One read query, written once: ``sql`` with ``:name`` parameters (``pg`` when
    PostgreSQL needs other SQL), and a converter for each column that needs one."""

    sql: str
    types: Mapping[str, Converter] = field(default_factory=dict)
    pg: str | None = None

    def text(self, dialect: str) -> str:
        return self.pg if dialect == "postgresql" and self.pg is not None else self.sql


def _bind(value: Any, dialect: str) -> Any:
    """A parameter as the ORM types store it (SQLite: naive UTC text, ISO dates)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; instants must be UTC-aware")
        value = value.astimezone(UTC)
        if dialect == "sqlite":
            return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value
    if isinstance(value, date) and dialect == "sqlite":
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _expand(sql: str, params: Mapping[str, Any], dialect: str) -> tuple[str, dict[str, Any]]:
    """Lists become ``(:p_0, :p_1, ...)``; then the driver's own parameter style."""
    bound: dict[str, Any] = {}

    def placeholder(name: str) -> str:
        return f"%({name})s" if dialect == "postgresql" else f":{name}"

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in params:
            raise KeyError(f"query parameter {name!r} not given")
        value = params[name]
        if isinstance(value, (list, tuple, set, frozenset)):
            items = list(value) or [None]  # IN (NULL) matches nothing
            names = [f"{name}_{i}" for i in range(len(items))]
            for n, v in zip(names, items, strict=True):
                bound[n] = _bind(v, dialect)
            return "(" + ", ".join(placeholder(n) for n in names) + ")"
        bound[name] = _bind(value, dialect)
        return placeholder(name)

    if dialect == "postgresql":
        sql = sql.replace("%", "%%")
    return _PARAM.sub(sub, sql), bound


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class Reader:
    """Runs :class:`Query` objects on one DBAPI connection; rows come back as dicts."""

    def __init__(self, con: Any, dialect: str, *, execute: Callable[..., Any] | None = None):
        self.con = con
        self.dialect = dialect
        self._execute = execute or self._dbapi_execute

    @classmethod
    def over(cls, session: Any) -> Reader:
        """The same queries inside an open SQLAlchemy session's transaction."""
        conn = session.connection()
        dialect = conn.dialect.name

        def execute(sql: str, params: dict[str, Any]) -> Any:
            session.flush()  # the raw SQL must see what the ORM holds pending
            return conn.exec_driver_sql(sql, params)

        return cls(conn, dialect, execute=execute)

    def _dbapi_execute(self, sql: str, params: dict[str, Any]) -> Any:
        cur = self.con.cursor()
        cur.execute(sql, params)
        return cur

    def _run(self, q: Query, params: Mapping[str, Any]) -> tuple[list[str], Any]:
        sql, bound = _expand(q.text(self.dialect), params, self.dialect)
        try:
            cur = self._execute(sql, bound)
        except Exception as exc:
            raise _store_error(exc) from None
        if hasattr(cur, "keys"):  # a SQLAlchemy result (Reader.over)
            return list(cur.keys()), cur
        return [d[0] for d in cur.description], cur

    def all(self, q: Query, /, **params: Any) -> list[dict[str, Any]]:
        names, cur = self._run(q, params)
        return [_convert(names, row, q.types) for row in cur.fetchall()]

    def iter(self, q: Query, /, *, size: int = 2000, **params: Any) -> Iterator[dict[str, Any]]:
        names, cur = self._run(q, params)
        while batch := cur.fetchmany(size):
            for row in batch:
                yield _convert(names, row, q.types)

    def batches(
        self, q: Query, /, *, size: int = 20_000, **params: Any
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Raw rows (no converters), ``size`` at a time: a scan of a million rows
        without a dict per row, in flat memory."""
        _, cur = self._run(q, params)
        while batch := cur.fetchmany(size):
            yield batch

    def one(self, q: Query, /, **params: Any) -> dict[str, Any] | None:
        rows = self.all(q, **params)
        return rows[0] if rows else None

    def scalars(self, q: Query, /, **params: Any) -> list[Any]:
        names, cur = self._run(q, params)
        convert = q.types.get(names[0])
        values = [row[0] for row in cur.fetchall()]
        return [convert(v) for v in values] if convert else values


def _convert(names: Sequence[str], row: Sequence[Any], types: Mapping[str, Converter]) -> dict:
    doc = dict(zip(names, row, strict=True))
    for name, convert in types.items():
        if name in doc:
            doc[name] = convert(doc[name])
    return doc


def _store_error(exc: Exception) -> Exception:
    """Driver errors as the SQLAlchemy path reports them: unavailable store is exit 5."""
    if isinstance(exc, (StoreUnavailable, KeyError)):
        return exc
    kind = type(exc).__name__
    if kind == "OperationalError":
        return StoreUnavailable(f"store unavailable: {_first_line(getattr(exc, 'orig', exc))}")
    # the same PostgreSQL classes as store.db.store_error: a value the column cannot
    # hold (22xxx, e.g. an id beyond bigint) is bad input; privilege and a server
    # going away leave the store unavailable
    sqlstate = str(getattr(exc, "sqlstate", "") or "")
    if sqlstate.startswith("22"):
        return BadInput(f"the store refused a value: {_first_line(exc)}")
    if sqlstate == "42501" or sqlstate.startswith(("08", "57P")) or sqlstate == "53300":
        return StoreUnavailable(f"store unavailable: {_first_line(exc)}")
    return exc


