"""Faults that must never corrupt, half-write or block (issue #14, integrity cases 1-7)."""

from __future__ import annotations

import mailbox
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_sweep import prepare, table
from tests.factory import open_ticket, seed_medisoft

NOW = "2026-03-10T14:00:00Z"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def wide_umask() -> Any:
    """The umask of a careless shell: files would be world-readable without files.py."""
    old = os.umask(0o022)
    yield
    os.umask(old)


# -- 1. one poisoned message never blocks the others -----------------------------------


def _raw_enqueue(key: str, recipient: str, subject: str) -> None:
    """A row as an older deskctl (or another writer) left it: nothing sanitised."""
    path = os.environ["DESKCTL_DB"]
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO outbox_message (key, recipient, subject, body, created_at, attempts) "
            "VALUES (?, ?, ?, 'body', '2026-03-10 09:00:00.000000', 0)",
            (key, recipient, subject),
        )


def test_poisoned_headers_are_sanitised_and_a_broken_message_fails_alone(
    cli, monkeypatch
) -> None:
    prepare(cli)
    _raw_enqueue("k1", "ana@clinic.example", "Inj\r\nBcc: victim@evil.example")
    _raw_enqueue("k2", "a@[", "unsendable recipient")
    _raw_enqueue("k3", "luis@clinic.example", "fine")
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    result = cli("sweep", code=1)
    assert "done, with failures" in result.stderr
    assert "1 message(s) cannot be sent" in result.stderr
    assert "Traceback" not in result.stderr
    box = mailbox.Maildir(str(Path(os.environ["DESKCTL_DATA_DIR"]) / "outbox"), create=False)
    sent = sorted(str(m["Subject"]) for m in box)
    assert sent == ["Inj Bcc: victim@evil.example", "fine"]
    assert all(m["Bcc"] is None for m in box)
    rows = {r["key"]: r for r in cli.json("mail", "outbox")}
    assert rows["k1"]["status"] == rows["k3"]["status"] == "sent"
    assert rows["k2"]["status"] == "failed"
    assert rows["k2"]["last_error"].startswith("unsendable: ")


def test_enqueue_stores_a_one_line_subject(cli) -> None:
    from deskctl import clock
    from deskctl.services import mail
    from deskctl.store import db

    prepare(cli)
    with db.session(db.ready_engine(), write=True) as s:
        mail.enqueue(s, key="k", recipient="a@b.example", subject="a\r\nBcc: x\x1b[2J",
                     body="b", now=clock.now())
    [row] = table("outbox_message")
    assert row["subject"] == "a Bcc: x [2J"


# -- 2. backups and every written file: atomic, owner-only -----------------------------


def test_failed_backup_leaves_the_previous_one(cli, tmp_path, monkeypatch) -> None:
    cli("init")
    target = tmp_path / "backup.db"
    target.write_bytes(b"the previous backup")

    def broken(source: str, tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("deskctl.services.backup._sqlite_backup", broken)
    result = cli("db", "backup", str(target), code=5)
    assert "No space left on device" in result.stderr
    assert target.read_bytes() == b"the previous backup"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".backup")) == []


def test_backup_is_complete_and_owner_only(cli, tmp_path, wide_umask) -> None:
    seed_medisoft(cli)
    target = tmp_path / "b.db"
    target.write_bytes(b"old")
    cli("db", "backup", str(target))
    assert mode(target) == 0o600
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT key FROM customer").fetchall() == [("hosp",)]


@pytest.mark.pg
def test_pg_backup_passes_the_whole_libpq_connection(cli, pg_cluster, pg_url, tmp_path,
                                                     monkeypatch) -> None:
    """``?host=/socket`` (a Unix socket) reaches pg_dump; a failure keeps the old file."""
    cli("init")
    dbname = pg_url.rsplit("/", 1)[1]
    socket_url = (f"postgresql+psycopg://{pg_cluster.user}@/{dbname}"
                  f"?host={pg_cluster.root}&port={pg_cluster.port}")
    monkeypatch.setenv("DESKCTL_DB", socket_url)
    target = tmp_path / "pg.dump"
    target.write_bytes(b"previous")
    cli("db", "backup", str(target))
    assert target.read_bytes()[:5] == b"PGDMP" and mode(target) == 0o600
    before = target.read_bytes()
    monkeypatch.setenv("DESKCTL_DB", socket_url.replace(f"/{dbname}?", "/no_such_db?"))
    from deskctl.services.backup import backup_store
    from deskctl.store import db

    with pytest.raises(Exception, match="pg_dump"):
        backup_store(db.default_engine(), str(target))
    assert target.read_bytes() == before
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_every_file_deskctl_writes_is_owner_only(cli, tmp_path, monkeypatch, wide_umask) -> None:
    data = tmp_path / "fresh-data"
    monkeypatch.setenv("DESKCTL_DATA_DIR", str(data))
    store = tmp_path / "new" / "store.db"
    monkeypatch.setenv("DESKCTL_DB", str(store))
    seed = seed_medisoft(cli)
    note = tmp_path / "note.txt"
    note.write_text("log")
    tid = open_ticket(cli, seed, "Printer", "--attach", str(note))
    cli("sla", "report", "--from", "2026-01-01", "--to", "2026-12-31",
        "--html", str(tmp_path / "r.html"))
    assert mode(store) == 0o600 and mode(store.parent) == 0o700
    for suffix in ("-wal", "-shm"):
        extra = Path(str(store) + suffix)
        assert not extra.exists() or mode(extra) == 0o600
    assert mode(tmp_path / "r.html") == 0o600
    # attachments live in the store (#15); one read back out is owner-only too
    out = tmp_path / "out" / "note.txt"
    out.parent.mkdir(mode=0o755)
    cli("ticket", "attachment", "get", tid, "note.txt", "-o", str(out))
    assert out.read_text() == "log" and mode(out) == 0o600


