"""The ``[severities]``, ``[metrics]`` and ``[clock]`` tables."""

from __future__ import annotations

from decimal import Decimal

from deskctl.domain import events
from deskctl.domain.policy import (
    STATES,
    ClockRules,
    MetricSpec,
    SeverityScheme,
)
from deskctl.domain.policy_file.errors import Path
from deskctl.domain.policy_file.reader import Reader, kind_of

EVENT_KINDS = frozenset(
    value for name, value in vars(events).items() if name.isupper() and isinstance(value, str)
)


CLOCK_STARTS = ("opened", "info_complete")


# Metrics whose start/stop events are obvious from their name; any other metric
# must say which events stop it.
KNOWN_METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "response": ("clock", (events.RESPONDED,)),
    "resolution": ("clock", (events.RESOLVED,)),
    "onsite": (events.ONSITE_REQUESTED, (events.ONSITE_ARRIVED,)),
    "report": (events.REPORT_REQUESTED, (events.REPORT_DELIVERED,)),
}


TARGET_KEYS = ("goal", "limit")


class ServiceLevelTables(Reader):
    """``[severities]``, ``[metrics]``, ``[clock]``."""

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

    def metrics(self, raw: object, resolve_is_response: bool = True) -> dict[str, MetricSpec]:
        t = self.names_table(raw, ("metrics",), "metric")
        # Proposing a solution answers the customer: unless the policy says otherwise
        # (clock.resolve_is_response = false), `resolve` is a first response too.
        first = (events.RESPONDED, events.RESOLVED) if resolve_is_response else (events.RESPONDED,)
        metrics = {"response": MetricSpec("response", stop=first)}
        for name, value in t.items():
            path: Path = ("metrics", name)
            known = KNOWN_METRICS.get(name)
            spec = self.table(
                value, path, keys=("start", "stop"), required=() if known else ("stop",)
            )
            start_default, stop_default = known or ("clock", ())
            if name == "response":
                stop_default = first
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
        keys = (
            "start",
            "pause_states",
            "at_risk_share",
            "compliance_target",
            "resolve_is_response",
        )
        t = self.table(raw, path, keys=keys)
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
            self.fail(share_path, f"expected a number between 0 and 1, got {kind_of(share_raw)}")
        if not 0 < share_raw < 1:
            self.fail(share_path, f"must be between 0 and 1 (exclusive), got {share_raw}")
        return ClockRules(
            start=start,
            pause_states=pause,
            at_risk_share=float(share_raw),
            compliance_target=self.share(
                t.get("compliance_target", defaults.compliance_target),
                (*path, "compliance_target"),
            ),
            resolve_is_response=self.boolean(
                t.get("resolve_is_response", defaults.resolve_is_response),
                (*path, "resolve_is_response"),
            ),
        )

    def share(self, value: object, path: Path) -> float:
        """A share written ``0.95`` or ``"95%"``, between 0 and 1 inclusive."""
        if isinstance(value, str) and value.strip().endswith("%"):
            number = self.decimal(value.strip().removesuffix("%"), path) / 100
        elif isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f'expected a share like 0.95 or "95%", got {kind_of(value)}')
        else:
            number = Decimal(str(value))
        if not 0 <= number <= 1:
            self.fail(path, f"must be between 0 and 1 (or 0% and 100%), got {value}")
        return float(number)
