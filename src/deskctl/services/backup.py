"""Backups: SQLite through its online backup API, PostgreSQL through pg_dump.

Either way the backup is written to a temporary file next to the target and
renamed onto it only when complete (``deskctl.files``): a failed backup leaves
the previous one as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from deskctl import files
from deskctl.errors import BadInput, StoreUnavailable

# URL query keys that are libpq connection parameters (PG* environment variables).
_LIBPQ_ENV = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "gssencmode": "PGGSSENCMODE",
    "krbsrvname": "PGKRBSRVNAME",
    "channel_binding": "PGCHANNELBINDING",
}


def backup_store(engine: Engine, path: str) -> int:
    target = Path(path)
    if target.exists() and target.is_dir():
        raise BadInput(f"{path} is a directory; give a file name")
    if not target.parent.exists():
        raise BadInput(f"folder {target.parent} does not exist")
    with files.replacing(target, what="db backup") as tmp:
        if engine.dialect.name == "sqlite":
            _sqlite_backup(str(engine.url.database), tmp)
        else:
            _pg_dump(engine.url, tmp)
    return target.stat().st_size


def _sqlite_backup(source: str, target: Path) -> None:
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)  # consistent even while other commands write
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"db backup: {exc}") from None
    finally:
        src.close()


def pg_dump_env(url: URL) -> dict[str, str]:
    """The whole libpq connection of ``url`` as PG* variables for pg_dump: host, port,
    user, password, and every libpq parameter in the query (``?host=/socket``,
    ``sslmode``, ``service``...), so pg_dump reaches the same server deskctl does."""
    env = dict(os.environ)
    if url.host:
        env["PGHOST"] = str(url.host)
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = str(url.username)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    if url.database:
        env["PGDATABASE"] = str(url.database)
    for key, value in url.query.items():
        var = _LIBPQ_ENV.get(key)
        if var is None:
            continue
        env[var] = value if isinstance(value, str) else ",".join(value)
    return env


def _pg_dump(url: URL, target: Path) -> None:
    exe = shutil.which("pg_dump")
    if exe is None:
        raise StoreUnavailable("pg_dump not found on PATH: install the PostgreSQL client tools")
    args = [exe, "--format=custom", f"--file={target}", "--no-password"]
    done = subprocess.run(args, env=pg_dump_env(url), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["pg_dump failed"])[-1]
        raise StoreUnavailable(f"pg_dump: {message}")
