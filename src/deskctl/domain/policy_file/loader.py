"""The whole file: its tables in order, into one :class:`Policy`."""

from __future__ import annotations

from typing import Any

from deskctl.domain.policy import Policy
from deskctl.domain.policy_file.calendars import CalendarTables
from deskctl.domain.policy_file.closure import ClosureTables
from deskctl.domain.policy_file.general import GeneralTables
from deskctl.domain.policy_file.money import MoneyTables
from deskctl.domain.policy_file.plans import PlanTables
from deskctl.domain.policy_file.service_levels import ServiceLevelTables


class Loader(
    GeneralTables, CalendarTables, ServiceLevelTables, MoneyTables, PlanTables, ClosureTables
):
    """Builds the policy dataclasses from tomllib's dicts, failing on the first problem."""

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
            "vendor",
        )
        self.table(data, (), keys=tables, what="table")
        for name in ("policy", "calendars", "severities", "plans"):
            if name not in data:
                self.fail((name,), f"missing required table [{name}]")
        head = self.head(data["policy"])
        calendars = self.calendars(data["calendars"])
        severities = self.severities(data["severities"])
        clock = self.clock(data.get("clock", {}), head["required_fields"])
        metrics = self.metrics(data.get("metrics", {}), clock.resolve_is_response)
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
            identity=self.identity(data.get("vendor", {}), head["vendor"]),
        )
