"""The one output helper: JSON, CSV, plain TSV when piped, a rich table on a terminal.

Data goes to stdout; messages go to stderr. A ``--json`` document is the only
thing a command writes to stdout.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from deskctl.clock import iso_z

if TYPE_CHECKING:  # rich is imported where a table is drawn, not at start-up
    from rich.console import JustifyMethod

# C0 and C1 controls, DEL, and the bidi overrides/isolates that reorder text on screen
# ("Trojan Source"). A string from the store never reaches a terminal with these live.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# A spreadsheet runs a cell that starts with one of these (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_RAW_ENV = "DESKCTL_CSV_RAW"


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(value: Any, *, newlines: bool = False) -> str:
    """``value`` as text a terminal shows and never obeys: controls become ``\\x1b`` etc.

    ``newlines=True`` keeps line breaks (multi-line fields in ``ticket show``).
    """
    text = "" if value is None else str(value)
    return (_CONTROL_BUT_NEWLINE if newlines else _CONTROL).sub(_visible, text)


def markup_safe(value: Any, *, newlines: bool = False) -> str:
    """``safe_text`` for a rich markup string: ``[red]`` in data stays literal."""
    from rich.markup import escape

    return escape(safe_text(value, newlines=newlines))


def csv_safe(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: controls visible, formulas defused with ``'``.

    ``DESKCTL_CSV_RAW=1`` (or ``deskctl --csv-raw``) turns this off for machine consumers.
    """
    if os.environ.get(CSV_RAW_ENV):
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return safe_text(value, newlines=True)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values (a 1M findings document: 114k), asked first
        return value
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "to_json"):
        return to_jsonable(value.to_json())
    return value


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def emit_json(doc: Any) -> None:
    text = json.dumps(to_jsonable(doc), indent=2, ensure_ascii=False)
    # JSON escapes C0 itself; C1 and bidi controls as \\uXXXX too: the same data, inert on a tty.
    text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    sys.stdout.write(text + "\n")


def emit_text(text: Any, *, end: str = "\n") -> None:
    """Data as text on stdout: a rendered document, a line, an id."""
    sys.stdout.write(f"{text}{end}")


def emit_lines(lines: Iterable[Any]) -> None:
    """Data one item a line on stdout (ids a script reads back)."""
    sys.stdout.write("".join(f"{line}\n" for line in lines))


def no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def is_terminal() -> bool:
    return sys.stdout.isatty()


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, no_color=no_color(), highlight=False, soft_wrap=True)


# Wide enough that no value is ever cut or wrapped when stdout is a file or a pipe.
PIPE_WIDTH = 10_000


def stdout_console() -> Any:
    """A terminal gets its width; a pipe or a file gets every value whole."""
    from rich.console import Console

    width = None if is_terminal() else PIPE_WIDTH
    return Console(no_color=no_color(), highlight=False, width=width)


def say(message: str) -> None:
    """A message for the person: stderr, never mixed with data."""
    sys.stderr.write(message.rstrip("\n") + "\n")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    justify: JustifyMethod = "left"
    style: str | None = None
    render: Callable[[Any], str] | None = None
    markup: bool = False  # the cell is rich markup made by the program (colours), not data

    def text(self, row: Mapping[str, Any]) -> str:
        """The cell as plain text, safe for a terminal or a TSV line."""
        value = row.get(self.key)
        if self.render is not None:
            return safe_text(self.render(value))
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        return safe_text(value)

    def cell(self, row: Mapping[str, Any]) -> Any:
        """The cell for a rich table: data never parsed as markup."""
        from rich.text import Text

        text = self.text(row)
        return Text.from_markup(text) if self.markup else Text(text)


def choose_format(*, json_out: bool = False, csv_out: bool = False, ids: bool = False) -> str:
    if sum((json_out, csv_out, ids)) > 1:
        from deskctl.errors import BadInput

        raise BadInput("choose one of --json, --csv and -q")
    if json_out:
        return "json"
    if csv_out:
        return "csv"
    if ids:
        return "ids"
    return "table" if is_terminal() else "tsv"


def emit_rows(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    fmt: str,
    *,
    title: str | None = None,
    json_doc: Any = None,
    id_key: str = "id",
    empty: str = "nothing to show",
) -> None:
    if fmt == "json":
        emit_json(json_doc if json_doc is not None else list(rows))
    elif fmt == "csv":
        _emit_csv(rows, [c.key for c in columns])
    elif fmt == "ids":
        for row in rows:
            sys.stdout.write(f"{row[id_key]}\n")
    elif fmt == "tsv":
        for row in rows:
            sys.stdout.write("\t".join(c.text(row) for c in columns) + "\n")
    else:
        _emit_table(rows, columns, title=title, empty=empty)


def _emit_csv(rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(keys)
    for row in rows:
        writer.writerow(_csv_cell(row.get(k)) for k in keys)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, list | tuple):
        return csv_safe(" ".join(str(v) for v in value))
    if isinstance(value, str):
        return csv_safe(value)
    return "" if value is None else value


def _emit_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], *, title: str | None, empty: str
) -> None:
    if not rows:
        say(empty)
        return
    from rich.table import Table

    table = Table(title=title, header_style="bold", box=None, pad_edge=False)
    for col in columns:
        table.add_column(col.header, justify=col.justify, style=col.style)
    for row in rows:
        table.add_row(*(c.cell(row) for c in columns))
    stdout_console().print(table)
