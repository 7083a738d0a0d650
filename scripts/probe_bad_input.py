#!/usr/bin/env python
"""Run the bad-input probes of issue #14 against a fresh store: `python scripts/probe_bad_input.py`.

Each probe is a command a hostile but realistic user would type, with the exit code
SPEC §10 asks for. A probe passes when deskctl answers with exactly one line on
stderr (no traceback), that exit code, and the store unchanged (an SQL dump compared
before and after). Prints one line per failing probe and a summary; exits 1 if any
probe fails. ``--verbose`` lists the passing ones too.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

NOW = "2026-03-10T14:00:00Z"
EXAMPLES = ROOT / "src" / "deskctl" / "examples"


@dataclass
class Probe:
    args: list[str]
    code: int
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None


def _probes(tmp: Path) -> list[Probe]:
    t = ["ticket", "open", "--customer", "hosp", "--contact", "ana@hosp.example"]
    fifo = tmp / "fifo"
    os.mkfifo(fifo)
    deep = tmp / "deep.toml"
    deep.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    huge = tmp / "huge.toml"
    huge.write_text((EXAMPLES / "medisoft.toml").read_text().replace(
        'high = "8h"', 'high = "99999999999h"', 1))
    other = tmp / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE users (id INTEGER)")
    text_file = tmp / "notes.txt"
    text_file.write_text("not a database\n")
    cfg_pw = tmp / "pw.toml"
    cfg_pw.write_text('[smtp]\nhost = "mail.example"\npassword = "secret"\n')
    cfg_deep = tmp / "deepcfg.toml"
    cfg_deep.write_text("a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n")
    eml_deep = tmp / "deep.eml"
    eml_deep.write_bytes(b"From: ana@hosp.example\r\n" + b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(3000)))
    eml_nofrom = tmp / "nofrom.eml"
    eml_nofrom.write_bytes(b"Subject: hi\r\n\r\nbody\r\n")
    big = tmp / "big.bin"
    big.write_bytes(b"x" * 1_000_001)
    cfg_small = tmp / "small.toml"
    cfg_small.write_text("[attachments]\nmax_mb = 1\n")
    p = Probe
    return [
        # enum filters and values
        p(["ticket", "list", "--severity", "bogus"], 2),
        p(["ticket", "list", "--status", "bogus"], 2),
        p(["ticket", "list", "--sort", "bogus"], 2),
        p(["sla", "report", "--from", "2026-01-01", "--to", "2026-12-31", "--severity", "x"], 2),
        p(["ticket", "triage", "1", "--severity", "bogus"], 2),
        p(["ticket", "close", "1", "--outcome", "bogus"], 2),
        p(["ticket", "wait", "1", "--on", "bogus"], 2),
        p(["ticket", "contact", "1", "--via", "pigeon", "--outcome", "reached"], 2),
        p(["agent", "add", "bob", "--role", "king"], 2),
        # product versions
        p(["product", "add", "x1", "--current", "not.a.version"], 2),
        p(["product", "add", "x2", "--current", "<script>1</script>"], 2),
        p(["product", "set", "pacs", "--current", "???"], 2),
        # policy files and config
        p(["policy", "load", str(huge)], 2),
        p(["policy", "load", str(deep)], 2),
        p(["policy", "load", str(tmp / "missing.toml")], 2),
        p(["policy", "load", str(fifo)], 2),
        p(["sweep"], 2, env={"DESKCTL_CONFIG": str(cfg_pw)}),
        p(["sweep"], 2, env={"DESKCTL_CONFIG": str(cfg_deep)}),
        # huge numbers
        p(["ticket", "show", "99999999999999999999"], 2),
        p(["ticket", "show", "0"], 3),
        p(["ticket", "show", "--", "-1"], 3),
        p(["ticket", "list", "--limit", "99999999999999999999999"], 2),
        p(["ticket", "list", "--limit", "-5"], 2),
        p(["ticket", "triage", "99999999999999999999", "--severity", "high"], 2),
        p(["mail", "outbox", "--limit", "99999999999999999999999"], 2),
        p(["sweep", "--limit", "0"], 2),
        # control characters, invisible and oversized text
        p([*t, "--title", "Inj\r\nBcc: x"], 2),
        p([*t, "--title", "esc \x1b[31mred"], 2),
        p([*t, "--title", "nul\x00byte"], 2),
        p([*t, "--title", "\u200b\u200b\u200b"], 2),
        p([*t, "--title", "   "], 2),
        p([*t, "--title", "x" * 100_000], 2),
        p([*t, "--title", "ok", "--os", "x" * 500], 2),
        p([*t, "--title", "ok", "--description", "bell\x07"], 2),
        p(["customer", "add", "acme\n", "--name", "A", "--country", "IT"], 2),
        p(["customer", "add", "acme", "--name", "A\x1b]0;pwn\x07", "--country", "IT"], 2),
        p(["customer", "add", "acme", "--name", "n" * 201, "--country", "IT"], 2),
        p(["customer", "add", "acme", "--name", "A", "--country", "ITA"], 2),
        p(["customer", "add", "acme", "--name", "A", "--country", "IT", "--vat-rate", "x"], 2),
        p(["contact", "add", "hosp", "a\r\n@x.example", "--name", "A"], 2),
        p(["contact", "add", "hosp", "not-an-address", "--name", "A"], 2),
        p(["contact", "add", "hosp", "b@x.example", "--name", "B\nC"], 2),
        p(["agent", "add", "bob", "--name", "Bob\x1b[2J"], 2),
        p(["ticket", "comment", "1", "bad \x1b[2J"], 2),
        p(["ticket", "assign", "1", "--to", "e\x1bve"], 2),
        # time travel and odd instants
        p(["ticket", "respond", "1", "--at", "2030-01-01"], 2),
        p(["ticket", "triage", "1", "--severity", "high", "--at", "2030-01-01"], 2),
        p(["ticket", "log", "1", "30", "--at", "0001-01-01"], 2),
        p(["ticket", "log", "1", "30", "--at", "2020-06-01"], 2),
        p(["ticket", "comment", "1", "old", "--at", "2026-03-01"], 2),
        p([*t, "--title", "far", "--at", "9999-01-01"], 2),
        p([*t, "--title", "edge", "--at", "0001-01-01T00:00+05:00"], 2),
        p([*t, "--title", "edge", "--at", "9999-12-31T23:00-05:00"], 2),
        p([*t, "--title", "naive", "--at", "2026-03-10T12:00"], 2),
        p([*t, "--title", "bad", "--at", "2026-02-30"], 2),
        p(["queue"], 2, env={"DESKCTL_NOW": "0001-01-01T00:00+05:00"}),
        p(["queue"], 2, env={"DESKCTL_NOW": "9999-12-31T23:00-05:00"}),
        p(["queue"], 2, env={"DESKCTL_NOW": "not a time"}),
        p(["calendar", "due", "medisoft", "--from", "9999-12-31T23:00", "--in", "8h"], 2),
        p(["calendar", "due", "medisoft", "--from", "2026-03-10T10:00", "--in", "99999999999h"],
          2),
        p(["bill", "finalize", "--customer", "hosp", "--from", "2026-03-01", "--to", "2026-02-01"],
          2),
        # files
        p([*t, "--title", "zero", "--attach", "/dev/zero"], 2),
        p([*t, "--title", "fifo", "--attach", str(fifo)], 2),
        p([*t, "--title", "dir", "--attach", str(tmp)], 2),
        p([*t, "--title", "missing", "--attach", str(tmp / "nope")], 2),
        p([*t, "--title", "big", "--attach", str(big)], 2, env={"DESKCTL_CONFIG": str(cfg_small)}),
        p(["ticket", "open", "--customer", "hosp", "--from-eml", str(eml_deep)], 2),
        p(["ticket", "open", "--customer", "hosp", "--from-eml", str(eml_nofrom)], 2),
        p(["ticket", "open", "--customer", "hosp", "--from-eml", "/dev/zero"], 2),
        p(["contract", "import", str(fifo)], 2),
        p(["db", "backup", str(tmp)], 2),
        p(["db", "backup", "/nonexistent/dir/b.db"], 2),
        p(["sla", "report", "--from", "2026-01-01", "--to", "2026-12-31", "--html",
           "/nonexistent/r.html"], 2),
        # not found, refused
        p(["ticket", "assign", "1", "--to", "nobody"], 3),
        p(["ticket", "show", "4242"], 3),
        p(["customer", "show", "nobody"], 3),
        p([*t[:3], "nobody", "--contact", "x@y.example", "--title", "t"], 3),
        p(["ticket", "reopen", "1"], 1),
        # stores
        p(["init"], 5, env={"DESKCTL_DB": str(other)}),
        p(["ticket", "list"], 5, env={"DESKCTL_DB": str(other)}),
        p(["init"], 5, env={"DESKCTL_DB": str(text_file)}),
        p(["init"], 5, env={"DESKCTL_DB": str(tmp)}),
        p(["init"], 2, env={"DESKCTL_DB": "mysql://u@h/db"}),
        p(["init"], 2, env={"DESKCTL_DB": "postgresql+asyncpg://u@h/db"}),
        p(["init"], 2, env={"DESKCTL_DB": "postgresql://u@h:port/db"}),
        p(["ticket", "list"], 5, env={"DESKCTL_DB": "postgresql://nobody@127.0.0.1:1/x"}),
    ]


def _dump(path: str) -> list[str]:
    if "://" in path or not Path(path).is_file():
        return []
    try:
        with sqlite3.connect(path) as conn:
            return list(conn.iterdump())
    except sqlite3.DatabaseError:
        return [Path(path).read_bytes().hex()]


def _seed(cli: Callable[..., object]) -> None:
    cli("init", "--policy", str(EXAMPLES / "medisoft.toml"))
    cli("customer", "add", "hosp", "--name", "Hospital", "--country", "BR", "--vat-rate", "0%")
    cli("contact", "add", "hosp", "ana@hosp.example", "--name", "Ana", "--named")
    cli("product", "add", "pacs", "--current", "6.2")
    cli("contract", "add", "hosp", "--plan", "maintenance", "--start", "2026-01-01",
        "--product", "pacs")
    cli("ticket", "open", "--customer", "hosp", "--contact", "ana@hosp.example", "--title",
        "First", "--product", "pacs", "--version", "6.2", "--at", "2026-03-09T12:00:00Z")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true")
    options = parser.parse_args(argv)
    from typer.testing import CliRunner

    from deskctl.cli.app import app

    tmp = Path(tempfile.mkdtemp(prefix="deskctl-probe-"))
    store = str(tmp / "store.db")
    base = {"DESKCTL_DB": store, "DESKCTL_DATA_DIR": str(tmp / "data"), "DESKCTL_NOW": NOW,
            "DESKCTL_USER": "prober", "DESKCTL_CONFIG": str(tmp / "none.toml"),
            "NO_COLOR": "1", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    runner = CliRunner()

    def cli(*args: str, env: dict[str, str] | None = None) -> object:
        result = runner.invoke(app, list(args), env={**base, **(env or {})})
        if env is None and result.exit_code != 0:
            raise SystemExit(f"seeding failed: {args}: {result.stderr}")
        return result

    _seed(cli)
    probes = _probes(tmp)
    good = 0
    for probe in probes:
        target = {**base, **probe.env}["DESKCTL_DB"]
        before = _dump(target)
        result = runner.invoke(app, probe.args, env={**base, **probe.env})
        problems = []
        if result.exit_code != probe.code:
            problems.append(f"exit {result.exit_code}, expected {probe.code}")
        lines = result.stderr.splitlines()
        if len(lines) != 1 or "Traceback" in result.stderr:
            problems.append(f"{len(lines)} stderr lines")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            problems.append(f"raised {type(result.exception).__name__}")
        if _dump(target) != before:
            problems.append("the store changed")
        shown = " ".join(repr(a) if not a.isprintable() or " " in a else a
                         for a in probe.args)[:110]
        if problems:
            print(f"FAIL {shown}: {'; '.join(problems)} | {result.stderr.strip()[:160]}")
        else:
            good += 1
            if options.verbose:
                print(f"ok   {shown} -> {probe.code}: {lines[0][:100]}")
    print(f"{good} of {len(probes)} probes: one clear line, the right exit code, no write")
    return 0 if good == len(probes) else 1


if __name__ == "__main__":
    sys.exit(main())
