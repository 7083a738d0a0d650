"""One error hierarchy; the CLI maps it to exit codes in one place (docs/rules.md §10)."""

from __future__ import annotations

import sys
from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    REFUSED = 1  # refused by a rule: illegal move, not entitled, --fail-on-breach
    USAGE = 2  # bad usage or input
    NOT_FOUND = 3
    CONFLICT = 4  # changed by someone else meanwhile
    STORE_UNAVAILABLE = 5
    INTERNAL = 70  # a bug: an exception nobody expected (sysexits EX_SOFTWARE)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class DeskctlError(Exception):
    """Base of every error a user may see; the message is one line."""

    exit_status: ExitStatus = ExitStatus.USAGE

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class Refused(DeskctlError):
    """A rule refuses the request (illegal move, not entitled...)."""

    exit_status = ExitStatus.REFUSED


class AnsweredNo(Refused):
    """The command printed its answer and the answer is no (``contract check``: not
    entitled): exit 1 with nothing more on stderr."""

    def __init__(self) -> None:
        super().__init__("")


class BadInput(DeskctlError):
    """The request itself is malformed: bad date, unknown option value, invalid file."""

    exit_status = ExitStatus.USAGE


class NotFound(DeskctlError):
    exit_status = ExitStatus.NOT_FOUND


class Conflict(DeskctlError):
    """Someone else changed the thing meanwhile; retrying may succeed."""

    exit_status = ExitStatus.CONFLICT


class StoreUnavailable(DeskctlError):
    exit_status = ExitStatus.STORE_UNAVAILABLE


class SomeFailed(DeskctlError):
    """A command over several items where some failed, each already reported on its own
    line: the exit code is the worst of theirs (the highest)."""

    def __init__(self, message: str, status: ExitStatus) -> None:
        super().__init__(message)
        self.exit_status = status


def notice(message: str) -> None:
    """One line on stderr from below the CLI: a fallback was taken, nothing failed (the
    keyring is missing, so the password comes from elsewhere)."""
    sys.stderr.write(f"deskctl: {message}\n")