# -- 3. a store that is not deskctl's is never written into ----------------------------


def test_foreign_sqlite_file_is_refused_and_left_alone(cli, tmp_path, monkeypatch) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE users (id INTEGER)")
    monkeypatch.setenv("DESKCTL_DB", str(other))
    before = other.read_bytes()
    for args in (("init",), ("db", "upgrade"), ("ticket", "list")):
        result = cli(*args, code=5)
        assert "not a deskctl store (found tables users)" in result.stderr
    assert other.read_bytes() == before


@pytest.mark.parametrize("kind", ["text", "random", "directory"])
def test_a_file_that_is_no_database_is_one_line_exit_5(cli, tmp_path, monkeypatch, kind) -> None:
    path = tmp_path / "thing"
    if kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(b"hello\n" if kind == "text" else os.urandom(4096))
    monkeypatch.setenv("DESKCTL_DB", str(path))
    result = cli("init", code=5)
    assert result.stderr.count("\n") == 1 and "store unavailable" in result.stderr


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgresql+asyncpg://u@h/db",
                                 "postgresql://u@h:port/db", "sqlite+nope:///x"])
def test_unsupported_or_malformed_urls_are_one_line_exit_2(cli, monkeypatch, url) -> None:
    monkeypatch.setenv("DESKCTL_DB", url)
    result = cli("init", code=2)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("deskctl: DESKCTL_DB")


@pytest.mark.pg
def test_foreign_postgresql_database_is_refused(cli, pg_url) -> None:
    import psycopg

    with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    result = cli("init", code=5)
    assert "found tables invoices" in result.stderr


# -- 4. a newer store than this program --------------------------------------------------


def _set_revision(store: str, rev: str) -> None:
    if store == "sqlite":
        with sqlite3.connect(os.environ["DESKCTL_DB"]) as conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (rev,))
        return
    import psycopg

    with psycopg.connect(os.environ["DESKCTL_DB"].replace("+psycopg", ""),
                         autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = %s", (rev,))


def test_newer_store_is_refused_by_every_command(cli, store) -> None:
    from deskctl.store.db import SCHEMA_HEAD

    cli("init")
    newer = f"{int(SCHEMA_HEAD) + 93:04d}"
    _set_revision(store, newer)
    expected = (f"deskctl: store is at revision {newer}, newer than this deskctl "
                f"(head {SCHEMA_HEAD}): upgrade deskctl\n")
    for args in (("init",), ("db", "upgrade"), ("ticket", "list"), ("customer", "list")):
        assert cli(*args, code=5).stderr == expected
    _set_revision(store, "a1b2c3d4e5f6")
    assert "not a deskctl store" in cli("init", code=5).stderr


# -- 5. time travel ----------------------------------------------------------------------


def _events(cli, tid: int) -> list[dict]:
    return cli.json("ticket", "show", str(tid))["events"]


def test_events_in_the_future_are_refused_and_the_ticket_keeps_working(cli, monkeypatch) -> None:
    seed = seed_medisoft(cli)
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    tid = open_ticket(cli, seed)
    before = _events(cli, tid)
    result = cli("ticket", "triage", str(tid), "--severity", "high", "--at", "2030-01-01", code=2)
    assert "2030-01-01T00:00:00Z is in the future (now is " in result.stderr
    assert _events(cli, tid) == before
    cli("ticket", "triage", str(tid), "--severity", "high")  # at the real time: fine
    cli("ticket", "triage", str(tid), "--severity", "medium", "--at", "2026-03-10T14:04:00Z")


def test_nothing_before_the_ticket_was_opened(cli, monkeypatch) -> None:
    seed = seed_medisoft(cli)
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    tid = open_ticket(cli, seed, at="2026-03-09T12:00:00Z")
    for at in ("2020-06-01", "2026-03-09T11:59:59Z"):
        result = cli("ticket", "log", str(tid), "30", "--at", at, code=2)
        assert "before the ticket was opened at 2026-03-09T12:00:00Z" in result.stderr
    assert cli.json("bill", "--customer", "hosp", "--from", "2020-01-01",
                    "--to", "2020-12-31")["lines"] == []
    cli("ticket", "log", str(tid), "30", "--at", "2026-03-09T13:00:00Z")


@pytest.mark.parametrize("at", ["0001-01-01", "0001-01-01T00:00+05:00", "9999-01-01",
                                "9999-12-31T23:00-05:00", "1969-12-31T23:59Z", "2100-01-01"])
def test_instants_outside_1970_2100_are_usage_errors(cli, at) -> None:
    seed = seed_medisoft(cli)
    result = cli("ticket", "open", "--customer", "hosp", "--contact", seed["contact"],
                 "--title", "t", "--at", at, code=2)
    assert result.stderr.count("\n") == 1 and "outside 1970-2099" in result.stderr
    assert cli.json("ticket", "list") == []
    bad_now = cli("queue", code=2, env={"DESKCTL_NOW": at})
    assert "DESKCTL_NOW" in bad_now.stderr and "Traceback" not in bad_now.stderr


# -- 6. attachments ----------------------------------------------------------------------


def _open_with(cli, seed, *extra: str, code: int = 0) -> Any:
    return cli("ticket", "open", "--customer", "hosp", "--contact", seed["contact"],
               "--title", "with a file", *extra, code=code)


def test_only_regular_files_are_attached(cli, tmp_path) -> None:
    seed = seed_medisoft(cli)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo), str(tmp_path)):
        result = _open_with(cli, seed, "--attach", path, code=2)
        assert "is not a regular file" in result.stderr or "is a directory" in result.stderr
    assert cli.json("ticket", "list") == []


