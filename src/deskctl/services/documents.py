"""What printed documents need beyond the figures: who issues them, whom they are for,
and the names behind the keys and ids.

The billing and SLA services compute the figures; this module adds the vendor's
identity (``[vendor]`` of the policy), the buyer's billing block, ticket titles,
customer names and calendar zones, and picks the reader (locale, zone, paper). It
reads only; the render layer turns the result into HTML or PDF.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from deskctl import i18n
from deskctl.domain.policy import Policy, RateCard
from deskctl.errors import BadInput, NotFound
from deskctl.services import masterdata, policies
from deskctl.store.models import Customer, PolicyVersion, Ticket, pk, table_of

_T = table_of(Ticket).c
_CU = table_of(Customer).c


# -- the issuer --------------------------------------------------------------------------


def _folder(row: PolicyVersion) -> Path | None:
    source = Path(row.source) if row.source else None
    return source.parent if source is not None and source.is_absolute() else None


def _resolve(path: str | None, base: Path | None) -> Path | None:
    if path is None:
        return None
    found = Path(path).expanduser()
    if not found.is_absolute() and base is not None:
        found = base / found
    return found


def _data_uri(path: Path) -> str:
    """The logo inlined, so the HTML file stands alone (mailed, archived, printed)."""
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if not kind.startswith("image/"):
        raise BadInput(f"vendor logo {path} is not an image (png, jpeg, svg)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"vendor logo {path}: {exc.strerror or exc}") from None
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def vendor(row: PolicyVersion, policy: Policy) -> dict[str, Any]:
    """The issuer block: legal name, address, VAT number, contacts, logo, templates."""
    who = policy.identity
    base = _folder(row)
    logo = _resolve(who.logo, base)
    templates = _resolve(who.templates, base)
    if templates is not None and not templates.is_dir():
        raise BadInput(f"policy {policy.name}: vendor.templates: no directory {templates}")
    return {
        "name": who.legal_name or policy.vendor,
        "brand": policy.vendor,
        "address": list(who.address),
        "vat_number": who.vat_number,
        "email": who.email,
        "phone": who.phone,
        "logo": _data_uri(logo) if logo is not None else None,
        "templates": templates,
        "payment_terms_days": who.payment_terms_days,
        "country": who.country,
        "locale": who.locale,
    }


def vendor_of_customer(session: Session, customer: Customer) -> dict[str, Any]:
    """The issuer of a customer's documents: the policy of its latest contract."""
    contracts = masterdata.contracts_of(session, pk(customer))
    name = contracts[-1].policy if contracts else customer.policy
    row, policy = policies.latest(session, name)
    return vendor(row, policy)


def vendor_of_store(session: Session, name: str | None = None) -> dict[str, Any]:
    """The issuer of a report over the store: the named policy, else the default one."""
    row, policy = policies.latest(session, name)
    return vendor(row, policy)


def vendor_reader_locale(issuer: Mapping[str, Any]) -> str:
    return i18n.resolve(issuer.get("locale"), country=issuer.get("country"))


# -- the buyer ---------------------------------------------------------------------------


def buyer(customer: Customer) -> dict[str, Any]:
    return {
        "key": customer.key,
        "name": customer.name,
        "country": customer.country,
        "address": customer.billing_address.split("\n") if customer.billing_address else [],
        "vat_id": customer.vat_id,
        "locale": i18n.resolve(customer.locale, country=customer.country),
    }


# -- invoices ----------------------------------------------------------------------------


def _tickets(session: Session, ids: Iterable[int]) -> dict[int, Any]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = select(_T.id, _T.title, _T.policy_version_id).where(_T.id.in_(wanted))
    return {r.id: r for r in session.execute(stmt)}


def _item(kind: str, rates: RateCard | None) -> dict[str, Any]:
    """The rate-card item a line is priced on, for the reader's words."""
    item: dict[str, Any] = {"code": kind, "included": None, "block": None, "name": None}
    if rates is None:
        return item
    if kind.startswith("intervention_"):
        rate = rates.current if kind == "intervention_current" else rates.previous
        item["included"] = rate.included_minutes if rate else None
        item["price"] = rate.price if rate else None
        item["block"] = rates.overtime_block_minutes
        item["block_price"] = rates.overtime_price
    elif kind == "incident":
        item["price"] = rates.incident_price
    elif kind.startswith("hourly:"):
        item["code"] = "hourly"
        item["name"] = kind.removeprefix("hourly:").replace("_", " ")
    return item


