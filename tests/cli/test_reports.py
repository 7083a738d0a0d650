"""`deskctl report overview | findings` against a hand-built ProgressSoft store (seed 004).

The store is built the way it will be in use: master data and tickets through
the CLI, ticket moves through the services with the lifecycle builders, and
direct row writes for what other parts fill (sla_state, work log, invoices).
Every expected figure below is worked out by hand from the scenario.

Calendar ``amman``: Sun-Thu 08:00-16:00, Asia/Amman (UTC+3 all year), Jordanian
holidays (Eid al-Fitr holiday on Sun 2026-03-22). Times below are local.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import EXAMPLES, Cli

AMMAN = timezone(timedelta(hours=3))
H = 3600
NOW = "2026-04-10T12:00:00Z"


def local(text: str) -> datetime:
    """An Amman wall-clock time as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=AMMAN).astimezone(UTC)


class Desk:
    """Builds tickets and moves them with the same builders the ticket commands use."""

    def __init__(self, cli: Any) -> None:
        self.cli = cli

    def seed(self) -> None:
        cli = self.cli
        cli("init", "--policy", str(EXAMPLES / "progresssoft.toml"))
        cli("customer", "add", "bank", "--name", "Arab Bank", "--country", "JO")
        cli("customer", "add", "cbj", "--name", "Central Bank", "--country", "JO")
        cli("contact", "add", "bank", "rana@bank.example", "--name", "Rana")
        cli("contact", "add", "bank", "omar@bank.example", "--name", "Omar")
        cli("contact", "add", "cbj", "lina@cbj.example", "--name", "Lina")
        cli("product", "add", "ecc", "--current", "5.2")
        cli("product", "add", "pay", "--current", "2.0")
        for customer in ("bank", "cbj"):
            cli(
                "contract",
                "add",
                customer,
                "--plan",
                "assistance",
                "--start",
                "2025-01-01",
                "--product",
                "ecc",
                "--product",
                "pay",
            )

    def open(
        self,
        contact: str,
        at: str,
        *,
        channel: str = "phone",
        product: str = "ecc",
        version: str = "5.1",
        hardware: str | None = None,
        os: str | None = None,
        error: str | None = "E-100",
    ) -> int:
        """Open through the service behind `ticket open` (the CLI start-up costs a test 0.3 s)."""
        from deskctl.services import tickets as svc
        from deskctl.store import db

        fields = {
            "product": product,
            "version": version,
            "server": "srv-1",
            "task": "daily batch",
            "hardware": hardware or "unknown box",
            "os": os or "unknown os",
            "error": error,
        }
        req = svc.OpenRequest(
            customer=None, contact=contact, title=f"call at {at}", channel=channel, fields=fields
        )
        with db.session(db.ready_engine(), write=True) as s:
            row = svc.open_ticket(
                s, req, now=local(at), actor="tester"
            )
            return int(row.id)

    def do(self, ticket_id: int, at: str, action: str, **kw: Any) -> None:
        from deskctl.domain import lifecycle as lc
        from deskctl.services import tickets as svc
        from deskctl.store import db

        now = local(at)
        with db.session(db.ready_engine(), write=True) as s:
            row, history, state = svc.current(s, ticket_id)
            policy = svc.policy_of(s, row)
            required = [f for f in policy.required_fields if f != "channel"]
            common = {"now": now, "actor": "tester"}
            builders = {
                "triage": lambda: lc.plan_triage(
                    state, scheme=policy.severities, required=required, **common, **kw
                ),
                "assign": lambda: lc.plan_assign(state, **common, **kw),
                "respond": lambda: lc.plan_respond(state, **common),
                "start": lambda: lc.plan_start(state, required=required, **common),
                "resolve": lambda: lc.plan_resolve(state, **common),
                "confirm": lambda: lc.plan_confirm(state, **common),
                "reject": lambda: lc.plan_reject_solution(state, **common),
                "reopen": lambda: lc.plan_reopen(
                    state, window_seconds=policy.reopen_window, **common
                ),
                "close": lambda: lc.plan_close(state, **common, **kw),
                "update": lambda: lc.plan_update(state, required=required, **common, **kw),
            }
            new = builders[action]()
            svc.apply(
                s, row, history, new if isinstance(new, list) else [new], now=now, policy=policy
            )

    def flow(self, ticket_id: int, steps: list[tuple[str, str, dict[str, Any]]]) -> None:
        for at, action, kw in steps:
            self.do(ticket_id, at, action, **kw)

    def sla(self, states: dict[int, str | None]) -> None:
        """The SLA service's column, written directly (another part of deskctl fills it)."""
        from sqlalchemy import update

        from deskctl.store import db
        from deskctl.store.models import Ticket

        with db.session(db.ready_engine(), write=True) as s:
            for ticket_id, state in states.items():
                s.execute(update(Ticket).where(Ticket.id == ticket_id).values(sla_state=state))

    def worklog(self, ticket_id: int, at: str, minutes: int, kind: str = "connection") -> None:
        from sqlalchemy import insert

        from deskctl.store import db
        from deskctl.store.models import WorkLog

        with db.session(db.ready_engine(), write=True) as s:
            s.execute(
                insert(WorkLog).values(
                    ticket_id=ticket_id,
                    event_seq=0,
                    at=local(at),
                    minutes=minutes,
                    kind=kind,
                    actor="tester",
                )
            )

    def invoice(
        self, customer: str, status: str, finalized: str | None, lines: list[tuple[int, str]]
    ) -> None:
        from sqlalchemy import insert, select

        from deskctl.store import db
        from deskctl.store.models import Customer, Invoice, InvoiceLine

        with db.session(db.ready_engine(), write=True) as s:
            cid = s.execute(select(Customer.id).where(Customer.key == customer)).scalar_one()
            total = sum((Decimal(a) for _, a in lines), Decimal("0"))
            invoice_id = s.execute(
                insert(Invoice)
                .values(
                    customer_id=cid,
                    period_from=datetime(2026, 2, 1).date(),
                    period_to=datetime(2026, 3, 31).date(),
                    status=status,
                    subtotal=total,
                    vat_rate=Decimal("0"),
                    vat=Decimal("0"),
                    total=total,
                    created_at=local("2026-03-01T08:00"),
                    finalized_at=local(finalized) if finalized else None,
                    actor="tester",
                )
                .returning(Invoice.id)
            ).scalar_one()
            for ticket_id, amount in lines:
                s.execute(
                    insert(InvoiceLine).values(
                        invoice_id=invoice_id,
                        ticket_id=ticket_id,
                        kind="intervention",
                        minutes=20,
                        base=Decimal(amount),
                        amount=Decimal(amount),
                    )
                )