def test_attachment_size_limit_is_checked_before_copying(cli, tmp_path, monkeypatch) -> None:
    seed = seed_medisoft(cli)
    config = tmp_path / "config.toml"
    config.write_text("[attachments]\nmax_mb = 1\n")
    monkeypatch.setenv("DESKCTL_CONFIG", str(config))
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 1_000_001)
    result = _open_with(cli, seed, "--attach", str(big), code=2)
    assert "more than the limit of 1000000 bytes" in result.stderr
    big.write_bytes(b"x" * 1_000_000)
    _open_with(cli, seed, "--attach", str(big))


def test_disk_full_writing_an_attachment_out_leaves_nothing(cli, tmp_path, monkeypatch) -> None:
    """Attachments live in the store (#15); the file deskctl writes is the copy read back."""
    seed = seed_medisoft(cli)
    first = tmp_path / "a.log"
    first.write_bytes(b"a" * 300_000)
    tid = open_ticket(cli, seed, "with a file", "--attach", str(first))
    import deskctl.files as files

    real = files._write_all

    def filling(fd: int, data: bytes) -> None:
        os.write(fd, data[:1000])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "_write_all", filling)
    out = tmp_path / "out"
    out.mkdir()
    result = cli("ticket", "attachment", "get", tid, "a.log", "-o", str(out / "a.log"), code=5)
    assert "No space left on device" in result.stderr
    assert list(out.iterdir()) == []
    monkeypatch.setattr(files, "_write_all", real)
    cli("ticket", "attachment", "get", tid, "a.log", "-o", str(out / "a.log"))
    assert (out / "a.log").read_bytes() == first.read_bytes()


def test_a_forwarded_message_is_kept_as_an_eml(cli, tmp_path) -> None:
    seed_medisoft(cli)
    eml = tmp_path / "fwd.eml"
    eml.write_bytes(
        b"From: Ana <ana@hosp.example>\r\nTo: support@vendor.example\r\n"
        b"Subject: Fwd: the error\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee the forwarded mail.\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"
        b"From: pacs@hosp.example\r\nSubject: PACS error 42\r\n\r\nDisk quota exceeded.\r\n"
        b"--b--\r\n"
    )
    tid = int(cli("ticket", "open", "--customer", "hosp", "--from-eml", str(eml)).stdout)
    [kept] = cli.json("ticket", "attachment", "list", str(tid))
    assert kept["filename"].endswith(".eml")
    out = tmp_path / "kept.eml"
    cli("ticket", "attachment", "get", str(tid), kept["filename"], "-o", str(out))
    assert b"Subject: PACS error 42" in out.read_bytes()
    assert b"Disk quota exceeded." in out.read_bytes()


# -- 7. sweep --dry-run lists exactly what sweep does ------------------------------------


def test_dry_run_matches_the_real_sweep_on_the_demo_store(cli, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-18T15:00:00Z")
    cli("demo", "--tickets", "400", "--seed", "7")
    dump_before = _dump(Path(os.environ["DESKCTL_DB"]))
    dry = cli.json("sweep", "--dry-run")
    assert _dump(Path(os.environ["DESKCTL_DB"])) == dump_before
    real = cli.json("sweep", code=None)
    steps = sorted((a["ticket"], a["action"], a["at"], a["key"]) for a in real["actions"])
    assert steps == sorted((a["ticket"], a["action"], a["at"], a["key"]) for a in dry["actions"])
    assert any(a["action"].startswith("sla_") for a in real["actions"])
    assert dry["mail"]["pending"] == real["mail"]["sent"] + real["mail"]["pending"]


def _dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())
