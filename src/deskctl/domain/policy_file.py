"""Policy files: TOML text in, a validated :class:`~deskctl.domain.policy.Policy` out.

The format is documented in ``docs/policy-format.md``. Every problem raises
:class:`PolicyError` with ``<source>:<line>: <key.path>: <problem>``; the
loader stops at the first problem, checking the tables in this order: unknown
top-level tables, missing required tables, ``policy``, ``calendars``,
``severities``, ``metrics``, ``clock``, ``scope``, ``rates``, ``entitlement``,
``plans``, ``closure`` (within a table, keys in file order).

Choices the spec leaves open:

- Money is a string (``"45.00"``) or an integer; a TOML float is refused
  because it cannot hold cents exactly. More than two decimals is refused.
- A VAT rate is ``"22%"`` or a fraction ``"0.22"``; it is stored as a fraction.
- ``reopen_window = false`` means no time limit (``Policy.reopen_window`` is
  ``None``); ``"0s"`` forbids reopening.
- Under ``[plans.P.sla]`` a metric maps severity -> target, or is one target for
  every severity (``report = "72h"``). A target is ``"8h"`` or
  ``{goal = "5h", limit = "9h"}``; so ``goal`` and ``limit`` cannot be severity
  names.
- Touching intervals of one day (``08:00-12:00`` and ``12:00-18:00``) are merged.
- ``clock.start = "info_complete"`` needs ``policy.required_fields``: otherwise
  information would be complete at once and the setting would mean nothing.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import re
import tomllib
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from deskctl.domain import events
from deskctl.domain.durations import format_duration, parse_duration
from deskctl.domain.policy import (
    BILLING_MODES,
    INTAKE_FIELDS,
    NOTIFICATIONS,
    OUTCOMES,
    STATES,
    WEEKDAYS,
    CalendarSpec,
    ClockRules,
    ClosureProtocol,
    EntitlementRules,
    Interval,
    InterventionRate,
    MailRules,
    MetricSpec,
    Plan,
    Policy,
    ProtocolStep,
    RateCard,
    ScopeRules,
    SeverityScheme,
    Target,
)
from deskctl.errors import BadInput

Key = str | int
Path = tuple[Key, ...]

EVENT_KINDS = frozenset(
    value for name, value in vars(events).items() if name.isupper() and isinstance(value, str)
)
CLOCK_STARTS = ("opened", "info_complete")
PROTOCOL_ACTIONS = ("contact", "call", "email", "close")
PROTOCOL_CLOCKS = ("calendar", "wall")
PREVIOUS_VERSION_RULES = ("billable", "refused", "allowed")
DEFAULT_CHANNELS = ("portal", "email", "phone")
# Metrics whose start/stop events are obvious from their name; any other metric
# must say which events stop it.
KNOWN_METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "response": ("clock", (events.RESPONDED,)),
    "resolution": ("clock", (events.RESOLVED,)),
    "onsite": (events.ONSITE_REQUESTED, (events.ONSITE_ARRIVED,)),
    "report": (events.REPORT_REQUESTED, (events.REPORT_DELIVERED,)),
}
HOURLY_RATE_NAMES = ("service", "diagnosis")
TARGET_KEYS = ("goal", "limit")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
_HOLIDAY_CODE = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,5})?\Z")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_INTERVAL = re.compile(r"(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\Z")
_MONEY = re.compile(r"\d+(\.\d{1,2})?\Z")
_CURRENCY = re.compile(r"[A-Z]{3}\Z")
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


class PolicyError(BadInput):
    """A policy file problem, located: ``<source>:<line>: <key.path>: <problem>``."""

    def __init__(self, source: str, line: int, path: str, problem: str) -> None:
        where = f"{source}:{line}: "
        message = f"{where}{path}: {problem}" if path else f"{where}{problem}"
        details = {"source": source, "line": line, "path": path, "problem": problem}
        super().__init__(message, details=details)
        self.source = source
        self.line = line
        self.path = path
        self.problem = problem


def policy_digest(text: str) -> str:
    """SHA-256 hex of the exact text; the store uses it to skip reloading a same version."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Parse and validate a policy file; raise :class:`PolicyError` on the first problem."""
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, source) from None
    return _Loader(source, _Locator(text)).policy(data)


