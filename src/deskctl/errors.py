"""One error hierarchy; the CLI maps it to exit codes in one place (SPEC §10)."""

from __future__ import annotations

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
