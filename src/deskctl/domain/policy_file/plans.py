"""The ``[entitlement]`` and ``[plans]`` tables, with each plan's SLA targets."""

from __future__ import annotations

from typing import Any

from deskctl.domain.durations import format_duration
from deskctl.domain.policy import (
    BILLING_MODES,
    CalendarSpec,
    EntitlementRules,
    MetricSpec,
    Plan,
    RateCard,
    SeverityScheme,
    Target,
)
from deskctl.domain.policy_file.errors import Path
from deskctl.domain.policy_file.reader import Reader
from deskctl.domain.policy_file.service_levels import TARGET_KEYS

PREVIOUS_VERSION_RULES = ("billable", "refused", "allowed")


class PlanTables(Reader):
    """``[entitlement]``, ``[plans]``."""

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
