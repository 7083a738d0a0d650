"""The ``[scope]`` and ``[rates]`` tables: what is billable and at what price."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from deskctl.domain.policy import (
    InterventionRate,
    RateCard,
    ScopeRules,
)
from deskctl.domain.policy_file.errors import Path
from deskctl.domain.policy_file.reader import Reader

HOURLY_RATE_NAMES = ("service", "diagnosis")


_CURRENCY = re.compile(r"[A-Z]{3}\Z")


class MoneyTables(Reader):
    """``[scope]``, ``[rates]``."""

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
