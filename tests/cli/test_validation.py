"""Bad input: one line on stderr, the exit code of rules §10, nothing written (issue #14)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLES, ROOT
from tests.factory import open_ticket, seed_medisoft


def one_line(result) -> str:
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def dump() -> list[str]:
    with sqlite3.connect(os.environ["DESKCTL_DB"]) as conn:
        return list(conn.iterdump())


def test_unknown_severity_filters_are_refused(cli) -> None:
    seed_medisoft(cli)
    assert "'bogus' is not one of" in one_line(
        cli("ticket", "list", "--severity", "bogus", code=2))
    assert "'bogus' is not one of" in one_line(
        cli("sla", "report", "--from", "2026-01-01", "--to", "2026-02-01",
            "--severity", "bogus", code=2))
    cli("ticket", "list", "--severity", "high")


@pytest.mark.parametrize("current", ["not.a.version", "<script>1</script>", "6.2 beta", "v 6"])
def test_product_current_must_be_a_version(cli, current) -> None:
    cli("init")
    one_line(cli("product", "add", "pacs", "--current", current, code=2))
    assert cli.json("product", "list") == []
    cli("product", "add", "pacs", "--current", "6.2-lts")


def test_policy_targets_beyond_a_year_are_refused(cli, tmp_path) -> None:
    text = (EXAMPLES / "medisoft.toml").read_text()
    assert 'high = "8h"' in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('high = "8h"', 'high = "99999999999h"', 1))
    assert "longer than a year" in one_line(cli("policy", "load", str(bad), code=2))


def test_deeply_nested_toml_is_one_line(cli, tmp_path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    one_line(cli("policy", "load", str(deep), code=2))
    config = tmp_path / "config.toml"
    config.write_text("a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n")
    one_line(cli("sweep", code=2, env={"DESKCTL_CONFIG": str(config)}))


def test_a_password_in_the_config_file_is_refused(cli, tmp_path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[smtp]\nhost = "mail.example"\npassword = "hunter2"\n')
    monkeypatch.setenv("DESKCTL_CONFIG", str(config))
    err = one_line(cli("sweep", code=2))
    assert "smtp.password: never write a password here" in err
    assert "hunter2" not in err


def test_a_config_path_that_is_a_fifo_or_a_directory_is_refused_not_waited_on(
    cli, tmp_path
) -> None:
    import os

    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)  # opening it for reading would block until someone writes
    err = one_line(cli("sweep", code=2, env={"DESKCTL_CONFIG": str(fifo)}))
    assert "not a regular file" in err
    err = one_line(cli("sweep", code=2, env={"DESKCTL_CONFIG": str(tmp_path)}))
    assert "not a regular file" in err


def test_unknown_config_keys_are_named(cli, tmp_path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[smtp]\nhots = "mail.example"\n')
    monkeypatch.setenv("DESKCTL_CONFIG", str(config))
    cli("init")
    result = cli("sweep")
    assert "[smtp] hots is unknown" in result.stderr


@pytest.mark.parametrize("args", [
    ("ticket", "show", "99999999999999999999"),
    ("ticket", "list", "--limit", "99999999999999999999999"),
    ("ticket", "triage", "99999999999999999999", "--severity", "high"),
])
def test_huge_ids_and_limits(cli, store, args) -> None:
    cli("init")
    result = cli(*args, code=None)
    assert result.exit_code in (2, 3)
    one_line(result)


def test_arguments_that_are_not_utf8_are_usage_errors(tmp_path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(
        [sys.executable, "-m", "deskctl", "customer", "add", b"ac\xffme", "--name", "x",
         "--country", "IT"], capture_output=True, env=env, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr == b"deskctl: argument 3 is not valid UTF-8 text\n"


@pytest.mark.parametrize("title", ["Inj\r\nBcc: x", "esc \x1b[31mred", "nul\x00", "\u200b\u200b",
                                   "   ", "x" * 301])
def test_titles_are_one_visible_line_that_fits(cli, store, title) -> None:
    seed = seed_medisoft(cli)
    result = cli("ticket", "open", "--customer", "hosp", "--contact", seed["contact"],
                 "--title", title, code=2)
    one_line(result)
    assert cli.json("ticket", "list") == []


def test_a_title_that_fits_is_accepted_on_both_backends(cli, store) -> None:
    seed = seed_medisoft(cli)
    tid = open_ticket(cli, seed, "é" * 300)
    assert cli.json("ticket", "show", str(tid))["title"] == "é" * 300


@pytest.mark.parametrize("args", [
    ("customer", "add", "acme\n", "--name", "A", "--country", "IT"),
    ("customer", "add", "acme", "--name", "A\x1b]0;pwned\x07", "--country", "IT"),
    ("customer", "add", "acme", "--name", "n" * 201, "--country", "IT"),
    ("contact", "add", "hosp", "a\r\n@x.example", "--name", "A"),
    ("contact", "add", "hosp", "b@x.example", "--name", "B\nC"),
    ("agent", "add", "bob", "--name", "Bob\x1b[2J"),
])
def test_names_keys_and_addresses_refuse_control_characters(cli, args) -> None:
    seed_medisoft(cli)
    before = dump()
    one_line(cli(*args, code=2))
    assert dump() == before


def test_notes_and_comments_refuse_escapes_but_keep_newlines(cli) -> None:
    seed = seed_medisoft(cli)
    tid = open_ticket(cli, seed)
    before = dump()
    one_line(cli("ticket", "comment", str(tid), "bad \x1b[2J", code=2))
    assert dump() == before
    cli("ticket", "comment", str(tid), "line one\nline two\twith a tab")


@pytest.mark.parametrize("content", [
    b"From: a@hosp.example\r\nSubject: x\r\n"
    b"Content-Type: text/plain; charset=klingon\r\n\r\nhi\r\n",
    b"From: =?utf-8?q?ana=0D=0ABcc=3A_x?= <ana@hosp.example\r\n\r\nbody\r\n",
    b"From: ana@hosp.example\r\n" + b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(3000)),
    b"\xff\xfe garbage \x00\x00",
])
def test_broken_eml_files_never_crash(cli, tmp_path, content) -> None:
    seed_medisoft(cli)
    eml = tmp_path / "m.eml"
    eml.write_bytes(content)
    result = cli("ticket", "open", "--customer", "hosp", "--from-eml", str(eml), code=None)
    assert result.exit_code in (0, 2, 3), result.stderr
    if result.exit_code:
        one_line(result)


def test_unknown_charset_is_decoded_best_effort(cli, tmp_path) -> None:
    seed_medisoft(cli)
    eml = tmp_path / "m.eml"
    eml.write_bytes(b"From: ana@hosp.example\r\nSubject: odd charset\r\n"
                    b"Content-Type: text/plain; charset=klingon\r\n\r\nthe words survive\r\n")
    tid = int(cli("ticket", "open", "--customer", "hosp", "--from-eml", str(eml)).stdout)
    assert "the words survive" in str(cli.json("ticket", "show", str(tid)))


def test_assign_to_an_unknown_agent_is_not_found(cli) -> None:
    seed = seed_medisoft(cli)
    tid = open_ticket(cli, seed)
    before = dump()
    assert "no agent 'nobody'" in one_line(cli("ticket", "assign", str(tid), "--to", "nobody",
                                               code=3))
    assert dump() == before
    cli("agent", "add", "alice", "--name", "Alice")
    cli("ticket", "assign", str(tid), "--to", "alice")


@pytest.mark.pg
def test_postgresql_connection_refused_is_one_line_exit_5(cli, monkeypatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DESKCTL_DB", f"postgresql+psycopg://nobody@127.0.0.1:{port}/x")
    assert "store unavailable" in one_line(cli("ticket", "list", code=5))


@pytest.mark.pg
def test_postgresql_insufficient_privilege_is_one_line_exit_5(cli, pg_cluster, pg_url,
                                                              monkeypatch) -> None:
    import psycopg

    cli("init")
    admin = pg_url.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS reader")
        conn.execute("CREATE ROLE reader LOGIN")
        conn.execute("GRANT SELECT ON alembic_version TO reader")
    dbname = pg_url.rsplit("/", 1)[1]
    monkeypatch.setenv(
        "DESKCTL_DB", f"postgresql+psycopg://reader@127.0.0.1:{pg_cluster.port}/{dbname}")
    err = one_line(cli("customer", "list", code=5))
    assert "permission denied" in err
