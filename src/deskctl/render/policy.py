"""A policy as a JSON document and as a page for a person."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from deskctl.domain.durations import format_duration
from deskctl.domain.policy import WEEKDAYS, Policy


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def policy_doc(policy: Policy, *, version: int, loaded_at: datetime) -> dict[str, Any]:
    calendars = {}
    for name, cal in policy.calendars.items():
        calendars[name] = {
            "timezone": cal.timezone,
            "always_open": cal.always_open,
            "hours": {
                WEEKDAYS[d]: [f"{_hhmm(a)}-{_hhmm(b)}" for a, b in cal.hours[d]]
                for d in sorted(cal.hours)
            },
            "holidays": list(cal.holidays),
            "extra_holidays": list(cal.extra_holidays),
            "closed_dates": list(cal.closed_dates),
        }
    plans = {}
    for name, plan in policy.plans.items():
        plans[name] = {
            "calendar": plan.calendar,
            "billing": plan.billing,
            "channels": list(plan.channels) or list(policy.channels),
            "services": list(plan.services),
            "warranty": plan.warranty,
            "consultancy_hours": plan.consultancy_hours,
            "sla": {
                metric: {
                    sev: {"goal_seconds": t.goal, "limit_seconds": t.limit}
                    for sev, t in targets.items()
                }
                for metric, targets in plan.sla.items()
            },
        }
    return {
        "name": policy.name,
        "vendor": policy.vendor,
        "version": version,
        "loaded_at": loaded_at,
        "channels": list(policy.channels),
        "required_fields": list(policy.required_fields),
        "severities": {
            "order": list(policy.severities.order),
            "levels": list(policy.severities.levels),
            "matrix": [
                {"impact": i, "urgency": u, "severity": s}
                for (i, u), s in policy.severities.matrix.items()
            ],
        },
        "clock": asdict(policy.clock),
        "calendars": calendars,
        "plans": plans,
        "metrics": {n: asdict(m) for n, m in policy.metrics.items()},
        "scope": asdict(policy.scope),
        "closure": asdict(policy.closure) if policy.closure else None,
        "rates": asdict(policy.rates) if policy.rates else None,
        "entitlement": asdict(policy.entitlement),
        "reopen_window_seconds": policy.reopen_window,
    }


def _target(t: dict[str, int]) -> str:
    goal, limit = t["goal_seconds"], t["limit_seconds"]
    return (
        format_duration(goal)
        if goal == limit
        else f"{format_duration(goal)}–{format_duration(limit)}"
    )


def print_policy(doc: dict[str, Any]) -> None:
    from rich.table import Table

    from deskctl.render.output import stdout_console

    console = stdout_console()
    console.print(f"[bold]{doc['name']}[/bold] ({doc['vendor']}), version {doc['version']}")
    for name, cal in doc["calendars"].items():
        if cal["always_open"]:
            hours = "24x7"
        else:
            hours = "; ".join(f"{d} {' '.join(v)}" for d, v in cal["hours"].items())
        holidays = ", ".join(cal["holidays"]) or "none"
        console.print(
            f"calendar [bold]{name}[/bold] {cal['timezone']}: {hours} (holidays {holidays})"
        )
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("PLAN")
    table.add_column("CALENDAR")
    table.add_column("BILLING")
    table.add_column("METRIC")
    for sev in doc["severities"]["order"]:
        table.add_column(sev.upper(), justify="right")
    for name, plan in doc["plans"].items():
        for metric, targets in plan["sla"].items():
            cells = [
                _target(targets[s]) if s in targets else "" for s in doc["severities"]["order"]
            ]
            table.add_row(name, plan["calendar"], plan["billing"], metric, *cells)
    console.print(table)
