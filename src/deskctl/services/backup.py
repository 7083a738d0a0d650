"""Backups: SQLite through its online backup API, PostgreSQL through pg_dump."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine

from deskctl.errors import BadInput, StoreUnavailable


def backup_store(engine: Engine, path: str) -> int:
    target = Path(path)
    if target.exists() and target.is_dir():
        raise BadInput(f"{path} is a directory; give a file name")
    if not target.parent.exists():
        raise BadInput(f"folder {target.parent} does not exist")
    if engine.dialect.name == "sqlite":
        _sqlite_backup(str(engine.url.database), target)
    else:
        _pg_dump(engine, target)
    return target.stat().st_size


def _sqlite_backup(source: str, target: Path) -> None:
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)  # consistent even while other commands write
        finally:
            dst.close()
    finally:
        src.close()


def _pg_dump(engine: Engine, target: Path) -> None:
    exe = shutil.which("pg_dump")
    if exe is None:
        raise StoreUnavailable("pg_dump not found on PATH: install the PostgreSQL client tools")
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = [exe, "--format=custom", f"--file={target}", "--no-password"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    args.append(str(url.database))
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["pg_dump failed"])[-1]
        raise StoreUnavailable(f"pg_dump: {message}")