def rate_items(lines: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rate-card entries the lines used, once each: base prices, then the further
    block, then hourly rates and flat prices."""
    found: list[dict[str, Any]] = []

    def add(entry: dict[str, Any]) -> None:
        if entry not in found:
            found.append(entry)

    for line in lines:
        it = line["item"]
        if it["code"].startswith("intervention_") and it.get("price") is not None:
            add({"code": it["code"], "price": it["price"], "minutes": it["included"]})
        elif it["code"] == "incident" and it.get("price") is not None:
            add({"code": "incident", "price": it["price"], "minutes": None})
        elif it["code"] == "hourly":
            add({"code": "hourly", "price": line["rate"], "name": it["name"], "minutes": None})
    for line in lines:
        it = line["item"]
        if it.get("block_price") is not None and it["code"].startswith("intervention_"):
            add({"code": "block", "price": it["block_price"], "minutes": it["block"]})
    order = ("intervention_current", "intervention_previous", "block", "incident", "hourly")
    return sorted(found, key=lambda e: order.index(e["code"]))


def invoice(session: Session, doc: Mapping[str, Any], *, today: date) -> dict[str, Any]:
    """A bill or invoice document (``services.billing``) with its seller, buyer, ticket
    titles, rate-card items, issue date and due date."""
    customer = masterdata.customer_by_key(session, doc["customer"])
    seller = vendor_of_customer(session, customer)
    tickets = _tickets(session, (line["ticket"] for line in doc["lines"]))
    cards: dict[int | None, RateCard | None] = {}
    lines = []
    for line in doc["lines"]:
        row = tickets.get(line["ticket"])
        version = row.policy_version_id if row else None
        if version not in cards:
            cards[version] = _rates_of(session, version)
        lines.append(
            {**line, "title": row.title if row else "", "item": _item(line["kind"], cards[version])}
        )
    finalised = doc.get("finalized_at")
    issued = finalised.date() if isinstance(finalised, datetime) else today
    return {
        **doc,
        "lines": lines,
        "rate_items": rate_items(lines),
        "seller": seller,
        "buyer": buyer(customer),
        "issued": issued,
        "due": issued + timedelta(days=seller["payment_terms_days"]),
    }


def _rates_of(session: Session, version_id: int | None) -> RateCard | None:
    if version_id is None:
        return None
    try:
        return policies.by_version_id(session, version_id)[1].rates
    except NotFound:
        return None


# -- SLA report --------------------------------------------------------------------------


def customer_names(session: Session, keys: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    stmt = select(_CU.key, _CU.name).where(_CU.key.in_(wanted))
    return {r.key: r.name for r in session.execute(stmt)}


def ticket_places(session: Session, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Title and calendar zone of each ticket (the zone its deadlines are shown in)."""
    out: dict[int, dict[str, Any]] = {}
    zones: dict[tuple[int | None, str | None], str] = {}
    for start in range(0, len(ids), 1000):
        part = list(ids[start : start + 1000])
        stmt = select(_T.id, _T.title, _T.policy_version_id, _T.calendar).where(_T.id.in_(part))
        for r in session.execute(stmt):
            key = (r.policy_version_id, r.calendar)
            if key not in zones:
                zones[key] = _zone(session, *key)
            out[r.id] = {"title": r.title, "timezone": zones[key]}
    return out


def _zone(session: Session, version_id: int | None, calendar: str | None) -> str:
    if version_id is None:
        return "UTC"
    try:
        policy = policies.by_version_id(session, version_id)[1]
    except NotFound:
        return "UTC"
    spec = policy.calendars.get(calendar or "") or next(iter(policy.calendars.values()), None)
    return spec.timezone if spec is not None else "UTC"


METRIC_ORDER = ("response", "resolution", "onsite", "report")


def report_issuer(
    session: Session, customer: str | None, policy: str | None
) -> tuple[dict[str, Any], Policy | None]:
    """Who issues a report: the policy named, else the customer's, else the only one
    loaded; a store of several vendors without --policy gets a neutral header."""
    if policy or not customer:
        try:
            row, found = policies.latest(session, policy)
        except BadInput:
            names = policies.names(session)
            return _neutral(", ".join(names)), None
        return vendor(row, found), found
    row_customer = masterdata.customer_by_key(session, customer)
    contracts = masterdata.contracts_of(session, pk(row_customer))
    name = contracts[-1].policy if contracts else row_customer.policy
    row, found = policies.latest(session, name)
    return vendor(row, found), found


def _neutral(names: str) -> dict[str, Any]:
    return {
        "name": names,
        "brand": names,
        "address": [],
        "vat_number": "",
        "email": "",
        "phone": "",
        "logo": None,
        "templates": None,
        "payment_terms_days": 30,
        "country": "",
        "locale": "",
    }


def _metrics(doc: Mapping[str, Any]) -> list[str]:
    found = list(doc["totals"]["metrics"])
    return sorted(found, key=lambda m: (METRIC_ORDER.index(m) if m in METRIC_ORDER else 9, m))


def _overall(tallies: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Every metric's counts added up, and the compliance of the lot."""
    keys = ("met", "late", "breached", "judged")
    sums = {k: sum(int(t.get(k, 0)) for t in tallies.values()) for k in keys}
    opened = sum(int(t.get(s, 0)) for t in tallies.values() for s in _OPEN)
    kept = sums["met"] + sums["late"]
    share = None if not sums["judged"] else round(100.0 * kept / sums["judged"], 2)
    return {**sums, "open": opened, "compliance": share}


_OPEN = ("running", "at_risk", "paused", "pending")


def _group_rows(
    rows: Sequence[Mapping[str, Any]],
    key: str,
    previous: Sequence[Mapping[str, Any]],
    labels: Mapping[str, str],
) -> list[dict[str, Any]]:
    before = {r[key]: r for r in previous}
    out = []
    for r in rows:
        prior = before.get(r[key], {}).get("metrics", {})
        out.append(
            {
                "label": labels.get(r[key], r[key]) if r[key] is not None else "–",
                "tickets": r["tickets"],
                "metrics": r["metrics"],
                "previous": {m: v.get("compliance_pct") for m, v in prior.items()},
                "breached": sum(int(v.get("breached", 0)) for v in r["metrics"].values()),
            }
        )
    return out


def sla_report(
    session: Session,
    doc: Mapping[str, Any],
    *,
    now: datetime,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The SLA report (``services.sla.report``) as a document: issuer, target, summary
    with the previous period beside it, breaches worst first with local limits, the rest."""
    filters = doc["filters"]
    issuer, policy = report_issuer(session, filters.get("customer"), filters.get("policy"))
    listed = doc["tickets"]
    names = customer_names(session, [r["customer"] for r in doc["by_customer"]])
    places = ticket_places(session, [t["id"] for t in listed])
    breaches = breach_rows(session, [t for t in listed if t["state"] == "breached"], places, now)
    others = [
        {
            **t,
            "title": places.get(t["id"], {}).get("title", ""),
            "customer_name": names.get(t["customer"], t["customer"]),
        }
        for t in listed
        if t["state"] != "breached"
    ]
    prev = previous or {"totals": {"metrics": {}}, "by_severity": [], "by_customer": []}
    total = _overall(doc["totals"]["metrics"])
    total["tickets"] = doc["totals"]["tickets"]
    total["previous"] = _overall(prev["totals"]["metrics"])["compliance"]
    for b in breaches:
        b["customer_name"] = names.get(b["customer"], b["customer"])
    return {
        "issuer": issuer,
        "target": policy.clock.compliance_target if policy else 0.95,
        "timezone": _home_zone(policy),
        "start": date.fromisoformat(doc["from"]),
        "end": date.fromisoformat(doc["to"]),
        "at": now,
        "customer": names.get(filters.get("customer") or "", filters.get("customer")),
        "severity": filters.get("severity"),
        "breached_only": filters.get("breached_only"),
        "metrics": _metrics(doc),
        "total": total,
        "has_previous": previous is not None,
        "previous_start": date.fromisoformat(prev["from"]) if previous else None,
        "previous_end": date.fromisoformat(prev["to"]) if previous else None,
        "by_severity": _group_rows(doc["by_severity"], "severity", prev["by_severity"], {}),
        "by_customer": _group_rows(doc["by_customer"], "customer", prev["by_customer"], names),
        "breaches": breaches,
        "others": others,
    }


def breach_rows(
    session: Session,
    tickets: Sequence[Mapping[str, Any]],
    places: Mapping[int, Mapping[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    """One row per breached metric, worst first: how far past its limit it stopped, or
    is now. Only these tickets are replayed (their stop instants are not stored)."""
    from deskctl.domain.sla_facts import owed, ticket_clocks
    from deskctl.services import sla as sla_svc
    from deskctl.services import tickets as tickets_svc

    rows = []
    ids = [t["id"] for t in tickets]
    histories = sla_svc.events_by_ticket(session, ids)
    for t in tickets:
        events = histories.get(t["id"])
        ticket = session.get(Ticket, t["id"])
        if not events or ticket is None or ticket.policy_version_id is None:
            continue
        policy = tickets_svc.policy_of(session, ticket)
        clocks = owed(ticket_clocks(policy, events, now).clocks, policy)
        for metric, c in clocks.items():
            if c.state != "breached" or c.limit_at is None:
                continue
            until = c.stopped_at or now
            rows.append(
                {
                    "id": t["id"],
                    "customer": t["customer"],
                    "severity": t["severity"],
                    "status": t["status"],
                    "title": places.get(t["id"], {}).get("title", ""),
                    "timezone": places.get(t["id"], {}).get("timezone", "UTC"),
                    "metric": metric,
                    "limit_at": c.limit_at,
                    "stopped_at": c.stopped_at,
                    "late_seconds": int((until - c.limit_at).total_seconds()),
                }
            )
    rows.sort(key=lambda r: (-r["late_seconds"], r["id"], r["metric"]))
    return rows


def _home_zone(policy: Policy | None) -> str:
    """The zone a report's own instants are shown in: the policy's first calendar."""
    if policy is None or not policy.calendars:
        return "UTC"
    return next(iter(policy.calendars.values())).timezone
