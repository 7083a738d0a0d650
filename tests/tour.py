"""Run the README's tour as written and compare each command's output with the README.

The tour is the ``## A tour`` section of README.md. Each ``###`` section in it is one
shell session from a fresh home (no store, no config): its ```` ```console ```` blocks are
run in order by one ``bash``, on a pseudo-terminal 100 columns wide, so the output is
what a person sees (stdout and stderr interleaved, tables as on a terminal, colour off).
A line ``$ COMMAND`` is a command; the lines after it, up to the next command or the end
of the block, are its output. A command that exits non-zero prints ``exit N`` last. A line
``...`` in the README stands for any number of output lines.

To add a tour section (mail, say), write a ``### Title`` section under ``## A tour`` with
console blocks; tests/test_tour.py runs it too. After changing what a command prints,
regenerate the outputs and review the diff:

    .venv/bin/python -m tests.tour --update
"""

from __future__ import annotations

import os
import re
import select
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
HOME_SHOWN = "/home/ana"  # the home directory the README shows
COLUMNS = 100
MARK = "\x1e"  # ASCII record separator: starts each command's output
TIMEOUT = 600

# Only what must vary between runs: the temporary home and the wall-clock duration.
_VARYING = [(re.compile(r"in \d+\.\d s into"), "in N s into")]
# Bold and italic reach the terminal even with NO_COLOR; the README shows the text.
_SGR = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Command:
    line: str  # the shell command, without the "$ " prompt
    expected: list[str]
    start: int  # README line index of the "$ " line
    end: int  # index after its last output line


@dataclass
class Section:
    title: str
    commands: list[Command] = field(default_factory=list)


def sections(text: str) -> list[Section]:
    """The tour's sections and their commands, with where each sits in the README."""
    lines = text.split("\n")
    found: list[Section] = []
    in_tour = in_block = False
    current: Command | None = None
    for i, line in enumerate(lines):
        if not in_block and line.startswith("## "):
            in_tour = line.strip() == "## A tour"
            continue
        if not in_tour:
            continue
        if not in_block and line.startswith("### "):
            found.append(Section(line[4:].strip()))
        elif not in_block and line.strip() == "```console":
            in_block = True
        elif in_block and line.strip() == "```":
            in_block, current = False, None
        elif in_block and line.startswith("$ "):
            current = Command(line[2:], [], i, i + 1)
            found[-1].commands.append(current)
        elif in_block and current is not None:
            current.expected.append(line)
            current.end = i + 1
    return found


def _script(section: Section) -> str:
    parts = ["cd \"$TOUR_CWD\""]
    for n, command in enumerate(section.commands):
        parts.append(f"printf '{MARK}%s\\n' {n}")
        parts.append(command.line)
        parts.append('__rc=$?; [ "$__rc" -eq 0 ] || echo "exit $__rc"')
    return "\n".join(parts) + "\n"


def _environment(tmp: Path) -> dict[str, str]:
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "deskctl"
    shim.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m deskctl \"$@\"\n")
    shim.chmod(0o755)
    home = tmp / "home"
    (home / "work").mkdir(parents=True)
    return {
        "HOME": str(home),
        "USER": "ana",
        "LOGNAME": "ana",
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": str(ROOT / "src"),
        "PYTHONUNBUFFERED": "1",  # stdout and stderr reach the terminal in the order written
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "NO_COLOR": "1",
        "TERM": "xterm",
        "COLUMNS": str(COLUMNS),
        "LINES": "50",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "TOUR_CWD": str(home / "work"),
    }


def _on_terminal(argv: list[str], env: dict[str, str]) -> str:
    """Run ``argv`` with stdout and stderr on one pseudo-terminal; return what it showed."""
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, COLUMNS, 0, 0))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                            env=env, start_new_session=True)
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], TIMEOUT)
            if not ready:
                proc.kill()
                raise TimeoutError(f"tour section still running after {TIMEOUT} s")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        proc.wait()
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return _SGR.sub("", text)


def run(section: Section) -> list[list[str]]:
    """Each command's output lines, the temporary home shown as the README's."""
    with tempfile.TemporaryDirectory(prefix="deskctl-tour-") as raw:
        tmp = Path(raw).resolve()
        env = _environment(tmp)
        script = tmp / "tour.sh"
        script.write_text(_script(section))
        shown = _on_terminal(["bash", "--noprofile", "--norc", str(script)], env)
        shown = shown.replace(env["HOME"], HOME_SHOWN)
    outputs: list[list[str]] = [[] for _ in section.commands]
    current: list[str] | None = None
    for line in shown.split("\n"):
        if line.startswith(MARK):
            current = outputs[int(line[1:])]
        elif current is not None:
            current.append(line)
    if outputs and outputs[-1] and outputs[-1][-1] == "":
        outputs[-1].pop()
    return outputs


def _norm(line: str) -> str:
    for pattern, replacement in _VARYING:
        line = pattern.sub(replacement, line)
    return line.rstrip()


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line after normalising; a ``...`` line matches any number of lines."""
    want = [_norm(x) for x in expected]
    got = [_norm(x) for x in actual]
    while want and want[-1] == "":
        want.pop()
    while got and got[-1] == "":
        got.pop()
    return _match(want, got)


def _match(want: list[str], got: list[str]) -> bool:
    if not want:
        return not got
    if want[0].strip() == "...":
        return any(_match(want[1:], got[i:]) for i in range(len(got) + 1))
    return bool(got) and want[0] == got[0] and _match(want[1:], got[1:])


def update(path: Path = README) -> int:
    """Rewrite the tour's outputs in ``path`` with what the commands print now.

    Output elided with ``...`` in the README stays elided where it still matches.
    """
    lines = path.read_text(encoding="utf-8").split("\n")
    changed = 0
    replacements: list[tuple[Command, list[str]]] = []
    for section in sections("\n".join(lines)):
        for command, actual in zip(section.commands, run(section), strict=True):
            if not matches(command.expected, actual):
                replacements.append((command, [x.rstrip() for x in actual]))
    for command, actual in sorted(replacements, key=lambda r: -r[0].start):
        lines[command.start + 1 : command.end] = actual
        changed += 1
    path.write_text("\n".join(lines), encoding="utf-8")
    return changed


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python -m tests.tour --update")
    print(f"{update()} command output(s) rewritten in {README}", file=sys.stderr)
