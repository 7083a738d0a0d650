"""`ticket open`, `ticket list` and `ticket show`: intake, attachments, filters, history."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
import sqlite3
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.factory import open_ticket, seed_medisoft

AT = "2026-03-02T12:30:00Z"


def _attachments_root() -> Path:
    return Path(os.environ["DESKCTL_DATA_DIR"]) / "attachments"


def _ticket_count(cli) -> int:
    return len(cli.json("ticket", "list", "--limit", "0"))


def _open_args(seed: dict[str, str], *extra: str) -> list[str]:
    return [
        "ticket",
        "open",
        "--customer",
        seed["customer"],
        "--contact",
        seed["contact"],
        "--title",
        "Viewer crashes",
        "--product",
        seed["product"],
        *extra,
    ]


# -- open ---------------------------------------------------------------------------------


def test_open_prints_the_new_id_alone(cli, store) -> None:
    seed = seed_medisoft(cli)
    first = cli(*_open_args(seed))
    assert first.stdout == "1\n"
    assert cli(*_open_args(seed)).stdout == "2\n"
    assert first.stderr == ""


def test_open_json_is_the_ticket_document(cli) -> None:
    seed = seed_medisoft(cli)
    doc = cli.json(*_open_args(seed, "--at", "2026-03-02T09:30:00-03:00"))
    assert {
        "id",
        "status",
        "outcome",
        "severity",
        "category",
        "customer",
        "contact",
        "assignee",
        "parent_id",
        "children",
        "opened_at",
        "sla",
    } <= set(doc)
    assert doc["id"] == 1 and doc["status"] == "draft"
    assert doc["outcome"] is doc["severity"] is doc["category"] is doc["assignee"] is None
    assert doc["customer"] == "hosp" and doc["contact"] == "ana@hosp.example"
    assert doc["parent_id"] is None and doc["children"] == []
    assert doc["opened_at"] == AT  # given with an offset, reported in UTC with Z
    assert isinstance(doc["sla"], dict)
    assert cli.json("ticket", "show", "1")["opened_at"] == AT


def get_attachment(cli, ticket_id: str, name: str) -> bytes:
    return cli("ticket", "attachment", "get", ticket_id, name, "-o", "-").stdout_bytes


def test_attach_stores_the_file_in_the_store_under_a_safe_name(cli, tmp_path: Path) -> None:
    seed = seed_medisoft(cli)
    report = tmp_path / "my report (1).pdf"
    report.write_bytes(b"%PDF-1.4 the report")
    ticket_id = cli(*_open_args(seed, "--attach", str(report))).stdout.strip()
    [att] = cli.json("ticket", "show", ticket_id)["attachments"]
    assert " " not in att["filename"] and "(" not in att["filename"]
    assert att["filename"].endswith(".pdf")
    assert get_attachment(cli, ticket_id, att["filename"]) == report.read_bytes()
    assert att["sha256"] == hashlib.sha256(report.read_bytes()).hexdigest()
    assert report.exists()  # copied, not moved
    assert not _attachments_root().exists()  # nothing left beside the store


def test_attachment_named_like_a_path_gets_a_plain_name(cli, tmp_path: Path, monkeypatch) -> None:
    seed = seed_medisoft(cli)
    eml = _email(tmp_path, attachment=("../../etc/passwd", b"root:x:0:0"))
    ticket_id = cli("ticket", "open", "--from-eml", str(eml)).stdout.strip()
    [att] = cli.json("ticket", "show", ticket_id)["attachments"]
    assert "/" not in att["filename"] and not att["filename"].startswith(".")
    assert seed["contact"] == cli.json("ticket", "show", ticket_id)["contact"]
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    cli("ticket", "attachment", "get", ticket_id, att["filename"])
    assert [p.name for p in here.iterdir()] == [att["filename"]]


def test_attachments_with_the_same_name_are_both_kept(cli, tmp_path: Path) -> None:
    seed = seed_medisoft(cli)
    files = []
    for folder, text in (("monday", "first"), ("tuesday", "second")):
        (tmp_path / folder).mkdir()
        files += ["--attach", str(tmp_path / folder / "screen.png")]
        (tmp_path / folder / "screen.png").write_text(text)
    ticket_id = cli(*_open_args(seed, *files)).stdout.strip()
    stored = cli.json("ticket", "attachment", "list", ticket_id)
    assert len({a["filename"] for a in stored}) == 2
    got = sorted(get_attachment(cli, ticket_id, a["filename"]) for a in stored)
    assert got == [b"first", b"second"]


def test_the_same_content_is_stored_once(cli, store, tmp_path: Path) -> None:
    seed = seed_medisoft(cli)
    shot = tmp_path / "screen.png"
    shot.write_bytes(b"\x89PNG same bytes")
    first = cli(*_open_args(seed, "--attach", str(shot))).stdout.strip()
    second = cli(*_open_args(seed, "--attach", str(shot))).stdout.strip()
    from sqlalchemy import text

    from deskctl.store import db

    with db.session(db.ready_engine()) as s:
        assert s.execute(text("SELECT count(*) FROM attachment_blob")).scalar() == 1
    for ticket_id in (first, second):
        assert get_attachment(cli, ticket_id, "screen.png") == shot.read_bytes()


def test_get_refuses_to_overwrite_without_force(cli, tmp_path: Path) -> None:
    seed = seed_medisoft(cli)
    log = tmp_path / "error.log"
    log.write_text("E1042")
    ticket_id = cli(*_open_args(seed, "--attach", str(log))).stdout.strip()
    target = tmp_path / "out.log"
    target.write_text("mine")
    result = cli("ticket", "attachment", "get", ticket_id, "error.log", "-o", target, code=1)
    assert "exists: give --force" in result.stderr and target.read_text() == "mine"
    cli("ticket", "attachment", "get", ticket_id, "error.log", "-o", target, "--force")
    assert target.read_text() == "E1042"
    assert "no attachment" in cli(
        "ticket", "attachment", "get", ticket_id, "nope.txt", code=3
    ).stderr


@pytest.mark.parametrize("bad", ["missing.pdf", "a-directory"])
def test_unreadable_attach_is_usage_error_and_writes_nothing(
    cli, store, tmp_path: Path, bad: str
) -> None:
    seed = seed_medisoft(cli)
    (tmp_path / "a-directory").mkdir()
    good = tmp_path / "good.txt"
    good.write_text("fine")
    result = cli(*_open_args(seed, "--attach", str(good), "--attach", str(tmp_path / bad)), code=2)
    assert result.stderr.startswith("deskctl: --attach: cannot read")
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    assert _ticket_count(cli) == 0
    root = _attachments_root()
    assert not root.exists() or not any(root.iterdir())


def _email(
    tmp_path: Path,
    *,
    sender: str = "Ana Souza <ana@hosp.example>",
    subject: str = "PACS down since 8am",
    body: str = "The PACS viewer shows a blank screen on every workstation.",
    attachment: tuple[str, bytes] | None = ("error.log", b"E1042 timeout\n"),
) -> Path:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@medisoft.example"
    msg["Subject"] = subject
    msg.set_content(body)
    msg.add_alternative(f"<p>{body}</p>", subtype="html")
    if attachment:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    path = tmp_path / "message.eml"
    path.write_bytes(msg.as_bytes())
    return path


def test_open_from_an_email(cli, tmp_path: Path) -> None:
    seed_medisoft(cli)
    eml = _email(tmp_path)
    ticket_id = cli("ticket", "open", "--from-eml", str(eml), "--at", AT).stdout.strip()
    doc = cli.json("ticket", "show", ticket_id)
    assert doc["contact"] == "ana@hosp.example" and doc["customer"] == "hosp"
    assert doc["title"] == "PACS down since 8am"
    assert doc["fields"]["description"] == (
        "The PACS viewer shows a blank screen on every workstation."
    )
    assert doc["channel"] == "email"
    [att] = doc["attachments"]
    assert att["filename"] == "error.log" and att["size"] == len(b"E1042 timeout\n")
    assert get_attachment(cli, ticket_id, "error.log") == b"E1042 timeout\n"


def test_flags_win_over_the_email(cli, tmp_path: Path) -> None:
    seed_medisoft(cli)
    eml = _email(tmp_path, attachment=None)
    ticket_id = cli(
        "ticket", "open", "--from-eml", str(eml), "--title", "Own title", "--channel", "phone"
    ).stdout.strip()
    doc = cli.json("ticket", "show", ticket_id)
    assert doc["title"] == "Own title" and doc["channel"] == "phone"
    assert doc["attachments"] == []


def test_email_from_an_unknown_sender_is_not_found(cli, tmp_path: Path) -> None:
    seed_medisoft(cli)
    eml = _email(tmp_path, sender="stranger@elsewhere.example")
    result = cli("ticket", "open", "--from-eml", str(eml), code=3)
    assert "stranger@elsewhere.example" in result.stderr
    assert _ticket_count(cli) == 0
    assert not _attachments_root().exists() or not any(_attachments_root().iterdir())


@pytest.mark.parametrize(
    "change, wanted",
    [
        ({"--customer": "nobody"}, "no customer 'nobody'"),
        ({"--contact": "who@nowhere.example"}, "no contact who@nowhere.example"),
    ],
)
def test_unknown_customer_or_contact_is_not_found(cli, change, wanted) -> None:
    seed = seed_medisoft(cli)
    args = _open_args(seed)
    for flag, value in change.items():
        args[args.index(flag) + 1] = value
    result = cli(*args, code=3)
    assert wanted in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert _ticket_count(cli) == 0


@pytest.mark.parametrize("at", ["yesterday", "2026-03-02T12:30:00", "2026-02-30T10:00:00Z"])
def test_bad_at_is_usage_error_and_writes_nothing(cli, at: str) -> None:
    seed = seed_medisoft(cli)
    result = cli(*_open_args(seed, "--at", at), code=2)
    assert "--at" in result.stderr
    assert _ticket_count(cli) == 0


def test_empty_title_and_missing_contact_are_usage_errors(cli) -> None:
    seed = seed_medisoft(cli)
    args = _open_args(seed)
    args[args.index("--title") + 1] = "   "
    cli(*args, code=2)
    cli("ticket", "open", "--customer", "hosp", "--title", "x", code=2)
    assert _ticket_count(cli) == 0


def _seed_progresssoft(cli) -> dict[str, str]:
    cli("init", "--policy", str(EXAMPLES / "progresssoft.toml"))
    cli("customer", "add", "bank", "--name", "Petra Bank", "--country", "JO")
    cli("contact", "add", "bank", "rania@bank.example", "--name", "Rania")
    cli("product", "add", "cheque-clearing", "--current", "5.3")
    cli(
        "contract",
        "add",
        "bank",
        "--plan",
        "assistance",
        "--start",
        "2026-01-01",
        "--product",
        "cheque-clearing",
    )
    return {"customer": "bank", "contact": "rania@bank.example", "product": "cheque-clearing"}


ALL_REQUIRED = [
    "--version",
    "5.3",
    "--server",
    "Oracle 19c",
    "--os",
    "RHEL 8",
    "--hardware",
    "Panini Vision X",
    "--task",
    "outward clearing",
    "--error",
    "PS-1042",
]


def test_missing_required_fields_leave_the_ticket_incomplete(cli) -> None:
    """ProgressSoft needs version, server, OS, hardware, task and error before work starts."""
    seed = _seed_progresssoft(cli)
    partial = cli.json(*_open_args(seed, "--channel", "phone", "--version", "5.3"))
    complete = cli.json(*_open_args(seed, "--channel", "phone", *ALL_REQUIRED, "--at", AT))
    assert partial["status"] == complete["status"] == "draft"
    assert partial["info_complete_at"] is None
    assert complete["info_complete_at"] == AT
    kinds = [e["kind"] for e in cli.json("ticket", "show", str(partial["id"]))["events"]]
    assert kinds == ["opened"]
    kinds = [e["kind"] for e in cli.json("ticket", "show", str(complete["id"]))["events"]]
    assert kinds == ["opened", "info_complete"]


def test_channel_outside_the_policy_is_usage_error(cli) -> None:
    seed = _seed_progresssoft(cli)
    # portal is not a ProgressSoft channel
    result = cli(*_open_args(seed, *ALL_REQUIRED, "--channel", "portal"), code=2)
    assert "--channel" in result.stderr
    assert _ticket_count(cli) == 0


# -- show ---------------------------------------------------------------------------------


def test_show_json_has_the_event_history(cli, store) -> None:
    seed = seed_medisoft(cli)
    ticket_id = open_ticket(cli, seed, "Slow reports", at=AT)
    doc = cli.json("ticket", "show", str(ticket_id))
    assert doc["rev"] == len(doc["events"]) == 2
    opened, complete = doc["events"]
    assert (opened["seq"], opened["kind"], opened["from"], opened["to"]) == (
        1,
        "opened",
        None,
        "draft",
    )
    assert opened["actor"] == "tester" and opened["at"] == AT
    assert opened["data"]["title"] == "Slow reports"
    assert opened["data"]["fields"]["product"] == "pacs"
    assert (complete["seq"], complete["kind"], complete["to"]) == (2, "info_complete", None)


def test_show_of_a_demo_ticket_replays_its_whole_life(cli, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-01T10:00:00Z")
    cli("demo", "--tickets", "80")
    closed = cli("ticket", "list", "--status", "closed", "--limit", "1", "-q").stdout.strip()
    doc = cli.json("ticket", "show", closed)
    assert doc["rev"] == len(doc["events"]) > 2
    assert [e["seq"] for e in doc["events"]] == list(range(1, doc["rev"] + 1))
    moves = [e for e in doc["events"] if e["to"]]
    assert moves[0]["from"] is None and moves[-1]["to"] == "closed"
    for before, after in itertools.pairwise(moves):
        assert after["from"] == before["to"]


def test_show_unknown_ticket_is_not_found(cli) -> None:
    cli("init")
    assert cli("ticket", "show", "42", code=3).stderr.strip() == "deskctl: no ticket 42"


# -- list ---------------------------------------------------------------------------------


@pytest.fixture
def demo_store(cli, monkeypatch) -> sqlite3.Connection:
    """A few hundred tickets in every status, and a connection to check lists against."""
    monkeypatch.setenv("DESKCTL_NOW", "2026-03-01T10:00:00Z")
    cli("demo", "--tickets", "300", "--seed", "8")
    return sqlite3.connect(os.environ["DESKCTL_DB"])


def _ids(cli, *args: str) -> list[int]:
    return [int(line) for line in cli("ticket", "list", "-q", *args).stdout.split()]


def _expected(con: sqlite3.Connection, where: str, *params: object) -> list[int]:
    rows = con.execute(f"SELECT id FROM ticket WHERE {where} ORDER BY id DESC", params)
    return [r[0] for r in rows]


def test_list_filters(cli, demo_store: sqlite3.Connection) -> None:
    con = demo_store
    assert _ids(cli, "--status", "queued", "--limit", "0") == _expected(con, "status = 'queued'")
    both = _ids(cli, "--status", "queued", "--status", "in_progress", "--limit", "0")
    assert both == _expected(con, "status IN ('queued', 'in_progress')")
    assert _ids(cli, "--open", "--limit", "0") == _expected(con, "status != 'closed'")
    assert _ids(cli, "--severity", "high", "--limit", "0") == _expected(con, "severity = 'high'")
    key, cid = con.execute("SELECT key, id FROM customer ORDER BY id LIMIT 1").fetchone()
    assert _ids(cli, "--customer", key, "--limit", "0") == _expected(con, "customer_id = ?", cid)
    agent = con.execute(
        "SELECT assignee FROM ticket WHERE assignee IS NOT NULL "
        "GROUP BY assignee ORDER BY COUNT(*) DESC"
    ).fetchone()[0]
    mine = _ids(cli, "--assignee", agent, "--open", "--limit", "0")
    assert mine == _expected(con, "assignee = ? AND status != 'closed'", agent)
    for filtered in (both, mine):
        assert filtered  # the demo has data for every filter


def test_list_limit_gives_the_newest(cli, demo_store: sqlite3.Connection) -> None:
    assert _ids(cli, "--limit", "5") == _expected(demo_store, "1 = 1")[:5]
    assert len(_ids(cli)) == 100  # the default limit
    assert len(_ids(cli, "--limit", "0")) == 300


def test_list_output_formats(cli, demo_store: sqlite3.Connection) -> None:
    newest = _expected(demo_store, "1 = 1")[:3]
    tsv = cli("ticket", "list", "--limit", "3").stdout.splitlines()  # piped: TSV
    assert [int(line.split("\t")[0]) for line in tsv] == newest
    assert len({len(line.split("\t")) for line in tsv}) == 1
    rows = list(csv.reader(io.StringIO(cli("ticket", "list", "--limit", "3", "--csv").stdout)))
    header, body = rows[0], rows[1:]
    assert header[0] == "id" and "status" in header and "title" in header
    assert [int(r[0]) for r in body] == newest
    status = header.index("status")
    states = dict(demo_store.execute("SELECT id, status FROM ticket"))
    assert [r[status] for r in body] == [states[i] for i in newest]
    docs = cli.json("ticket", "list", "--limit", "3")
    assert [d["id"] for d in docs] == newest
    assert all(d["opened_at"].endswith("Z") for d in docs)


@pytest.mark.parametrize(
    "args", [["--status", "open"], ["--limit", "-1"], ["--json", "--csv"], ["-q", "--json"]]
)
def test_list_bad_arguments_are_usage_errors(cli, args: list[str]) -> None:
    cli("init")
    result = cli("ticket", "list", *args, code=2)
    assert len(result.stderr.strip().splitlines()) == 1


def test_list_unknown_customer_is_not_found(cli) -> None:
    cli("init")
    cli("ticket", "list", "--customer", "nobody", code=3)


def test_list_of_an_empty_store_prints_no_rows(cli) -> None:
    cli("init")
    assert cli("ticket", "list").stdout == ""
    assert cli.json("ticket", "list") == []


def test_db_backup_contains_the_attachments(cli, tmp_path: Path) -> None:
    seed = seed_medisoft(cli)
    shot = tmp_path / "screen.png"
    shot.write_bytes(b"\x89PNG pixels")
    cli(*_open_args(seed, "--attach", str(shot)))
    backup = tmp_path / "backup.db"
    cli("db", "backup", backup)
    conn = sqlite3.connect(backup)
    try:
        [(content,)] = conn.execute("SELECT content FROM attachment_blob").fetchall()
    finally:
        conn.close()
    assert content == shot.read_bytes()


def test_attachments_saved_as_files_before_0009_are_still_read(cli, tmp_path: Path) -> None:
    from sqlalchemy import text

    from deskctl.store import db

    seed = seed_medisoft(cli)
    ticket_id = open_ticket(cli, seed)
    old = tmp_path / "old.log"
    old.write_bytes(b"written by deskctl 0006")
    with db.session(db.ready_engine(), write=True) as s:
        s.execute(
            text(
                "INSERT INTO attachment (ticket_id, filename, stored_path, size, sha256, added_at)"
                " VALUES (:t, 'old.log', :p, :n, :h, '2026-01-01 00:00:00.000000')"
            ),
            {"t": ticket_id, "p": str(old), "n": old.stat().st_size,
             "h": hashlib.sha256(old.read_bytes()).hexdigest()},
        )
    got = cli("ticket", "attachment", "get", ticket_id, "old.log", "-o", "-").stdout_bytes
    assert got == b"written by deskctl 0006"
