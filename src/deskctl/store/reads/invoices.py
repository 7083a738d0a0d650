"""Stored invoices."""

from __future__ import annotations

from typing import Any

from deskctl.store.dbapi import Query, Reader, cents, day, decimal_text, instant

_SELECT = (
    "SELECT i.number, c.key AS customer, i.period_from, i.period_to, i.status, i.currency,"
    " i.subtotal, i.vat_rate, i.vat, i.total, i.finalized_at, i.voided_at, i.void_reason"
    " FROM invoice i JOIN customer c ON c.id = i.customer_id"
)
_TYPES = {
    "period_from": day,
    "period_to": day,
    "subtotal": cents,
    "vat_rate": decimal_text,
    "vat": cents,
    "total": cents,
    "finalized_at": instant,
    "voided_at": instant,
}
ALL = Query(_SELECT + " ORDER BY i.finalized_at, i.id", _TYPES)
OF_CUSTOMER = Query(
    _SELECT + " WHERE i.customer_id = :customer_id ORDER BY i.finalized_at, i.id", _TYPES
)


def list_invoices(r: Reader, customer_id: int | None) -> list[dict[str, Any]]:
    """Stored invoices, oldest number first (finalised order)."""
    if customer_id is None:
        return r.all(ALL)
    return r.all(OF_CUSTOMER, customer_id=customer_id)