def format_path(path: Path) -> str:
    """``plans.8x5.sla.response.1``, ``closure.steps[2].at``; odd keys are quoted."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            part = key if _BARE_KEY.match(key) else '"' + key.replace('"', '\\"') + '"'
            out += f".{part}" if out else part
    return out


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, source: str) -> PolicyError:
    message = str(exc)
    match = _TOML_POSITION.search(message)
    problem = message[: match.start()] if match else message
    if match and match.group(1):
        line = int(match.group(1))
        problem += f" (column {match.group(2)})"
    else:
        line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    return PolicyError(source, line, "", f"invalid TOML: {problem}")


def _kind(value: object) -> str:
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


def _suggest(word: str, options: Iterable[str]) -> str:
    choices = [str(option) for option in options]
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if choices and len(choices) <= 12:
        return f" (expected one of: {', '.join(choices)})"
    return ""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Loader:
    """Builds the policy dataclasses from tomllib's dicts, failing on the first problem."""

    def __init__(self, source: str, locator: _Locator) -> None:
        self.source = source
        self.locator = locator

    # -- reporting and typed reads ---------------------------------------------------------

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
            self.fail(path, f"expected a table, got {_kind(value)}")
        known = tuple(keys)
        for key in value:
            if key not in known:
                self.fail((*path, key), f"unknown {what} {key!r}{_suggest(key, known)}")
        for key in required:
            if key not in value:
                self.fail(path, f"missing required key {key!r}")
        return value

    def names_table(self, value: object, path: Path, what: str) -> dict[str, Any]:
        """A table whose keys the user names (calendars, plans, metrics)."""
        if not isinstance(value, dict):
            self.fail(path, f"expected a table, got {_kind(value)}")
        for key in value:
            self.name(key, (*path, key), what)
        return value

    def string(self, value: object, path: Path) -> str:
        if not isinstance(value, str):
            self.fail(path, f"expected a string, got {_kind(value)}")
        return value

    def boolean(self, value: object, path: Path) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, got {_kind(value)}")
        return value

    def count(self, value: object, path: Path) -> int:
        if not _is_int(value):
            self.fail(path, f"expected a whole number, got {_kind(value)}")
        assert isinstance(value, int)
        if value < 0:
            self.fail(path, f"must not be negative, got {value}")
        return value

    def choice(self, value: object, path: Path, options: Iterable[str], what: str) -> str:
        text = self.string(value, path)
        known = tuple(options)
        if text not in known:
            self.fail(path, f"unknown {what} {text!r}{_suggest(text, known)}")
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
            self.fail(path, f"expected an array, got {_kind(value)}")
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
        if _is_int(value) or isinstance(value, float):
            self.fail(path, f'a duration is a string with a unit, like "{value}h" or "90m"')
        text = self.string(value, path)
        try:
            seconds = parse_duration(text, what="duration")
        except BadInput as exc:
            self.fail(path, exc.message.removeprefix("duration: "))
        if seconds < 0 or (positive and seconds == 0):
            self.fail(path, f"duration {text!r} must be {'positive' if positive else '>= 0'}")
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
        text = str(value) if _is_int(value) else self.string(value, path).strip()
        if not _MONEY.match(text):
            self.fail(path, f'{text!r} is not an amount like "45.00" (at most two decimals)')
        return Decimal(text).quantize(Decimal("0.01"))

    def decimal(self, value: object, path: Path) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(path, f"expected a number, got {_kind(value)}")
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

    # -- the file --------------------------------------------------------------------------

    def policy(self, data: dict[str, Any]) -> Policy:
        tables = (
            "policy",
            "calendars",
            "severities",
            "clock",
            "metrics",
            "plans",
            "scope",
            "closure",
            "rates",
            "entitlement",
            "mail",
        )
        self.table(data, (), keys=tables, what="table")
        for name in ("policy", "calendars", "severities", "plans"):
            if name not in data:
                self.fail((name,), f"missing required table [{name}]")
        head = self.head(data["policy"])
        calendars = self.calendars(data["calendars"])
        severities = self.severities(data["severities"])
        metrics = self.metrics(data.get("metrics", {}))
        clock = self.clock(data.get("clock", {}), head["required_fields"])
        scope = self.scope(data.get("scope", {}))
        rates = self.rates(data["rates"], scope) if "rates" in data else None
        entitlement = self.entitlement(data.get("entitlement", {}))
        plans = self.plans(
            data["plans"], calendars, severities, metrics, head["channels"], rates, entitlement
        )
        closure = self.closure(data["closure"]) if "closure" in data else None
        mail = self.mail(data.get("mail", {}))
        return Policy(
            name=head["name"],
            vendor=head["vendor"],
            description=head["description"],
            calendars=calendars,
            severities=severities,
            plans=plans,
            metrics=metrics,
            clock=clock,
            channels=head["channels"],
            default_channel=head["default_channel"],
            required_fields=head["required_fields"],
            scope=scope,
            closure=closure,
            rates=rates,
            entitlement=entitlement,
            reopen_window=head["reopen_window"],
            mail=mail,
        )

    def head(self, raw: object) -> dict[str, Any]:
        path: Path = ("policy",)
        keys = (
            "name",
            "vendor",
            "description",
            "channels",
            "default_channel",
            "required_fields",
            "reopen_window",
        )
        t = self.table(raw, path, keys=keys, required=("name", "vendor"))
        channels = self.names(
            t.get("channels", list(DEFAULT_CHANNELS)), (*path, "channels"), "channel"
        )
        if not channels:
            self.fail((*path, "channels"), "list at least one channel")
        default_channel = self.string(
            t.get("default_channel", channels[0]), (*path, "default_channel")
        )
        if default_channel not in channels:
            self.fail(
                (*path, "default_channel"),
                f"{default_channel!r} is not one of the channels ({', '.join(channels)})",
            )
        window_raw = t.get("reopen_window", "14d")
        window_path = (*path, "reopen_window")
        if window_raw is True:
            self.fail(window_path, 'write a duration like "14d", or false for no time limit')
        window = (
            None if window_raw is False else self.duration(window_raw, window_path, positive=False)
        )
        return {
            "name": self.name(t["name"], (*path, "name"), "policy"),
            "vendor": self.string(t["vendor"], (*path, "vendor")),
            "description": self.string(t.get("description", ""), (*path, "description")),
            "channels": channels,
            "default_channel": default_channel,
            "required_fields": self.names(
                t.get("required_fields", []),
                (*path, "required_fields"),
                "intake field",
                INTAKE_FIELDS,
            ),
            "reopen_window": window,
        }

    # -- calendars -------------------------------------------------------------------------

    def calendars(self, raw: object) -> dict[str, CalendarSpec]:
        t = self.names_table(raw, ("calendars",), "calendar")
        if not t:
            self.fail(("calendars",), "define at least one calendar, e.g. [calendars.office]")
        return {name: self.calendar(name, value, ("calendars", name)) for name, value in t.items()}

    def calendar(self, name: str, raw: object, path: Path) -> CalendarSpec:
        keys = ("timezone", "holidays", "extra_holidays", "closed_dates", "hours", "always_open")
        t = self.table(raw, path, keys=keys, required=("timezone",))
        timezone = self.timezone(t["timezone"], (*path, "timezone"))
        always_open = self.boolean(t.get("always_open", False), (*path, "always_open"))
        if always_open:
            for key in ("hours", "holidays", "extra_holidays", "closed_dates"):
                if key in t:
                    self.fail((*path, key), f"an always_open calendar takes no {key}: remove it")
            return CalendarSpec(name=name, timezone=timezone, always_open=True)
        if "hours" not in t:
            self.fail(
                path,
                f"no opening hours: add [{format_path((*path, 'hours'))}] or always_open = true",
            )
        hours = self.week(t["hours"], (*path, "hours"))
        codes: list[str] = []
        for index, item in enumerate(self.array(t.get("holidays", []), (*path, "holidays"))):
            code = self.string(item, (*path, "holidays", index))
            if not _HOLIDAY_CODE.match(code):
                self.fail(
                    (*path, "holidays", index),
                    f'{code!r} is not a holidays code like "BR" or "BR-SP" (country-subdivision)',
                )
            if code not in codes:
                codes.append(code)
        return CalendarSpec(
            name=name,
            timezone=timezone,
            hours=hours,
            holidays=tuple(codes),
            extra_holidays=self.days(t.get("extra_holidays", []), (*path, "extra_holidays")),
            closed_dates=self.days(t.get("closed_dates", []), (*path, "closed_dates")),
        )

    def timezone(self, value: object, path: Path) -> str:
        name = self.string(value, path)
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(
                path, f"unknown time zone {name!r}{_suggest(name, sorted(available_timezones()))}"
            )
        return name

    def week(self, raw: object, path: Path) -> dict[int, tuple[Interval, ...]]:
        t = self.table(raw, path, keys=WEEKDAYS, what="weekday")
        hours: dict[int, tuple[Interval, ...]] = {}
        for day, value in t.items():
            intervals = self.day_hours(value, (*path, day))
            if intervals:
                hours[WEEKDAYS.index(day)] = intervals
        if not hours:
            self.fail(path, "every weekday is closed; give some hours or use always_open = true")
        return dict(sorted(hours.items()))

    def day_hours(self, raw: object, path: Path) -> tuple[Interval, ...]:
        spans: list[tuple[int, int, int]] = []
        for index, item in enumerate(self.array(raw, path)):
            start, end = self.interval(item, (*path, index))
            spans.append((start, end, index))
        spans.sort()
        merged: list[Interval] = []
        for position, (start, end, index) in enumerate(spans):
            if position and start < spans[position - 1][1]:
                before = spans[position - 1]
                self.fail(
                    (*path, max(index, before[2])),
                    f"{_span(start, end)} overlaps {_span(before[0], before[1])}",
                )
            if merged and merged[-1][1] == start:
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        return tuple(merged)

    def interval(self, value: object, path: Path) -> Interval:
        text = self.string(value, path)
        match = _INTERVAL.match(text.strip())
        if not match:
            self.fail(path, f'{text!r} is not an interval like "08:30-12:00"')
        sh, sm, eh, em = (int(part) for part in match.groups())
        if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em):
            self.fail(path, f"{text!r} is not a valid time of day (00:00 to 24:00)")
        start, end = sh * 3600 + sm * 60, eh * 3600 + em * 60
        if start >= end:
            self.fail(
                path,
                f"{text!r}: start must be before end (split a night shift at midnight: "
                '"22:00-24:00" today, "00:00-06:00" the next day)',
            )
        return start, end

    # -- severities, metrics, clock ----------------------------------------------------------

    def severities(self, raw: object) -> SeverityScheme:
        path: Path = ("severities",)
        t = self.table(
            raw, path, keys=("order", "levels", "matrix", "default"), required=("order",)
        )
        order = self.names(t["order"], (*path, "order"), "severity")
        if not order:
            self.fail((*path, "order"), "list at least one severity, most severe first")
        for index, name in enumerate(order):
            if name in TARGET_KEYS:
                self.fail(
                    (*path, "order", index), f"{name!r} is reserved for SLA ranges; rename it"
                )
        levels = self.names(t.get("levels", []), (*path, "levels"), "level")
        if levels and "matrix" not in t:
            self.fail(
                (*path, "levels"), "levels need a [severities.matrix] impact -> urgency -> severity"
            )
        matrix: dict[tuple[str, str], str] = {}
        if "matrix" in t:
            if not levels:
                self.fail(
                    (*path, "matrix"), "a matrix needs levels = [...] (e.g. high, medium, low)"
                )
            matrix = self.matrix(t["matrix"], (*path, "matrix"), levels, order)
        default = None
        if "default" in t:
            default = self.choice(t["default"], (*path, "default"), order, "severity")
        return SeverityScheme(order=order, levels=levels, matrix=matrix, default=default)

    def matrix(
        self, raw: object, path: Path, levels: tuple[str, ...], order: tuple[str, ...]
    ) -> dict[tuple[str, str], str]:
        t = self.table(raw, path, keys=levels, what="impact level")
        matrix: dict[tuple[str, str], str] = {}
        for impact in levels:
            if impact not in t:
                self.fail(path, f"missing impact {impact!r} (the matrix covers every level)")
            row_path = (*path, impact)
            row = self.table(t[impact], row_path, keys=levels, what="urgency level")
            for urgency in levels:
                if urgency not in row:
                    self.fail(
                        row_path, f"missing urgency {urgency!r} (the matrix covers every level)"
                    )
                matrix[(impact, urgency)] = self.choice(
                    row[urgency], (*row_path, urgency), order, "severity"
                )
        return matrix

    def metrics(self, raw: object) -> dict[str, MetricSpec]:
        t = self.names_table(raw, ("metrics",), "metric")
        metrics = {"response": MetricSpec("response")}
        for name, value in t.items():
            path: Path = ("metrics", name)
            known = KNOWN_METRICS.get(name)
            spec = self.table(
                value, path, keys=("start", "stop"), required=() if known else ("stop",)
            )
            start_default, stop_default = known or ("clock", ())
            start = self.choice(
                spec.get("start", start_default),
                (*path, "start"),
                ("clock", *sorted(EVENT_KINDS)),
                "start",
            )
            stop_raw = spec.get("stop", list(stop_default))
            if isinstance(stop_raw, str):
                stop_raw = [stop_raw]
            stop = self.names(stop_raw, (*path, "stop"), "event kind", sorted(EVENT_KINDS))
            if not stop:
                self.fail((*path, "stop"), "list at least one event kind that stops the metric")
            metrics[name] = MetricSpec(name=name, start=start, stop=stop)
        return metrics

    def clock(self, raw: object, required_fields: tuple[str, ...]) -> ClockRules:
        path: Path = ("clock",)
        t = self.table(raw, path, keys=("start", "pause_states", "at_risk_share"))
        defaults = ClockRules()
        start = self.choice(
            t.get("start", defaults.start), (*path, "start"), CLOCK_STARTS, "clock start"
        )
        if start == "info_complete" and not required_fields:
            self.fail(
                (*path, "start"),
                "info_complete needs policy.required_fields to say what is complete",
            )
        pause = self.names(
            t.get("pause_states", list(defaults.pause_states)),
            (*path, "pause_states"),
            "state",
            STATES,
        )
        share_raw = t.get("at_risk_share", defaults.at_risk_share)
        share_path = (*path, "at_risk_share")
        if isinstance(share_raw, bool) or not isinstance(share_raw, int | float):
            self.fail(share_path, f"expected a number between 0 and 1, got {_kind(share_raw)}")
        if not 0 < share_raw < 1:
            self.fail(share_path, f"must be between 0 and 1 (exclusive), got {share_raw}")
        return ClockRules(start=start, pause_states=pause, at_risk_share=float(share_raw))

    # -- scope, rates, entitlement -----------------------------------------------------------

    def scope(self, raw: object) -> ScopeRules:
        path: Path = ("scope",)
        lists = ("always_supported", "out_of_scope", "billable_services")
        flags = ("misuse_refuse_repeat", "requires_reproducible")
        t = self.table(raw, path, keys=(*lists, *flags))
        topics: dict[str, tuple[str, ...]] = {}
        owner: dict[str, str] = {}
        for key in lists:
            topics[key] = self.names(t.get(key, []), (*path, key), "topic")
            for index, topic in enumerate(topics[key]):
                if topic in owner:
                    self.fail(
                        (*path, key, index), f"topic {topic!r} is already in scope.{owner[topic]}"
                    )
                owner[topic] = key
        defaults = ScopeRules()
        return ScopeRules(
            always_supported=topics["always_supported"],
            out_of_scope=topics["out_of_scope"],
            billable_services=topics["billable_services"],
            misuse_refuse_repeat=self.boolean(
                t.get("misuse_refuse_repeat", defaults.misuse_refuse_repeat),
                (*path, "misuse_refuse_repeat"),
            ),
            requires_reproducible=self.boolean(
                t.get("requires_reproducible", defaults.requires_reproducible),
                (*path, "requires_reproducible"),
            ),
        )

    def rates(self, raw: object, scope: ScopeRules) -> RateCard:
        path: Path = ("rates",)
        keys = (
            "currency",
            "vat_included",
            "default_vat_rate",
            "incident_price",
            "current",
            "previous",
            "overtime",
            "hourly",
        )
        t = self.table(raw, path, keys=keys, required=("currency",))
        currency = self.string(t["currency"], (*path, "currency"))
        if not _CURRENCY.match(currency):
            self.fail((*path, "currency"), f'{currency!r} is not an ISO 4217 code like "EUR"')
        overtime_price, block = Decimal("0"), RateCard().overtime_block_minutes
        if "overtime" in t:
            over = self.table(
                t["overtime"], (*path, "overtime"), keys=("price", "block"), required=("price",)
            )
            overtime_price = self.money(over["price"], (*path, "overtime", "price"))
            block = self.minutes(over.get("block", "30m"), (*path, "overtime", "block"))
        hourly: dict[str, Decimal] = {}
        if "hourly" in t:
            allowed = (*HOURLY_RATE_NAMES, *scope.billable_services)
            table = self.table(t["hourly"], (*path, "hourly"), keys=allowed, what="hourly rate")
            hourly = {
                name: self.money(value, (*path, "hourly", name)) for name, value in table.items()
            }
        incident = None
        if "incident_price" in t:
            incident = self.money(t["incident_price"], (*path, "incident_price"))
        return RateCard(
            currency=currency,
            vat_included=self.boolean(t.get("vat_included", False), (*path, "vat_included")),
            current=self.intervention(t, "current"),
            previous=self.intervention(t, "previous"),
            overtime_price=overtime_price,
            overtime_block_minutes=block,
            hourly=hourly,
            incident_price=incident,
            default_vat_rate=self.vat_rate(
                t.get("default_vat_rate", "0%"), (*path, "default_vat_rate")
            ),
        )

    def intervention(self, rates: dict[str, Any], key: str) -> InterventionRate | None:
        if key not in rates:
            return None
        path: Path = ("rates", key)
        t = self.table(rates[key], path, keys=("price", "includes"), required=("price", "includes"))
        return InterventionRate(
            price=self.money(t["price"], (*path, "price")),
            included_minutes=self.minutes(t["includes"], (*path, "includes")),
        )

    def vat_rate(self, value: object, path: Path) -> Decimal:
        percent = isinstance(value, str) and value.strip().endswith("%")
        raw = value.strip().removesuffix("%") if isinstance(value, str) else value
        rate = self.decimal(raw, path)
        if percent:
            rate /= 100
        if rate >= 1:
            self.fail(path, f'{value!r} reads as {rate:.0%} or more; write "22%" or "0.22"')
        return rate

    def entitlement(self, raw: object) -> EntitlementRules:
        path: Path = ("entitlement",)
        flags = (
            "require_activation",
            "block_overdue",
            "named_contacts_only",
            "latest_release_only",
        )
        counts = ("warranty_days", "eol_notice_days")
        t = self.table(raw, path, keys=(*flags, *counts, "previous_version"))
        defaults = EntitlementRules()
        values: dict[str, Any] = {}
        for key in flags:
            values[key] = self.boolean(t.get(key, getattr(defaults, key)), (*path, key))
        for key in counts:
            values[key] = self.count(t.get(key, getattr(defaults, key)), (*path, key))
        values["previous_version"] = self.choice(
            t.get("previous_version", defaults.previous_version),
            (*path, "previous_version"),
            PREVIOUS_VERSION_RULES,
            "previous_version rule",
        )
        return EntitlementRules(**values)

    # -- plans -------------------------------------------------------------------------------

    def plans(
        self,
        raw: object,
        calendars: dict[str, CalendarSpec],
        severities: SeverityScheme,
        metrics: dict[str, MetricSpec],
        channels: tuple[str, ...],
        rates: RateCard | None,
        entitlement: EntitlementRules,
    ) -> dict[str, Plan]:
        t = self.names_table(raw, ("plans",), "plan")
        if not t:
            self.fail(("plans",), "define at least one plan, e.g. [plans.standard]")
        plans: dict[str, Plan] = {}
        for name, value in t.items():
            path: Path = ("plans", name)
            keys = (
                "calendar",
                "billing",
                "channels",
                "services",
                "consultancy_hours",
                "warranty",
                "description",
                "sla",
            )
            p = self.table(value, path, keys=keys, required=("calendar", "sla"))
            calendar = self.choice(p["calendar"], (*path, "calendar"), calendars, "calendar")
            billing = self.choice(
                p.get("billing", "included"), (*path, "billing"), BILLING_MODES, "billing mode"
            )
            if billing == "per_intervention" and (rates is None or rates.current is None):
                self.fail((*path, "billing"), "per_intervention billing needs [rates.current]")
            if billing == "pay_per_incident" and (rates is None or rates.incident_price is None):
                self.fail((*path, "billing"), "pay_per_incident billing needs rates.incident_price")
            warranty = self.boolean(p.get("warranty", False), (*path, "warranty"))
            if warranty and entitlement.warranty_days <= 0:
                self.fail(
                    (*path, "warranty"), "warranty = true needs entitlement.warranty_days > 0"
                )
            plans[name] = Plan(
                name=name,
                calendar=calendar,
                billing=billing,
                channels=self.names(
                    p.get("channels", []), (*path, "channels"), "channel", channels
                ),
                services=self.names(p.get("services", []), (*path, "services"), "service"),
                consultancy_hours=self.decimal(
                    p.get("consultancy_hours", 0), (*path, "consultancy_hours")
                ),
                warranty=warranty,
                sla=self.sla(p["sla"], (*path, "sla"), severities.order, metrics),
                description=self.string(p.get("description", ""), (*path, "description")),
            )
        return plans

    def sla(
        self, raw: object, path: Path, order: tuple[str, ...], metrics: dict[str, MetricSpec]
    ) -> dict[str, dict[str, Target]]:
        t = self.table(raw, path, keys=metrics, what="metric")
        sla = {
            metric: self.metric_targets(value, (*path, metric), order)
            for metric, value in t.items()
        }
        if "response" not in sla:
            self.fail(path, "missing response targets (every plan needs one per severity)")
        for severity in order:
            if severity not in sla["response"]:
                self.fail((*path, "response"), f"missing a target for severity {severity!r}")
        return sla

    def metric_targets(self, raw: object, path: Path, order: tuple[str, ...]) -> dict[str, Target]:
        if isinstance(raw, str) or (isinstance(raw, dict) and raw and set(raw) <= set(TARGET_KEYS)):
            target = self.target(raw, path)
            return {severity: target for severity in order}
        t = self.table(raw, path, keys=order, what="severity")
        return {severity: self.target(value, (*path, severity)) for severity, value in t.items()}

    def target(self, raw: object, path: Path) -> Target:
        if not isinstance(raw, dict):
            seconds = self.duration(raw, path)
            return Target(goal=seconds, limit=seconds)
        t = self.table(raw, path, keys=TARGET_KEYS, required=TARGET_KEYS)
        goal = self.duration(t["goal"], (*path, "goal"))
        limit = self.duration(t["limit"], (*path, "limit"))
        if goal > limit:
            self.fail(
                (*path, "goal"),
                f"goal {format_duration(goal)} is past limit {format_duration(limit)}",
            )
        return Target(goal=goal, limit=limit)

    # -- closure protocol --------------------------------------------------------------------

    def closure(self, raw: object) -> ClosureProtocol:
        path: Path = ("closure",)
        t = self.table(raw, path, keys=("clock", "steps"), required=("steps",))
        clock = self.choice(
            t.get("clock", "calendar"), (*path, "clock"), PROTOCOL_CLOCKS, "protocol clock"
        )
        items = self.array(t["steps"], (*path, "steps"))
        if not items:
            self.fail((*path, "steps"), "list the protocol steps, ending with a close")
        steps: list[ProtocolStep] = []
        for index, item in enumerate(items):
            step_path: Path = (*path, "steps", index)
            s = self.table(
                item, step_path, keys=("at", "action", "outcome", "note"), required=("at", "action")
            )
            offset = self.duration(s["at"], (*step_path, "at"), positive=False)
            if steps and offset < steps[-1].offset:
                self.fail(
                    (*step_path, "at"),
                    f"{s['at']} is before the previous step ({format_duration(steps[-1].offset)}); "
                    "list steps in time order",
                )
            action = self.choice(s["action"], (*step_path, "action"), PROTOCOL_ACTIONS, "action")
            last = index == len(items) - 1
            if action == "close" and not last:
                self.fail((*step_path, "action"), "close must be the last step")
            if last and action != "close":
                self.fail((*step_path, "action"), "the last step must be a close")
            outcome = None
            if action == "close":
                if "outcome" not in s:
                    self.fail(step_path, 'a close step needs an outcome, e.g. outcome = "accepted"')
                outcome = self.choice(s["outcome"], (*step_path, "outcome"), OUTCOMES, "outcome")
            elif "outcome" in s:
                self.fail((*step_path, "outcome"), "only a close step takes an outcome")
            note = self.string(s.get("note", ""), (*step_path, "note"))
            steps.append(ProtocolStep(offset=offset, action=action, outcome=outcome, note=note))
        return ClosureProtocol(clock=clock, steps=tuple(steps))


    def mail(self, raw: object) -> MailRules:
        path: Path = ("mail",)
        t = self.table(raw, path, keys=("notify", "templates", "address"))
        notify = self.names(
            t.get("notify", []), (*path, "notify"), "notification", NOTIFICATIONS
        )
        templates = self.string(t["templates"], (*path, "templates")) if "templates" in t else None
        address = self.string(t["address"], (*path, "address")) if "address" in t else None
        if address is not None and "@" not in address:
            self.fail((*path, "address"), f"{address!r} is not an e-mail address")
        return MailRules(notify=notify, templates=templates or None, address=address or None)


