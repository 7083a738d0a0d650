"""The rates an invoice shows: each line's unit price and the rate card applied."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from deskctl.domain.billing import (
    LineCard,
    cents,
    rate_key,
)
from deskctl.domain.policy import RateCard


def line_rate(kind: str, rates: RateCard | None) -> Decimal | None:
    """The unit price of a kind of line under a rate card (as PriceLine.rate has it)."""
    if rates is None:
        return None
    if kind.startswith("intervention_"):
        return cents(rates.overtime_price)
    if kind == "incident":
        return cents(rates.incident_price) if rates.incident_price is not None else None
    if kind.startswith("hourly:"):
        item = kind.removeprefix("hourly:")
        hourly = {rate_key(k): v for k, v in rates.hourly.items()}
        price = hourly.get(item)
        if price is None and item == "data_recovery":
            price = hourly.get("recovery")
        return cents(price) if price is not None else None
    return None


def rates_applied(cards: Iterable[tuple[str, LineCard]]) -> list[dict[str, Any]]:
    """The rate-card items the lines used, once each, in rate-card order."""
    seen: list[dict[str, Any]] = []
    for kind, card in cards:
        for item in _rate_items(kind, card):
            if item not in seen:
                seen.append(item)
    return sorted(seen, key=_rate_rank)


def _rate_rank(item: Mapping[str, Any]) -> int:
    label = str(item["item"])
    for rank, word in enumerate(("current version", "previous version", "each further")):
        if word in label:
            return rank
    return 3


def _rate_items(kind: str, line_card: LineCard) -> list[dict[str, Any]]:
    card = line_card.rates
    if card is None:
        return []
    items = []
    if kind.startswith("intervention_"):
        which = "current" if kind == "intervention_current" else "previous"
        rate = card.current if which == "current" else card.previous
        label = (
            "occasional intervention, current version"
            if which == "current"
            else "single intervention, previous version"
        )
        if rate is not None:
            items.append(_item(label, rate.price, f"includes {rate.included_minutes} min"))
        items.append(
            _item(
                f"each further {card.overtime_block_minutes} min, started",
                card.overtime_price,
                "per block",
            )
        )
    elif kind == "incident" and card.incident_price is not None:
        items.append(_item("incident, flat price", card.incident_price, "per incident"))
    elif kind.startswith("hourly:"):
        price = line_rate(kind, card)
        if price is not None:
            name = kind.removeprefix("hourly:").replace("_", " ")
            items.append(_item(line_card.service if name == "service" else name, price, "per hour"))
    return items


def _item(label: str, price: Decimal, unit: str) -> dict[str, Any]:
    return {"item": label, "price": cents(price), "unit": unit}
