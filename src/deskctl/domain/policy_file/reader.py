"""Typed reads of tomllib's values, each failing with the key path of a bad value."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from deskctl.domain.durations import parse_duration
from deskctl.domain.policy_file.errors import Path, PolicyError, format_path
from deskctl.domain.policy_file.locator import Locator
from deskctl.errors import BadInput

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


_MONEY = re.compile(r"\d+(\.\d{1,2})?\Z")


# Every span in a policy (SLA targets, windows, protocol steps) is at most a year: a
# target of "99999999999h" is a typo that would overflow every deadline computed from it.
MAX_SPAN_SECONDS = 366 * 86400


def kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    return "a time"


def suggest(word: str, options: Iterable[str]) -> str:
    choices = [str(option) for option in options]
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if choices and len(choices) <= 12:
        return f" (expected one of: {', '.join(choices)})"
    return ""


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Reader:
    """Reads typed values from tomllib's dicts, failing on the first problem."""

    def __init__(self, source: str, locator: Locator) -> None:
        self.source = source
        self.locator = locator

    def fail(self, path: Path, problem: str) -> NoReturn:
        raise PolicyError(self.source, self.locator.line_of(path), format_path(path), problem)

    def table(
        self,
        value: object,
        path: Path,
        *,
        keys: Iterable[str],
        required: Iterable[str] = (),
        what: str = "key",
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a table, got {kind_of(value)}")
        known = tuple(keys)
        for key in value:
            if key not in known:
                self.fail((*path, key), f"unknown {what} {key!r}{suggest(key, known)}")
        for key in required:
            if key not in value:
                self.fail(path, f"missing required key {key!r}")
        return value

    def names_table(self, value: object, path: Path, what: str) -> dict[str, Any]:
        """A table whose keys the user names (calendars, plans, metrics)."""
        if not isinstance(value, dict):
            self.fail(path, f"expected a table, got {kind_of(value)}")
        for key in value:
            self.name(key, (*path, key), what)
        return value

    def string(self, value: object, path: Path) -> str:
        if not isinstance(value, str):
            self.fail(path, f"expected a string, got {kind_of(value)}")
        return value

    def boolean(self, value: object, path: Path) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, got {kind_of(value)}")
        return value

    def count(self, value: object, path: Path) -> int:
        if not is_int(value):
            self.fail(path, f"expected a whole number, got {kind_of(value)}")
        assert isinstance(value, int)
        if value < 0:
            self.fail(path, f"must not be negative, got {value}")
        return value

    def choice(self, value: object, path: Path, options: Iterable[str], what: str) -> str:
        text = self.string(value, path)
        known = tuple(options)
        if text not in known:
            self.fail(path, f"unknown {what} {text!r}{suggest(text, known)}")
        return text

    def name(self, value: object, path: Path, what: str) -> str:
        text = self.string(value, path)
        if not _NAME.match(text):
            self.fail(
                path,
                f"{what} name {text!r} must start with a letter or digit and hold only "
                "letters, digits, '-' and '_'",
            )
        return text

    def array(self, value: object, path: Path) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"expected an array, got {kind_of(value)}")
        return value

    def names(
        self, value: object, path: Path, what: str, allowed: Iterable[str] | None = None
    ) -> tuple[str, ...]:
        """An array of distinct names, each from ``allowed`` when given."""
        known = tuple(allowed) if allowed is not None else None
        seen: list[str] = []
        for index, item in enumerate(self.array(value, path)):
            item_path = (*path, index)
            if known is None:
                text = self.name(item, item_path, what)
            else:
                text = self.choice(item, item_path, known, what)
            if text in seen:
                self.fail(item_path, f"{what} {text!r} is listed twice")
            seen.append(text)
        return tuple(seen)

    def duration(self, value: object, path: Path, *, positive: bool = True) -> int:
        if is_int(value) or isinstance(value, float):
            self.fail(path, f'a duration is a string with a unit, like "{value}h" or "90m"')
        text = self.string(value, path)
        try:
            seconds = parse_duration(text, what="duration")
        except BadInput as exc:
            self.fail(path, exc.message.removeprefix("duration: "))
        if seconds < 0 or (positive and seconds == 0):
            self.fail(path, f"duration {text!r} must be {'positive' if positive else '>= 0'}")
        if seconds > MAX_SPAN_SECONDS:
            self.fail(path, f"duration {text!r} is longer than a year (366d): a typo?")
        return seconds

    def minutes(self, value: object, path: Path) -> int:
        seconds = self.duration(value, path)
        if seconds % 60:
            self.fail(path, f"{value!r} is not a whole number of minutes")
        return seconds // 60

    def money(self, value: object, path: Path) -> Decimal:
        if isinstance(value, float):
            self.fail(
                path,
                f'money must be a string like "{value:.2f}": '
                "a TOML float cannot hold cents exactly",
            )
        text = str(value) if is_int(value) else self.string(value, path).strip()
        if not _MONEY.match(text):
            self.fail(path, f'{text!r} is not an amount like "45.00" (at most two decimals)')
        return Decimal(text).quantize(Decimal("0.01"))

    def decimal(self, value: object, path: Path) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(path, f"expected a number, got {kind_of(value)}")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(path, f"{value!r} is not a number")
        if not number.is_finite() or number < 0:
            self.fail(path, f"{value!r} must be a number >= 0")
        return number

    def day(self, value: object, path: Path) -> date:
        if isinstance(value, datetime):
            self.fail(path, f"expected a date without a time, got {value.isoformat()}")
        if isinstance(value, date):
            return value
        text = self.string(value, path)
        if not _ISO_DATE.match(text):
            self.fail(path, f"expected a date like 2026-12-24, got {value!r}")
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(path, f"{text!r} is not a real date")

    def days(self, value: object, path: Path) -> tuple[date, ...]:
        found: list[date] = []
        for index, item in enumerate(self.array(value, path)):
            day = self.day(item, (*path, index))
            if day not in found:
                found.append(day)
        return tuple(sorted(found))