RANA, OMAR, LINA = "rana@bank.example", "omar@bank.example", "lina@cbj.example"


def build(cli: Any) -> dict[str, int]:
    """The scenario; returns ticket ids by letter. See the module docstring for the calendar."""
    d = Desk(cli)
    d.seed()
    t: dict[str, int] = {}
    # H: January, bank, topic scan, resolved on 2026-01-25 (before the period).
    t["H"] = d.open(RANA, "2026-01-20T09:00", hardware="DL380 G7", os="RHEL 7")
    d.flow(
        t["H"],
        [
            (
                "2026-01-20T09:30",
                "triage",
                {"category": "defect", "severity": "high", "topic": "scan"},
            ),
            ("2026-01-20T10:00", "start", {}),
            ("2026-01-25T10:00", "resolve", {}),
            ("2026-01-25T11:00", "confirm", {}),
        ],
    )
    # A: Sun 02-01 09:00; response 11:00 (2h); resolved Mon 10:00, confirmed, reopened Tue,
    # resolved again Tue 11:00: 7h Sun + 8h Mon + 3h Tue = 18h.
    t["A"] = d.open(RANA, "2026-02-01T09:00", hardware="DL380 G7", os="RHEL 7")
    d.flow(
        t["A"],
        [
            (
                "2026-02-01T09:30",
                "triage",
                {"category": "defect", "severity": "high", "topic": "scan"},
            ),
            ("2026-02-01T09:40", "assign", {"assignee": "sami"}),
            ("2026-02-01T11:00", "respond", {}),
            ("2026-02-01T11:05", "start", {}),
            ("2026-02-02T10:00", "resolve", {}),
            ("2026-02-02T12:00", "confirm", {}),
            ("2026-02-03T09:00", "reopen", {}),
            ("2026-02-03T11:00", "resolve", {}),
            ("2026-02-03T12:00", "confirm", {}),
        ],
    )
    # B: Thu 02-05 15:00; response Sun 10:00 = 1h Thu + 2h Sun = 3h (Fri, Sat closed);
    # resolved Sun 12:00, solution rejected, resolved again Mon 10:00: 1h + 8h + 2h = 11h.
    t["B"] = d.open(OMAR, "2026-02-05T15:00", channel="email", hardware="DL380 G7", os="RHEL 7")
    d.flow(
        t["B"],
        [
            (
                "2026-02-05T15:10",
                "triage",
                {"category": "defect", "severity": "critical", "topic": "scan"},
            ),
            ("2026-02-05T15:20", "assign", {"assignee": "sami"}),
            ("2026-02-08T10:00", "respond", {}),
            ("2026-02-08T10:05", "start", {}),
            ("2026-02-08T12:00", "resolve", {}),
            ("2026-02-08T13:00", "reject", {}),
            ("2026-02-09T10:00", "resolve", {}),
            ("2026-02-09T11:00", "confirm", {}),
        ],
    )
    # C: Sun 03-01 10:00 without the error message; supplied at 12:00 (the clock starts:
    # ProgressSoft's clock start is info_complete); response 13:00 = 1h. Still in progress.
    t["C"] = d.open(
        LINA,
        "2026-03-01T10:00",
        channel="web",
        version="5.2",
        hardware="PowerEdge R740",
        os="Windows 2019",
        error=None,
    )
    d.flow(
        t["C"],
        [
            ("2026-03-01T12:00", "update", {"fields": {"error": "E-7"}}),
            (
                "2026-03-01T12:10",
                "triage",
                {"category": "defect", "severity": "medium", "topic": "login"},
            ),
            ("2026-03-01T12:20", "assign", {"assignee": "nadia"}),
            ("2026-03-01T13:00", "respond", {}),
            ("2026-03-01T13:10", "start", {}),
        ],
    )
    # D: Thu 03-19 15:00; response Mon 03-23 09:00 = 1h Thu + 0 (Fri, Sat weekend, Sun Eid
    # holiday) + 1h Mon = 2h; then misuse, redirected.
    t["D"] = d.open(
        RANA, "2026-03-19T15:00", product="pay", version="2.0", hardware="DL380 G7", os="RHEL 7"
    )
    d.flow(
        t["D"],
        [
            ("2026-03-23T09:00", "respond", {}),
            (
                "2026-03-23T09:30",
                "triage",
                {"category": "misuse", "severity": "low", "topic": "export", "kb_article": "kb-12"},
            ),
        ],
    )
    # E: same customer, another contact, same misuse topic.
    t["E"] = d.open(
        OMAR,
        "2026-03-24T09:00",
        channel="email",
        product="pay",
        version="2.0",
        hardware="PowerEdge R740",
        os="Windows 2019",
    )
    d.do(
        t["E"],
        "2026-03-24T09:30",
        "triage",
        category="misuse",
        severity="low",
        topic="export",
        kb_article="kb-12",
    )
    # F, G: never triaged (drafts); I: cancelled after the period.
    t["F"] = d.open(LINA, "2026-03-25T09:00", version="5.2")
    t["I"] = d.open(RANA, "2026-03-30T10:00", product="pay", version="2.0")
    t["G"] = d.open(LINA, "2026-03-31T23:00", channel="web", version="5.2")
    d.do(t["I"], "2026-04-02T09:00", "close", outcome="cancelled")
    # J: after the period.
    t["J"] = d.open(LINA, "2026-04-02T10:00", version="5.2")

    # The SLA service fills sla_state on every change; pin every ticket so the
    # figures below are about the report, not about SLA arithmetic.
    d.sla({ticket_id: None for ticket_id in t.values()})
    d.sla(
        {
            t["A"]: "met",
            t["B"]: "breached",
            t["C"]: "running",
            t["D"]: "late",
            t["I"]: "met",
            t["H"]: "breached",
            t["J"]: "met",
        }
    )
    d.worklog(t["A"], "2026-02-01T12:00", 30)
    d.worklog(t["B"], "2026-02-08T11:00", 45, "diagnosis")
    d.worklog(t["C"], "2026-03-01T14:00", 20)
    d.worklog(t["H"], "2026-02-10T09:00", 15)  # an older ticket, worked on in the period
    d.worklog(t["A"], "2026-04-05T09:00", 60)  # after the period
    d.invoice(
        "bank",
        "final",
        "2026-03-05T10:00",
        [(t["A"], "45.00"), (t["B"], "80.00"), (t["D"], "160.00")],
    )
    d.invoice("cbj", "draft", None, [(t["C"], "35.00")])
    d.invoice("bank", "final", "2026-04-03T10:00", [(t["A"], "35.00")])
    d.invoice("cbj", "void", "2026-03-10T10:00", [(t["C"], "45.00")])
    return t