def _span(start: int, end: int) -> str:
    return f"{start // 3600:02d}:{start % 3600 // 60:02d}-{end // 3600:02d}:{end % 3600 // 60:02d}"


class _Locator:
    """Maps key paths to the line that defines them.

    tomllib gives no positions, so this re-reads the (already valid) text with a
    small scanner that follows tables, ``[[arrays]]``, dotted keys, arrays and
    inline tables. Explicit definitions win over tables created implicitly by a
    longer header or dotted key. A path not found falls back to its nearest
    defined parent, then line 1.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.explicit: dict[Path, int] = {}
        self.implicit: dict[Path, int] = {}
        self.array_tables: dict[Path, int] = {}
        # best effort: whatever was located before a surprise still helps
        with contextlib.suppress(IndexError, ValueError, tomllib.TOMLDecodeError):
            self.document()

    def line_of(self, path: Path) -> int:
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            if prefix in self.explicit:
                return self.explicit[prefix]
            if prefix in self.implicit:
                return self.implicit[prefix]
        return 1

    # -- scanning ----------------------------------------------------------------------------

    def peek(self, size: int = 1) -> str:
        return self.text[self.pos : self.pos + size]

    def advance(self, size: int = 1) -> None:
        self.line += self.text.count("\n", self.pos, self.pos + size)
        self.pos += size

    def skip_blanks(self) -> None:
        while self.peek() in (" ", "\t"):
            self.advance()

    def skip_space(self) -> None:
        """Blanks, newlines and comments."""
        while self.pos < len(self.text):
            char = self.peek()
            if char in " \t\r\n":
                self.advance()
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.advance((len(self.text) if end < 0 else end) - self.pos)
            else:
                return

    def expect(self, token: str) -> None:
        if self.peek(len(token)) != token:
            raise ValueError(f"expected {token!r} at offset {self.pos}")
        self.advance(len(token))

    def mark(self, path: Path, line: int, *, explicit: bool) -> None:
        for end in range(1, len(path)):
            self.implicit.setdefault(path[:end], line)
        target = self.explicit if explicit else self.implicit
        target.setdefault(path, line)

    def document(self) -> None:
        table: Path = ()
        while True:
            self.skip_space()
            if self.pos >= len(self.text):
                return
            line = self.line
            if self.peek(2) == "[[":
                self.advance(2)
                keys = self.key()
                self.skip_blanks()
                self.expect("]]")
                parent = (*self.resolve(keys[:-1]), keys[-1])
                index = self.array_tables.get(parent, 0)
                self.array_tables[parent] = index + 1
                table = (*parent, index)
                self.mark(parent, line, explicit=True)
                self.explicit[table] = line
            elif self.peek() == "[":
                self.advance()
                keys = self.key()
                self.skip_blanks()
                self.expect("]")
                table = self.resolve(keys)
                self.mark(table, line, explicit=True)
            else:
                self.key_value(table)

    def resolve(self, keys: tuple[str, ...]) -> Path:
        """A header's keys, with the current index of every array of tables on the way."""
        path: Path = ()
        for key in keys:
            path = (*path, key)
            if path in self.array_tables:
                path = (*path, self.array_tables[path] - 1)
        return path

    def key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self.skip_blanks()
            char = self.peek()
            start = self.pos
            if char in ('"', "'"):
                self.string()
                parts.append(tomllib.loads("k = " + self.text[start : self.pos])["k"])
            else:
                while self.pos < len(self.text) and _BARE_KEY.match(self.peek()):
                    self.advance()
                if self.pos == start:
                    raise ValueError(f"expected a key at offset {start}")
                parts.append(self.text[start : self.pos])
            self.skip_blanks()
            if self.peek() != ".":
                return tuple(parts)
            self.advance()

    def key_value(self, base: Path) -> None:
        line = self.line
        path = base + self.key()
        self.skip_blanks()
        self.expect("=")
        self.skip_blanks()
        self.mark(path, line, explicit=True)
        self.value(path)

    def value(self, path: Path) -> None:
        char = self.peek()
        if char in ('"', "'"):
            self.string()
        elif char == "[":
            self.advance()
            index = 0
            while True:
                self.skip_space()
                if self.peek() == "]":
                    self.advance()
                    return
                self.mark((*path, index), self.line, explicit=True)
                self.value((*path, index))
                index += 1
                self.skip_space()
                if self.peek() == ",":
                    self.advance()
        elif char == "{":
            self.advance()
            while True:
                self.skip_space()
                if self.peek() == "}":
                    self.advance()
                    return
                self.key_value(path)
                self.skip_space()
                if self.peek() == ",":
                    self.advance()
        else:
            while self.pos < len(self.text) and self.peek() not in ",]}\n#":
                self.advance()

    def string(self) -> None:
        quote = self.peek()
        if self.peek(3) == quote * 3:
            self.advance(3)
            while self.peek(3) != quote * 3:
                if self.pos >= len(self.text):
                    raise ValueError("unterminated string")
                self.advance(2 if quote == '"' and self.peek() == "\\" else 1)
            self.advance(3)
            while self.peek() == quote:  # a multi-line string may end with up to two quotes
                self.advance()
            return
        self.advance()
        while self.peek() != quote:
            if self.pos >= len(self.text):
                raise ValueError("unterminated string")
            self.advance(2 if quote == '"' and self.peek() == "\\" else 1)
        self.advance()
