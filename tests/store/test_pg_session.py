"""Every PostgreSQL session deskctl opens, through SQLAlchemy or the DBAPI, runs
without JIT: its statements are short, and compiling each plan made the 1M reports
slower (findings 5.1-5.4 s with it, 4.1-4.7 s without)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.pg


def test_orm_sessions_run_without_jit(cli, pg_url) -> None:
    from sqlalchemy import text

    from deskctl.store import db

    cli("init")
    with db.session(db.ready_engine()) as s:
        assert s.execute(text("SHOW jit")).scalar() == "off"
    with db.session(db.ready_engine(), write=True) as s:  # a pooled connection again
        assert s.execute(text("SHOW jit")).scalar() == "off"


def test_dbapi_reads_run_without_jit(cli, pg_url) -> None:
    from deskctl.store import dbapi

    cli("init")
    with dbapi.read() as r:
        assert r.scalars(dbapi.Query("SHOW jit")) == ["off"]
    with dbapi.write() as w:
        assert w.scalars(dbapi.Query("SHOW jit")) == ["off"]