_built = itertools.count(1)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def built_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, int]]:
    """The scenario, built once per backend: the reports only read it."""
    from deskctl.store import db

    root = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(root))
        mp.setenv("DESKCTL_DATA_DIR", str(root / "data"))
        mp.setenv("DESKCTL_USER", "tester")
        mp.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
        mp.delenv("DESKCTL_NOW", raising=False)
        mp.delenv("DESKCTL_CONFIG", raising=False)
        if request.param == "postgresql":
            cluster = request.getfixturevalue("pg_cluster")
            url = cluster.create_database(f"reports_{os.getpid()}_{next(_built)}")
        else:
            url = str(root / "desk.db")
        mp.setenv("DESKCTL_DB", url)
        ids = build(Cli())
        db.dispose_all()
    return url, ids


@pytest.fixture
def desk(
    built_store: tuple[str, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> dict[str, int]:
    url, ids = built_store
    monkeypatch.setenv("DESKCTL_DB", url)
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    return ids


# Output formats do not depend on the backend: their tests read the SQLite store only.
sqlite_only = pytest.mark.parametrize("built_store", ["sqlite"], indirect=True)


PERIOD = ("--from", "2026-02-01", "--to", "2026-03-31")


def volumes(doc: dict, dim: str) -> dict[Any, int]:
    key = (lambda r: (r["product"], r["version"])) if dim == "product" else (lambda r: r[dim])
    return {key(r): r["tickets"] for r in doc["volumes"][dim]}


def times(doc: dict) -> dict[tuple[str, str | None], tuple[int, int | None, int | None]]:
    return {
        (r["metric"], r["severity"]): (r["tickets"], r["median_seconds"], r["p90_seconds"])
        for r in doc["times"]
    }


_BUCKETS = ("met", "late", "breached", "open", "unknown")


def _trend_counts(doc: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {p["period"]: tuple(p[b] for b in _BUCKETS) for p in doc["sla_trend"]}


def _expected_trend(cli: Any, by: str) -> dict[str, tuple[int, ...]]:
    """The overview's SLA trend rebuilt from `sla report`'s per-ticket states."""
    from datetime import date

    from deskctl.domain import analysis

    first, last = date(2026, 2, 1), date(2026, 3, 31)
    counts = {key: dict.fromkeys(_BUCKETS, 0) for key, _ in analysis.periods(first, last, by)}
    for t in cli.json("sla", "report", *PERIOD)["tickets"]:
        key = analysis.period_key(date.fromisoformat(t["opened_at"][:10]), by)
        counts[key][analysis.sla_bucket(t["state"])] += 1
    return {key: tuple(c[b] for b in _BUCKETS) for key, c in counts.items()}


def test_overview_figures(cli: Any, desk: dict[str, int]) -> None:
    doc = cli.json("report", "overview", *PERIOD)
    s = doc["summary"]
    assert (doc["from"], doc["to"], doc["by"]) == ("2026-02-01", "2026-03-31", "month")
    assert doc["generated_at"] == "2026-04-10T12:00:00Z"
    # cohort: A B C D E F G I (H before, J after the period)
    assert s["tickets"] == 8
    assert volumes(doc, "channel") == {"phone": 4, "email": 2, "web": 2}
    assert volumes(doc, "category") == {"defect": 3, "misuse": 2, None: 3}
    assert volumes(doc, "topic") == {"scan": 2, "login": 1, "export": 2, None: 3}
    assert volumes(doc, "product") == {("ecc", "5.1"): 2, ("ecc", "5.2"): 3, ("pay", "2.0"): 3}
    assert volumes(doc, "severity") == {"high": 1, "critical": 1, "medium": 1, "low": 2, None: 3}
    assert volumes(doc, "customer") == {"bank": 5, "cbj": 3}
    assert volumes(doc, "agent") == {"sami": 2, "nadia": 1, None: 5}
    assert [r["channel"] for r in doc["volumes"]["channel"]] == ["phone", "email", "web"]
    assert doc["volumes"]["customer"][0] == {"customer": "bank", "tickets": 5, "share": 0.625}

    # business hours: responses A 2h, B 3h, C 1h, D 2h; resolutions A 18h, B 11h
    assert times(doc) == {
        ("response", None): (4, 2 * H, 3 * H),
        ("response", "critical"): (1, 3 * H, 3 * H),
        ("response", "high"): (1, 2 * H, 2 * H),
        ("response", "low"): (1, 2 * H, 2 * H),
        ("response", "medium"): (1, 1 * H, 1 * H),
        ("resolution", None): (2, 11 * H, 18 * H),
        ("resolution", "critical"): (1, 11 * H, 11 * H),
        ("resolution", "high"): (1, 18 * H, 18 * H),
    }
    assert (s["response_median_seconds"], s["response_p90_seconds"]) == (2 * H, 3 * H)
    assert (s["resolution_median_seconds"], s["resolution_p90_seconds"]) == (11 * H, 18 * H)

    # SLA: each ticket's state at the report's instant, as `sla report` computes it (the
    # pinned sla_state column is not what either report reads)
    feb, mar = doc["sla_trend"]
    assert (feb["period"], mar["period"]) == ("2026-02", "2026-03")
    assert _trend_counts(doc) == _expected_trend(cli, "month")
    states = cli.json("sla", "report", *PERIOD)["ticket_states"]
    assert (s["sla_decided"], s["sla_compliance"], s["sla_met_rate"]) == (
        states["decided"], states["compliance"], states["met_rate"]
    )
    assert feb["tickets"] + mar["tickets"] == 8

    # backlog at the end of 03-31: C (31 days), F (6.8 days), G (1 h), I (closed 04-02: 1.6 days)
    assert {r["bucket"]: r["tickets"] for r in doc["backlog"]} == {
        "< 1 day": 1,
        "1-3 days": 1,
        "3-7 days": 1,
        "7-30 days": 0,
        "30+ days": 1,
    }
    assert s["backlog"] == 4

    # closed now: A B D E I; A reopened once. Solutions: A 2, B 2; B rejected once.
    assert (s["closed"], s["closed_once"], s["reopened"], s["reopen_events"]) == (5, 5, 1, 1)
    assert s["reopen_rate"] == 0.2
    assert (s["solutions_proposed"], s["solutions_rejected"]) == (4, 1)
    assert s["rejected_solution_rate"] == 0.25

    # work logged in the period: 30 + 45 + 20 + 15 (H is older but worked on then)
    assert s["billable_minutes"] == 110
    assert doc["worklog"] == [
        {"kind": "connection", "minutes": 65},
        {"kind": "diagnosis", "minutes": 45},
    ]
    # finalised in the period: 45 + 80 + 160; not the draft, the void or April's
    assert s["revenue"] == "285.00"
    assert (s["revenue_currency"], s["revenue_by_currency"]) == ("EUR", {"EUR": "285.00"})
    assert "revenue 285.00 EUR" in cli("report", "overview", *PERIOD).stdout


def test_overview_filters_and_weeks(cli: Any, desk: dict[str, int]) -> None:
    cbj = cli.json("report", "overview", *PERIOD, "--customer", "cbj")
    assert cbj["customer"] == "cbj"
    assert cbj["summary"]["tickets"] == 3  # C F G
    assert volumes(cbj, "customer") == {"cbj": 3}
    assert cbj["summary"]["backlog"] == 3  # C F G
    assert cbj["summary"]["billable_minutes"] == 20
    assert cbj["summary"]["revenue"] == "0.00"
    assert cbj["summary"]["revenue_by_currency"] == {}  # said, not a bare 0.00
    assert "revenue none finalised" in cli("report", "overview", *PERIOD, "--customer",
                                           "cbj").stdout
    assert times(cbj)[("response", None)] == (1, H, H)

    pay = cli.json("report", "overview", *PERIOD, "--product", "pay")
    assert pay["summary"]["tickets"] == 3  # D E I
    assert pay["summary"]["revenue"] == "160.00"
    assert pay["summary"]["billable_minutes"] == 0
    assert pay["worklog"] == []

    weeks = cli.json("report", "overview", *PERIOD, "--by", "week")
    trend = {p["period"]: p for p in weeks["sla_trend"]}
    # 2026-02-01 is the Sunday closing ISO week 5; 2026-03-31 is in week 14
    assert list(trend) == [f"2026-W{n:02d}" for n in range(5, 15)]
    assert trend["2026-W05"]["start"] == "2026-02-01"
    assert trend["2026-W06"]["start"] == "2026-02-02"
    assert _trend_counts(weeks) == _expected_trend(cli, "week")
    assert trend["2026-W07"]["tickets"] == 0 and trend["2026-W07"]["compliance"] is None


def test_findings_from_the_store(cli: Any, desk: dict[str, int]) -> None:
    t = desk
    doc = cli.json("report", "findings", *PERIOD, "--min-defects", "2", "--share-ratio", "1.1")
    assert doc["tickets"] == 8
    found = {(f["kind"], f["subject"]): f for f in doc["findings"]}
    assert set(found) == {
        ("training_need", "customer bank, topic export"),
        ("update_needed", "ecc 5.1"),
        ("equipment_replace", "hardware DL380 G7"),
        ("equipment_replace", "OS RHEL 7"),
        ("root_cause", "topic scan"),
    }
    training = found[("training_need", "customer bank, topic export")]
    assert training["tickets"] == sorted([t["D"], t["E"]])
    assert training["evidence"]["contacts"] == {OMAR: 1, RANA: 1}
    update = found[("update_needed", "ecc 5.1")]
    # ecc 5.1: 2 defects of 2 tickets; ecc overall 3 of 5; Feb 2, Mar 0: not rising
    assert update["evidence"]["reasons"] == ["above_average"]
    assert update["evidence"]["monthly_defects"] == {"2026-02": 2, "2026-03": 0}
    assert update["tickets"] == sorted([t["A"], t["B"]])
    hw = found[("equipment_replace", "hardware DL380 G7")]
    # hardware recorded on all 8 (F G I: "unknown box"); defects A B C; DL380 G7 on A B D:
    # 2 of 3 defects against 3 of 8 tickets
    assert hw["evidence"]["defect_tickets"] == 2
    assert hw["tickets"] == sorted([t["A"], t["B"]])
    root = found[("root_cause", "topic scan")]
    # A reopened once; A came back 7 days after H was resolved (before the period), and B
    # two days after A's last close
    assert root["evidence"]["reopens"] == 1
    assert root["evidence"]["recurrences"] == [
        {"resolved": t["H"], "again": t["A"]},
        {"resolved": t["A"], "again": t["B"]},
    ]
    assert root["tickets"] == sorted([t["H"], t["A"], t["B"]])

    defaults = cli.json("report", "findings", *PERIOD)
    kinds = sorted({(f["kind"], f["subject"]) for f in defaults["findings"]})
    assert kinds == [("root_cause", "topic scan"), ("training_need", "customer bank, topic export")]


def test_the_writers_keep_each_tickets_comeback_link(desk: dict[str, int]) -> None:
    """Opening, triage, closing and reopening (``tickets.record``) leave every ticket
    with a topic linked as a fresh fill links it: the findings read the links."""
    from sqlalchemy import func, select

    from deskctl.store import comebacks, db
    from deskctl.store.models import Ticket

    with db.session(db.ready_engine()) as s:
        gap = Ticket.comeback_gap
        unlinked = select(func.count()).where(Ticket.topic != "", gap.is_(None))  # type: ignore[union-attr]
        assert s.execute(unlinked).scalar_one() == 0
        ids = s.execute(select(Ticket.id).where(gap > 0).order_by(Ticket.id)).scalars().all()  # type: ignore[operator]
        assert set(ids) >= {desk["A"], desk["B"]}  # A came back to H, B to A
        assert comebacks.fill(s) == 0



@sqlite_only
def test_findings_list_their_first_tickets_and_say_how_many_more(
    cli: Any, desk: dict[str, int]
) -> None:
    t = desk
    loose = ("--min-defects", "2", "--share-ratio", "1.1")
    doc = cli.json("report", "findings", *PERIOD, *loose, "--limit", "1")
    root = next(f for f in doc["findings"] if f["kind"] == "root_cause")
    assert root["tickets"] == [min(t["H"], t["A"], t["B"])] and root["tickets_total"] == 3
    assert root["evidence"]["recurrences"] == [{"resolved": t["H"], "again": t["A"]}]
    assert root["evidence"]["recurrences_total"] == 2
    every = cli.json("report", "findings", *PERIOD, *loose, "--limit", "0")
    cut = [{**f, "tickets": f["tickets"][:1]} for f in every["findings"]]
    assert [{**f, "evidence": None} for f in doc["findings"]] == [
        {**f, "evidence": None} for f in cut
    ]  # the same findings and figures, in the same order; only the lists are cut
    assert all(f["tickets_total"] == len(f["tickets"]) for f in every["findings"])

    text = cli("report", "findings", *PERIOD, *loose, "--limit", "1").stdout
    assert f"tickets: #{root['tickets'][0]} … and 2 more" in text
    rows = csv.DictReader(io.StringIO(cli("report", "findings", *PERIOD, "--csv").stdout))
    assert {r["subject"]: r["tickets_total"] for r in rows}["topic scan"] == "3"
@sqlite_only
def test_report_formats(cli: Any, desk: dict[str, int], tmp_path: Any) -> None:
    plain = cli("report", "overview", *PERIOD).stdout
    assert "Helpdesk overview: 2026-02-01 to 2026-03-31" in plain
    assert "\x1b[" not in plain  # piped: no escape codes
    assert "█" in plain  # bars
    assert "Tickets by channel" in plain and "phone" in plain

    main = list(csv.reader(io.StringIO(cli("report", "overview", *PERIOD, "--csv").stdout)))
    assert main[0] == ["figure", "value"]
    assert ["tickets", "8"] in main and ["revenue", "285.00"] in main

    chan = list(
        csv.DictReader(
            io.StringIO(cli("report", "overview", *PERIOD, "--csv-table", "channel").stdout)
        )
    )
    assert [(r["channel"], r["tickets"]) for r in chan] == [
        ("phone", "4"),
        ("email", "2"),
        ("web", "2"),
    ]
    backlog = list(
        csv.DictReader(
            io.StringIO(cli("report", "overview", *PERIOD, "--csv-table", "backlog").stdout)
        )
    )
    assert [r["tickets"] for r in backlog] == ["1", "1", "1", "0", "1"]
    for name in (
        "summary",
        "category",
        "topic",
        "product",
        "severity",
        "customer",
        "agent",
        "times",
        "sla_trend",
        "worklog",
    ):
        out = cli("report", "overview", *PERIOD, "--csv-table", name).stdout
        assert out.count("\n") >= 2, name

    found = list(csv.DictReader(io.StringIO(cli("report", "findings", *PERIOD, "--csv").stdout)))
    assert {r["kind"] for r in found} == {"training_need", "root_cause"}
    assert json.loads(found[0]["evidence"])  # the evidence travels as JSON

    text = cli("report", "findings", *PERIOD).stdout
    assert "Training needs" in text and "customer bank, topic export" in text

    page = tmp_path / "overview.html"
    result = cli("report", "overview", *PERIOD, "--html", str(page))
    assert result.stdout == ""
    assert "wrote" in result.stderr
    html = page.read_text()
    assert "<svg" in html and "<script" not in html.lower()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")


@sqlite_only
def test_terminal_colours_follow_no_color(
    cli: Any, desk: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR")
    coloured = cli("report", "overview", *PERIOD, env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[36m" in coloured  # cyan bars on a (forced) terminal
    plain = cli("report", "overview", *PERIOD, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert not re.search(r"\x1b\[(3|4)\dm", plain)  # no foreground or background colour
    assert "█" in plain


@sqlite_only
def test_html_escapes_what_users_typed(cli: Any, desk: dict[str, int]) -> None:
    from deskctl.render.report import findings_html, overview_html

    doc = cli.json("report", "overview", *PERIOD)
    doc["volumes"]["topic"][0]["topic"] = "<script>alert(1)</script>"
    doc["customer"] = "a&b"
    page = overview_html(doc)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a&amp;b" in page
    found = cli.json("report", "findings", *PERIOD)
    found["findings"][0]["subject"] = "<img src=x>"
    assert "<img" not in findings_html(found)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--from", "2026-03-31", "--to", "2026-02-01"), 2, "before --from"),
        (("--from", "2026-02-30", "--to", "2026-03-01"), 2, "--from: not a date"),
        ((*PERIOD, "--by", "day"), 2, "--by"),
        ((*PERIOD, "--customer", "nobody"), 3, "nobody"),
        ((*PERIOD, "--product", "nothing"), 3, "nothing"),
        ((*PERIOD, "--csv-table", "bogus"), 2, "tables: summary"),
        ((*PERIOD, "--json", "--csv"), 2, "choose one"),
        ((*PERIOD, "--html", "/nonexistent/dir/x.html"), 2, "cannot write"),
    ],
)
def test_overview_bad_input(cli: Any, args: tuple[str, ...], code: int, message: str) -> None:
    cli("init", "--policy", str(EXAMPLES / "progresssoft.toml"))
    result = cli("report", "overview", *args, code=code)
    assert message in result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--misuse-repeats", "0"), "--misuse-repeats"),
        (("--share-ratio", "1"), "--share-ratio"),
        (("--recur-days", "0"), "--recur-days"),
        (("--json", "--html", "x.html"), "choose one"),
    ],
)
def test_findings_bad_input(cli: Any, args: tuple[str, ...], message: str) -> None:
    cli("init")
    result = cli("report", "findings", *PERIOD, *args, code=2)
    assert message in result.stderr and result.stdout == ""


def test_empty_store_reports_zeros(cli: Any) -> None:
    cli("init")
    doc = cli.json("report", "overview", "--from", "2026-01-01", "--to", "2026-01-31")
    s = doc["summary"]
    assert (s["tickets"], s["backlog"], s["billable_minutes"], s["revenue"]) == (0, 0, 0, "0.00")
    assert s["reopen_rate"] is None and s["response_median_seconds"] is None
    assert doc["sla_trend"][0]["compliance"] is None
    assert (
        "Helpdesk overview"
        in cli("report", "overview", "--from", "2026-01-01", "--to", "2026-01-31").stdout
    )
    assert (
        cli.json("report", "findings", "--from", "2026-01-01", "--to", "2026-01-31")["findings"]
        == []
    )


def test_migration_indexes_tickets_by_opening(cli: Any, store: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from deskctl.store import db

    cli("init")
    engine = db.ready_engine()

    def indexes() -> set[str]:
        return {ix["name"] or "" for ix in inspect(engine).get_indexes("ticket")}

    assert "ix_ticket_opened_at" in indexes()
    command.downgrade(db.alembic_config(engine), "0001")
    assert "ix_ticket_opened_at" not in indexes()
    assert db.upgrade(engine) == ("0001", db.SCHEMA_HEAD)
    assert "ix_ticket_opened_at" in indexes()


def test_chart_primitives() -> None:
    import xml.etree.ElementTree as ET

    from deskctl.render import charts

    assert charts.bar(0, 10, 30) == ""
    assert charts.bar(10, 10, 30) == "█" * 30
    assert charts.bar(5, 10, 4) == "██"
    assert charts.bar(1, 16, 2) == "▏"  # one eighth of a cell
    assert charts.bar(1, 10_000, 30) == "▏"  # a non-zero value always shows
    assert charts.sparkline([0.0, None, 1.0, 0.5], low=0, high=1) == "▁ █▅"
    assert charts.sparkline([3, 3]) == "██"
    assert charts.sparkline([None, None]) == "  "
    svg = charts.svg_hbars([("a<b", 3), ("c&d", 0)], label='x"y')
    root = ET.fromstring(svg)  # well-formed: labels are escaped
    assert [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")][:2] == ["a<b", "3"]
    columns = charts.svg_stacked_columns(
        ["2026-01", "2026-02"], [("met", [1, 2], charts.MET)], label="t", line=[0.5, None]
    )
    ET.fromstring(columns)
