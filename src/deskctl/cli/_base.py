"""Shared CLI plumbing: the group class that maps errors to exit codes in one place."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from deskctl.errors import DeskctlError, ExitStatus


def _fail(message: str, status: ExitStatus) -> None:
    if message:  # errors.AnsweredNo: the command's output already said why
        sys.stderr.write(f"deskctl: {message}\n")
    sys.exit(int(status))


DEBUG_VAR = "DESKCTL_DEBUG"


def _closed_pipe() -> None:
    """``deskctl ticket list | head``: the reader has all it wanted, which is success.
    Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


class DeskGroup(TyperGroup):
    """Every command runs inside this: one line on stderr and the docs/rules.md §10 exit code.

    An exception nobody expected is a bug: one line and exit 70 (the traceback with
    DESKCTL_DEBUG=1), so exit 1 keeps meaning "refused by a rule". Ctrl-C exits 130.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from deskctl.cli import _help
        from deskctl.services import holiday_cache

        _help.apply(self)
        holiday_cache.install()  # business time without importing `holidays` (if kept)
        if not sys.stderr.isatty():
            self.rich_markup_mode = None  # usage errors in a log or a pipe: plain text, no boxes
        return super().main(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        from typer.exceptions import Abort, Exit, TyperException

        try:
            return super().invoke(ctx)
        except DeskctlError as exc:
            _fail(exc.message, exc.exit_status)
        except KeyboardInterrupt:
            _fail("interrupted", ExitStatus.INTERRUPTED)
        except (TyperException, Exit, Abort):  # usage errors, --help, typer.Exit: typer's own
            raise
        except BrokenPipeError:
            _closed_pipe()
        except Exception as exc:
            mapped = _map_store_error(exc)
            if mapped is not None:
                _fail(mapped.message, mapped.exit_status)
            if os.environ.get(DEBUG_VAR):
                raise
            _fail(_internal(exc), ExitStatus.INTERNAL)


def _internal(exc: Exception) -> str:
    detail = (str(exc).strip().splitlines() or [""])[0]
    what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return f"internal error: {what}; run with {DEBUG_VAR}=1 for the traceback"


def _map_store_error(exc: Exception) -> DeskctlError | None:
    """Driver errors that escaped a service, by the store's one map (``db.store_error``);
    an id or count beyond 64 bits and undecodable argument bytes are exit 2."""
    from deskctl.errors import BadInput

    if isinstance(exc, OverflowError):
        return BadInput("a number is too large (at most 9223372036854775807)")
    if isinstance(exc, UnicodeEncodeError):  # undecodable argument bytes (surrogateescape)
        return BadInput("an argument is not valid UTF-8 text")
    if "sqlalchemy" not in type(exc).__module__:
        return None
    from deskctl.store.db import store_error

    return store_error(exc)


def check_utf8(args: list[str]) -> None:
    """Arguments whose bytes are not UTF-8 (decoded with surrogates): exit 2, one line."""
    for index, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            _fail(f"argument {index} is not valid UTF-8 text", ExitStatus.USAGE)


def sub_app(help_text: str) -> typer.Typer:
    return typer.Typer(
        cls=DeskGroup, help=help_text, no_args_is_help=True, pretty_exceptions_enable=False
    )


JsonOpt = typer.Option(False, "--json", help="Print one JSON document on stdout.")
CsvOpt = typer.Option(False, "--csv", help="Print CSV on stdout.")
AtOpt = typer.Option(None, "--at", help="When it happened (ISO-8601 with offset); default now.")


def when(at: str | None) -> Any:
    """The instant an event happened: ``--at`` if given, else the program clock."""
    from deskctl import clock

    return clock.parse_instant(at, what="--at") if at else clock.now()


def optional_date(value: str | None, what: str) -> Any:
    from deskctl import clock

    return clock.parse_date(value, what=what) if value else None


def store_session(*, write: bool = False) -> Any:
    """A transaction on the configured store, its schema checked first."""
    from deskctl.store import db

    return db.session(db.ready_engine(), write=write)


def read_store() -> Any:
    """A read-only transaction through the DBAPI: no SQLAlchemy on the read path."""
    from deskctl.store.dbapi import read

    return read()
