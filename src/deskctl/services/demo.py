"""A realistic demo store: the five example policies, master data and N tickets.

Speed is the point (SPEC §10: "fast even at 1M"), so tickets are not opened
one by one through the ticket service. Instead, for each policy a small set of
*stories* (one per way a ticket ends up in its status: resolved, redirected to
the knowledge base, waiting on a vendor, split into sub-tickets...) is played
once through the real lifecycle builders (``deskctl.domain.lifecycle.plan_*``)
on placeholder values. Every demo ticket is one of those stories, shifted to
its own opening instant, stretched or compressed to end before now, and with
its own customer, contact, severity, assignee and fields substituted into the
event data. Replaying any ticket's events with ``lifecycle.project`` gives
exactly the row the demo writes; ``tests/cli/test_demo.py`` checks that for
every ticket.

Master data goes in through SQLAlchemy Core. Tickets, events and work log are
written in chunks of about 20,000 events, one transaction per chunk: SQLite
through the driver's ``executemany`` with values already in the store's text
form, PostgreSQL through ``COPY``. Going around SQLAlchemy's per-row type
processing is what makes 100,000 tickets (about 860,000 events) take seconds
instead of a minute; for the same reason a large SQLite load builds the ticket
and event indexes once at the end instead of updating them row by row.

Decisions:

- The demo writes only into a store without tickets, customers, products or
  knowledge-base articles (Refused otherwise): it never mixes invented
  customers into real data. There is no ``--force``; point ``DESKCTL_DB`` at a
  new file instead.
- Times are whole seconds, relative to ``clock.now()``: tickets open over the
  last 365 days, mostly on the local working days and hours of the policy's
  calendar; the younger a ticket, the likelier it is still open.
- ``sla_state``/``sla_due_at`` are left empty: the SLA service computes them.
- The same seed, ticket count and ``now`` give the same store, row for row.
"""

from __future__ import annotations

import bisect
import json
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from deskctl.domain import lifecycle
from deskctl.domain.events import Event
from deskctl.domain.lifecycle import TicketState
from deskctl.domain.policy import STATES, Policy
from deskctl.errors import NotFound, Refused

POLICY_FILES = ("medisoft", "imexhs", "dms", "opmon", "progresssoft")
CHUNK_EVENTS = 20_000  # events per transaction (with their tickets and work log)
BULK_INDEX_TICKETS = 20_000  # from this size, SQLite indexes are built after the load
SQLITE_CACHE_KIB = 131_072  # page cache while loading (SQLite's default is 2 MiB)

DAY = 86400
HOUR = 3600
MINUTE = 60

# ---------------------------------------------------------------------------------------
# Invented but plausible master data.
# ---------------------------------------------------------------------------------------


def _words(text: str, sep: str | None = "|") -> tuple[str, ...]:
    """A tuple from ``"a | b | c"`` (or ``"a b c"``): keeps the tables below compact."""
    return tuple(part.strip() for part in text.split(sep))


AGENTS = (  # login, name, role, team
    ("marta", "Marta Ferreira", "manager", "support"),
    ("joao", "João Pereira", "agent", "latam"),
    ("camila", "Camila Rojas", "agent", "latam"),
    ("diego", "Diego Martínez", "agent", "latam"),
    ("giulia", "Giulia Bianchi", "agent", "europe"),
    ("pablo", "Pablo García", "agent", "europe"),
    ("omar", "Omar Haddad", "agent", "mena"),
    ("lina", "Lina Khoury", "agent", "mena"),
)
MANAGER = "marta"
TEAM_OF_COUNTRY = (
    dict.fromkeys(("BR", "CO", "PE"), "latam")
    | dict.fromkeys(("IT", "ES"), "europe")
    | dict.fromkeys(("JO", "AE"), "mena")
)
VAT = {
    c: Decimal(r)
    for c, r in zip(
        _words("BR|CO|PE|IT|ES|JO|AE"), _words("0|0.19|0.18|0.22|0.21|0.16|0.05"), strict=True
    )
}
CUSTOMER_NAMES = {
    "BR": _words(
        "Hospital São Lucas | Clínica Santa Clara | Laboratório Vida | Centro Médico Ipê | "
        "Hospital Boa Esperança | Clínica Mãe de Deus | Policlínica Paulista | "
        "Instituto do Coração Sul | Transportes Gaúcho | Rede Sul Telecom | "
        "Cooperativa Serra Verde | Banco Pampa | Energisa Norte | Varejo Bom Preço"
    ),
    "CO": _words(
        "Clínica Andina | Hospital San Rafael | IPS del Valle | Imágenes Diagnósticas Cali | "
        "Clínica La Sabana | Hospital Universitario Caribe | Radiología Medellín"
    ),
    "PE": _words("Clínica Miraflores | Hospital Inca | Diagnóstico Arequipa"),
    "IT": _words(
        "Studio Dentistico Rossi | Clinica Odontoiatrica Ferri | Studio Bianchi & Co. | "
        "Centro Dentale Lago | Odontoiatria Colombo | Studio Marino"
    ),
    "ES": _words("Clínica Dental Sonrisa | Dentistas García | Centro Dental Triana"),
    "JO": _words(
        "Petra Commercial Bank | Zarqa Finance House | Aqaba Trade Bank | "
        "Jordan Mutual Bank | Amman Clearing Co."
    ),
    "AE": _words("Gulf Payments LLC"),
}
FIRST_NAMES = {
    "latam": _words("Ana|Luis|Carla|Pedro|Mariana|Felipe|Beatriz|Andrés|Sofía|Rafael|Juliana"),
    "europe": _words("Marco|Chiara|Luca|Francesca|Javier|Lucía|Paolo|Elena|Sergio|Alessia"),
    "mena": _words("Ahmad|Rania|Khaled|Dina|Yousef|Noor|Samer|Hala"),
}
LAST_NAMES = {
    "latam": _words("Souza|Silva|Gómez|Rodríguez|Oliveira|Castro|Lima|Vargas"),
    "europe": _words("Rossi|Ferrari|Esposito|Romano|Fernández|López|Conti|Greco"),
    "mena": _words("Haddad|Nasser|Saleh|Khalil|Mansour|Barakat|Odeh"),
}


@dataclass(frozen=True)
class _PolicyLook:
    """How a policy's customers look: where they are, what they run, what breaks."""

    countries: tuple[str, ...]
    tz_hours: int  # rough UTC offset of the calendar, for working-hours opening times
    weekend: tuple[int, ...]  # local weekdays (0 = Monday) with little traffic
    products: tuple[tuple[str, str], ...]  # (name, current release)
    plans: tuple[tuple[str, float], ...]  # (plan, weight) for ordinary contracts
    titles: tuple[str, ...]
    vendors: tuple[str, ...]  # third parties tickets are forwarded to
    fields: Mapping[str, tuple[str, ...]]  # intake field -> values


LOOKS: dict[str, _PolicyLook] = {
    "medisoft": _PolicyLook(
        ("BR",),
        -3,
        (5, 6),
        (("medisoft-clinic", "8.4"),),
        (("maintenance", 1.0),),
        _words(
            "Prontuário não abre para alguns pacientes | Agenda duplica consultas | "
            "Faturamento TISS rejeitado pela operadora | Lentidão ao emitir receitas | "
            "Erro ao imprimir laudo | Usuário bloqueado após atualização | "
            "Estoque da farmácia não baixa | Relatório mensal com totais errados"
        ),
        _words("Oracle | Operadora TISS | Microsoft"),
        {
            "os": _words("Windows Server 2019 | Windows Server 2022 | Ubuntu 22.04"),
            "error": _words("ORA-12541 | Erro 500 no portal | Timeout na integração TISS"),
        },
    ),
    "imexhs": _PolicyLook(
        ("CO", "CO", "PE"),
        -5,
        (5, 6),
        (("imexhs-ris", "4.1"), ("imexhs-pacs", "7.3")),
        (("8x5", 0.7), ("24x7", 0.3)),
        _words(
            "El visor no carga series de TC | Worklist vacía en la modalidad | "
            "Estudios DICOM no llegan al PACS | Firma de informes falla | "
            "Lentitud al abrir estudios de mamografía | Error al enviar informe por correo | "
            "Agenda de RIS no sincroniza | Usuario sin permisos tras actualización"
        ),
        _words("Siemens Healthineers | GE HealthCare | Importador de repuestos"),
        {
            "os": _words("Windows Server 2019 | Rocky Linux 9"),
            "error": _words("DICOM C-STORE failure 0xA700 | HTTP 502 | HL7 ACK AE"),
        },
    ),
    "dms": _PolicyLook(
        ("IT", "IT", "ES"),
        1,
        (5, 6),
        (("dms-professional", "10.4"), ("dms-hygienist", "3.2")),
        (("maintenance", 1.0),),
        _words(
            "Il programma non si avvia dopo l'aggiornamento | Download della release fallito | "
            "Attivazione licenza non riuscita | Stampa del preventivo errata | "
            "Archivio pazienti lento | Agenda non sincronizza con il telefono | "
            "Errore nel backup notturno | Supporto di installazione difettoso"
        ),
        _words("Microsoft | Produttore stampanti"),
        {
            "os": _words("Windows 10 | Windows 11"),
            "error": _words("Errore 1603 | Licenza non valida | Database bloccato"),
        },
    ),
    "opmon": _PolicyLook(
        ("BR",),
        -3,
        (5, 6),
        (("opmon", "9.2"), ("opmon-7", "7.9")),
        (("pro", 0.55), ("premium", 0.3), ("pay-per-incident", 0.15)),
        _words(
            "Coletor parou de enviar métricas | Alertas duplicados por e-mail | "
            "Dashboard não carrega após upgrade | Falha no agente Windows | "
            "SLA de serviço calculado errado | Integração com ITSM falhando | "
            "Mapa de rede sem atualização | Relatório de disponibilidade vazio"
        ),
        _words("Zabbix SIA | Grafana Labs"),
        {
            "os": _words("Red Hat 8 | Debian 12 | Windows Server 2022"),
            "error": _words("collector timeout | HTTP 503 no portal | license expired"),
        },
    ),
    "progresssoft": _PolicyLook(
        ("JO", "JO", "AE"),
        3,
        (4, 5),
        (("ps-cheque-clearing", "5.3"), ("ps-ach", "3.1")),
        (("assistance", 1.0),),
        _words(
            "Cheque images rejected by the clearing house | ACH batch stuck in pending | "
            "Scanner driver crashes on capture | Signature verification slow | "
            "Nightly settlement report missing | Operator cannot log in after upgrade | "
            "Duplicate items in outward batch | MICR read errors on new scanners"
        ),
        _words("Panini | Oracle"),
        {
            "os": _words("Windows Server 2016 | Windows Server 2019 | RHEL 8"),
            "server": _words("Oracle 19c | SQL Server 2019 | WebLogic 14"),
            "hardware": _words("Panini Vision X | Canon CR-190i | HP ProLiant DL380 Gen10"),
            "task": _words("outward clearing | inward clearing | end-of-day settlement"),
            "error": _words("PS-1042 image quality | ORA-00060 deadlock | MICR-17"),
        },
    ),
}

DEFECT_TOPICS = _words(
    "viewer|login|performance|printing|reports-module|data-sync|alerts|scheduling|crash|upgrade"
)
MISUSE_TOPICS = _words(
    "how-to-export | password-reset | print-layout | user-permissions | report-filters | "
    "keyboard-shortcuts | backup-schedule | worklist-filters | dicom-send | dashboards | "
    "alert-thresholds | appointment-colours"
)
DESCRIPTIONS = (
    "Since this morning the screen freezes for a few seconds before the error.",
    "It happens on two workstations only; the others are fine.",
    "Started right after last night's update.",
    "Users report it several times a day, no clear pattern.",
    "Restarting the service helps for an hour or so.",
    "Attached screenshots of the message and the log excerpt.",
)
WORK_MINUTES = (10, 15, 20, 20, 25, 30, 30, 45, 60, 75, 90, 120)

# ---------------------------------------------------------------------------------------
# Story templates: played once through the lifecycle builders, replayed per ticket.
# ---------------------------------------------------------------------------------------

_T0 = datetime(2000, 1, 3, tzinfo=UTC)  # template time origin; tickets are shifted
_PARENT = 1000  # placeholder ids inside split stories
_CHILD = 1001
_CHILD_SUBST = ("severity", "topic", "impact", "urgency")
_TIME_COLUMNS = ("info_complete_at", "responded_at", "resolved_at", "closed_at")


@dataclass
class _Step:
    """One event of a story: which ticket of the story, when, and what to fill in."""

    member: int
    offset: int  # seconds since the story started
    event: Event
    role: str  # whose name goes in ``actor``: opener, manager, agent, customer, system
    slot: str | None  # per-ticket data to substitute (see ``_fill``)
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # seq, kind, from, to, note and the data as stored (None when filled in per ticket):
    # the tail of every event row, ready-made since the ticket loop reads it a million times
    fixed: tuple[Any, ...] = ()

    @property
    def seq(self) -> int:
        return self.event.seq


@dataclass
class _Member:
    """A ticket of a story: its final template state and where its columns come from."""

    state: TicketState
    first: int  # index of its first step
    last: int
    times: dict[str, int | None]  # time column -> index of the step that set it
    n_events: int


@dataclass
class _Story:
    name: str
    status: str  # the first ticket's final status
    category: str | None
    weight: float
    incomplete: bool  # opens without every required field
    supplied: bool  # ... and the customer sends them later
    vendor: bool  # forwarded to a third party at some point
    steps: list[_Step]
    members: list[_Member]
    offsets: list[list[int]]  # a few timing variants: cumulative seconds per step

    @property
    def size(self) -> int:
        return len(self.members)


class _Script:
    """Plays a story through the builders with placeholder names and values."""

    def __init__(self, policy: Policy, version: int, required: tuple[str, ...]) -> None:
        self.policy = policy
        self.version = version
        self.required = required
        self.t = 0
        self.steps: list[_Step] = []
        self.logs: dict[int, list[Event]] = {}
        self.incomplete = False  # opened without every required field

    def state(self, member: int = 0) -> TicketState:
        return lifecycle.project(self.logs[member])

    def _now(self, gap: int) -> datetime:
        self.t += gap
        return _T0 + timedelta(seconds=self.t)

    def _add(
        self, member: int, events: Event | Sequence[Event], role: str, slot: str | None = None
    ) -> None:
        for i, event in enumerate([events] if isinstance(events, Event) else events):
            self.logs.setdefault(member, []).append(event)
            self.steps.append(_Step(member, self.t, event, role, slot if i == 0 else None))

    def _fields(self, complete: bool) -> dict[str, str]:
        names = ["product", "version", "description", *self.required]
        fields = {name: f"@{name}" for name in dict.fromkeys(names)}
        if not complete:
            fields.pop(self.required[-1])
        return fields

    # -- the moves a story is made of ------------------------------------------------

    def open(self, gap: int = 0, *, complete: bool = True) -> None:
        self.incomplete = not complete
        events = lifecycle.plan_open(
            now=self._now(gap),
            actor="@opener",
            title="@title",
            customer="@customer",
            contact="@contact",
            fields=self._fields(complete),
            required=self.required,
            data={
                "channel": "@channel",
                "policy": self.policy.name,
                "policy_version": self.version,
                "plan": "@plan",
                "calendar": "@calendar",
                "parent_id": None,
            },
        )
        self._add(0, events[0], "opener", "opened")
        self._add(0, events[1:], "opener")

    def triage(self, gap: int, category: str, member: int = 0) -> None:
        misuse = category == "misuse"
        events = lifecycle.plan_triage(
            self.state(member),
            now=self._now(gap),
            actor="@manager",
            scheme=self.policy.severities,
            category=category,
            severity=self.policy.severities.order[0],
            topic="@topic",
            kb_article="@kb" if misuse else None,
            refuse_repeat=False,
            required=self.required,
        )
        self._add(member, events[0], "manager", "triaged")
        self._add(member, events[1:], "manager", "redirected" if misuse else None)

    def assign(self, gap: int, member: int = 0) -> None:
        event = lifecycle.plan_assign(
            self.state(member),
            now=self._now(gap),
            actor="@manager",
            assignee="@agent",
            team="@team",
        )
        self._add(member, event, "manager", "assigned")

    def respond(self, gap: int, member: int = 0) -> None:
        event = lifecycle.plan_respond(
            self.state(member),
            now=self._now(gap),
            actor="@agent",
            note="first answer sent to the customer",
        )
        self._add(member, event, "agent")

    def start(self, gap: int, member: int = 0, note: str | None = None) -> None:
        event = lifecycle.plan_start(
            self.state(member),
            now=self._now(gap),
            actor="@agent",
            note=note,
            required=self.required,
        )
        self._add(member, event, "agent")

    def take_up(self, gap: int, member: int = 0) -> None:
        """First response to a queued ticket; like `ticket respond`, it starts the work."""
        self.respond(gap, member)
        self.start(0, member, note="first response")

    def work(self, gap: int, kind: str = "connection", member: int = 0) -> None:
        event = lifecycle.plan_worklog(
            self.state(member),
            30,
            now=self._now(gap),
            actor="@agent",
            kind=kind,
            note="remote session",
        )
        self._add(member, event, "agent", "worklog")

    def wait(self, gap: int, on: str, member: int = 0) -> None:
        vendor = "@vendor" if on == "third-party" else None
        note = "waiting for the vendor's fix" if vendor else "asked the customer for details"
        event = lifecycle.plan_wait(
            self.state(member), on, now=self._now(gap), actor="@agent", vendor=vendor, note=note
        )
        self._add(member, event, "agent", "vendor" if vendor else None)

    def resume(self, gap: int, member: int = 0) -> None:
        event = lifecycle.plan_resume(
            self.state(member), now=self._now(gap), actor="@agent", required=self.required
        )
        self._add(member, event, "agent")

    def supply(self, gap: int) -> None:
        """The customer sends the missing required field(s)."""
        events = lifecycle.plan_update(
            self.state(),
            {self.required[-1]: "@missing"},
            now=self._now(gap),
            actor="@customer",
            required=self.required,
        )
        self._add(0, events[0], "customer", "updated")
        self._add(0, events[1:], "customer")

    def resolve(self, gap: int, member: int = 0) -> None:
        event = lifecycle.plan_resolve(
            self.state(member),
            now=self._now(gap),
            actor="@agent",
            solution="fix applied; please verify",
        )
        self._add(member, event, "agent")

    def confirm(self, gap: int, member: int = 0) -> None:
        event = lifecycle.plan_confirm(self.state(member), now=self._now(gap), actor="@customer")
        self._add(member, event, "customer")

    def reject_solution(self, gap: int) -> None:
        event = lifecycle.plan_reject_solution(
            self.state(), now=self._now(gap), actor="@customer", note="still happens"
        )
        self._add(0, event, "customer")

    def close(
        self, gap: int, outcome: str, *, reason: str | None = None, by_protocol: bool = False
    ) -> None:
        role = "system" if by_protocol else "agent"
        event = lifecycle.plan_close(
            self.state(),
            outcome,
            now=self._now(gap),
            actor=f"@{role}",
            reason=reason,
            by_protocol=by_protocol,
        )
        self._add(0, event, role)

    def approve(self, gap: int) -> None:
        event = lifecycle.plan_approve(
            self.state(), now=self._now(gap), actor="@customer", required=self.required
        )
        self._add(0, event, "customer")

    def decline(self, gap: int) -> None:
        event = lifecycle.plan_decline(self.state(), now=self._now(gap), actor="@customer")
        self._add(0, event, "customer")

    def reopen(self, gap: int) -> None:
        event = lifecycle.plan_reopen(
            self.state(),
            now=self._now(gap),
            actor="@agent",
            window_seconds=self.policy.reopen_window,
            note="the problem came back",
        )
        self._add(0, event, "agent")

    def split(self, gap: int, parts: int) -> None:
        children = [_CHILD + i for i in range(parts)]
        self._add(
            0,
            lifecycle.plan_split(
                self.state(), children, now=self._now(gap), actor="@agent", note="several problems"
            ),
            "agent",
            "split",
        )
        parent = self.state()
        for i in range(parts):
            events = lifecycle.plan_child_open(
                parent, parent_id=_PARENT, title="@title", now=self._now(0), actor="@agent"
            )
            self._add(i + 1, events[0], "agent", "child_opened")
            self._add(i + 1, events[1:], "agent")

    def child_closed(self, gap: int, child: int) -> None:
        events = lifecycle.on_child_closed(
            self.state(), _CHILD + child - 1, self._now(gap), actor="@system"
        )
        self._add(0, events, "system", "child_closed")

    def intake(self, category: str = "defect") -> None:
        self.open()
        self.triage(30 * MINUTE, category)
        self.assign(10 * MINUTE)

    def work_through(self, member: int = 0) -> None:
        """Assign, start, work and resolve a sub-ticket, and have it confirmed."""
        self.assign(20 * MINUTE, member)
        self.take_up(2 * HOUR, member)
        self.work(3 * HOUR, member=member)
        self.resolve(2 * HOUR, member)
        self.confirm(DAY, member)


def _s_new(s: _Script) -> None:
    s.open()


def _s_new_incomplete(s: _Script) -> None:
    s.open(complete=False)


def _s_asked_details(s: _Script) -> None:
    s.open(complete=not s.required)
    s.wait(HOUR, "customer")


def _s_waiting_customer(s: _Script) -> None:
    s.intake()
    s.take_up(3 * HOUR)
    s.work(2 * HOUR)
    s.wait(HOUR, "customer")


def _s_quote_pending(s: _Script) -> None:
    s.open()
    s.triage(HOUR, "billable_service")
    s.respond(HOUR)


def _s_queued_fresh(s: _Script) -> None:
    s.open()
    s.triage(30 * MINUTE, "defect")


def _s_queued_assigned(s: _Script) -> None:
    s.intake()


def _s_info_supplied(s: _Script) -> None:
    s.open(complete=False)
    s.wait(HOUR, "customer")
    s.supply(DAY)
    s.resume(10 * MINUTE)
    s.triage(30 * MINUTE, "defect")
    s.assign(10 * MINUTE)


def _s_working(s: _Script) -> None:
    s.intake()
    s.take_up(3 * HOUR)
    s.work(2 * HOUR)


def _s_solution_rejected(s: _Script) -> None:
    _s_working(s)
    s.resolve(4 * HOUR)
    s.reject_solution(DAY)
    s.work(3 * HOUR)


def _s_back_from_vendor(s: _Script) -> None:
    s.intake()
    s.take_up(3 * HOUR)
    s.wait(2 * HOUR, "third-party")
    s.resume(2 * DAY)
    s.work(3 * HOUR)


def _s_forwarded(s: _Script) -> None:
    _s_working(s)
    s.wait(2 * HOUR, "third-party")


def _s_split_waiting(s: _Script) -> None:
    _s_working(s)
    s.split(HOUR, 2)
    s.work_through(1)
    s.child_closed(0, 1)
    s.assign(20 * MINUTE, 2)
    s.take_up(3 * HOUR, 2)


def _s_verifying(s: _Script) -> None:
    _s_working(s)
    s.resolve(4 * HOUR)


def _s_resolved(s: _Script) -> None:
    _s_verifying(s)
    s.confirm(DAY)


def _s_resolved_long(s: _Script) -> None:
    _s_working(s)
    s.work(DAY, "diagnosis")
    s.resolve(4 * HOUR)
    s.confirm(DAY)


def _s_always_supported(s: _Script) -> None:
    s.intake("always_supported")
    s.take_up(2 * HOUR)
    s.work(HOUR)
    s.resolve(HOUR)
    s.confirm(DAY)


def _s_accepted(s: _Script) -> None:
    _s_verifying(s)
    s.close(36 * HOUR, "accepted", by_protocol=True)


def _s_redirected(s: _Script) -> None:
    s.open()
    s.triage(HOUR, "misuse")


def _s_out_of_scope(s: _Script) -> None:
    s.open()
    s.triage(HOUR, "out_of_scope")


def _s_quote_declined(s: _Script) -> None:
    _s_quote_pending(s)
    s.decline(2 * DAY)


def _s_billable_done(s: _Script) -> None:
    _s_quote_pending(s)
    s.approve(DAY)
    s.assign(HOUR)
    s.start(3 * HOUR)
    s.work(HOUR, "service")
    s.work(DAY, "service")
    s.resolve(2 * HOUR)
    s.confirm(DAY)


def _s_unresolved(s: _Script) -> None:
    _s_working(s)
    s.work(DAY, "diagnosis")
    s.close(4 * HOUR, "unresolved", reason="no solution found")


def _s_not_reproducible(s: _Script) -> None:
    _s_working(s)
    s.close(DAY, "cancelled", reason="not reproducible")


def _s_duplicate(s: _Script) -> None:
    s.open()
    s.close(2 * HOUR, "cancelled", reason="duplicate")


def _s_reopened(s: _Script) -> None:
    _s_resolved(s)
    s.reopen(2 * DAY)
    s.work(2 * HOUR)
    s.resolve(3 * HOUR)
    s.confirm(DAY)


def _s_vendor_fix(s: _Script) -> None:
    _s_back_from_vendor(s)
    s.resolve(2 * HOUR)
    s.confirm(DAY)


def _s_split_done(s: _Script) -> None:
    _s_working(s)
    s.split(HOUR, 2)
    s.work_through(1)
    s.child_closed(0, 1)
    s.work_through(2)
    s.child_closed(0, 2)
    s.resolve(HOUR)
    s.confirm(DAY)


def _s_info_then_resolved(s: _Script) -> None:
    _s_info_supplied(s)
    s.take_up(2 * HOUR)
    s.work(2 * HOUR)
    s.resolve(3 * HOUR)
    s.confirm(DAY)


# name, builder, category of the first ticket, weight, needs required fields, only for
_STORIES: tuple[tuple[str, Callable[[_Script], None], str | None, float, bool, str], ...] = (
    ("new", _s_new, None, 3, False, ""),
    ("new_incomplete", _s_new_incomplete, None, 2, True, ""),
    ("asked_details", _s_asked_details, None, 3, False, ""),
    ("waiting_customer", _s_waiting_customer, "defect", 3, False, ""),
    ("quote_pending", _s_quote_pending, "billable_service", 1, False, ""),
    ("queued_fresh", _s_queued_fresh, "defect", 2, False, ""),
    ("queued_assigned", _s_queued_assigned, "defect", 3, False, ""),
    ("info_supplied", _s_info_supplied, "defect", 1, True, ""),
    ("working", _s_working, "defect", 4, False, ""),
    ("solution_rejected", _s_solution_rejected, "defect", 1, False, ""),
    ("back_from_vendor", _s_back_from_vendor, "defect", 1, False, ""),
    ("forwarded", _s_forwarded, "defect", 1, False, ""),
    ("split_waiting", _s_split_waiting, "defect", 1, False, ""),
    ("verifying", _s_verifying, "defect", 1, False, ""),
    ("resolved", _s_resolved, "defect", 40, False, ""),
    ("resolved_long", _s_resolved_long, "defect", 10, False, ""),
    ("always_supported", _s_always_supported, "always_supported", 10, False, "dms"),
    ("accepted", _s_accepted, "defect", 25, False, "imexhs"),
    ("redirected", _s_redirected, "misuse", 5, False, ""),
    ("out_of_scope", _s_out_of_scope, "out_of_scope", 4, False, ""),
    ("quote_declined", _s_quote_declined, "billable_service", 2, False, ""),
    ("billable_done", _s_billable_done, "billable_service", 4, False, ""),
    ("unresolved", _s_unresolved, "defect", 3, False, ""),
    ("unresolved_dms", _s_unresolved, "defect", 6, False, "dms"),
    ("not_reproducible", _s_not_reproducible, "defect", 1, False, ""),
    ("not_reproducible_medisoft", _s_not_reproducible, "defect", 5, False, "medisoft"),
    ("duplicate", _s_duplicate, None, 2, False, ""),
    ("reopened", _s_reopened, "defect", 3, False, ""),
    ("vendor_fix", _s_vendor_fix, "defect", 3, False, ""),
    ("split_done", _s_split_done, "defect", 2, False, ""),
    ("info_then_resolved", _s_info_then_resolved, "defect", 8, True, ""),
)


def build_stories(policy: Policy, version: int, rng: random.Random) -> list[_Story]:
    """Every story that fits this policy, played through the lifecycle builders."""
    required = tuple(f for f in policy.required_fields if f != "channel")
    stories = []
    for name, play, category, weight, needs_required, only in _STORIES:
        if (needs_required and not required) or (only and only != policy.name):
            continue
        script = _Script(policy, version, required)
        play(script)
        stories.append(_finish(name, category, weight, script, rng))
    return stories


def _finish(
    name: str, category: str | None, weight: float, script: _Script, rng: random.Random
) -> _Story:
    steps = script.steps
    for step in steps:
        step.data = dict(step.event.data)
        step.note = step.data.pop("note", None)
        static = json.dumps(step.data) if step.slot is None and step.data else None
        event = step.event
        step.fixed = (event.seq, event.kind, event.from_status, event.to_status, step.note, static)
    members = [_member(script, steps, m) for m in sorted(script.logs)]
    base = [s.offset for s in steps]
    gaps = [b - a for a, b in zip([0, *base], base, strict=False)]
    offsets = [base]
    for _ in range(3):  # a few other paces of the same story
        total, variant = 0, []
        for gap in gaps:
            total += int(gap * rng.uniform(0.4, 2.0))
            variant.append(total)
        offsets.append(variant)
    supplied = any(s.slot == "updated" for s in steps)
    vendor = any(s.slot == "vendor" for s in steps)
    return _Story(
        name,
        members[0].state.status,
        category,
        weight,
        script.incomplete,
        supplied,
        vendor,
        steps,
        members,
        offsets,
    )


def _member(script: _Script, steps: list[_Step], member: int) -> _Member:
    """Which step sets each time column: replay with every step one second apart."""
    indices = [i for i, s in enumerate(steps) if s.member == member]
    probe = [replace(steps[i].event, at=_T0 + timedelta(seconds=i)) for i in indices]
    state = lifecycle.project(probe)
    times: dict[str, int | None] = {}
    for column in _TIME_COLUMNS:
        value = getattr(state, column)
        times[column] = None if value is None else int((value - _T0).total_seconds())
    return _Member(
        lifecycle.project(script.logs[member]), indices[0], indices[-1], times, len(indices)
    )


# ---------------------------------------------------------------------------------------
# Master data.
# ---------------------------------------------------------------------------------------


@dataclass
class _Window:
    """A span (epoch seconds) in which a customer's tickets open, under one contract."""

    start: int
    end: int
    contract_id: int
    plan: str


@dataclass
class _Customer:
    id: int
    key: str
    policy: str
    team: str
    weight: float
    windows: list[_Window]
    contacts: list[tuple[int, str]]  # (id, email) of those who may open tickets
    products: list[tuple[str, str, int | None]]  # (name, current release, eol epoch)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MASTER_TABLES = (
    "agent",
    "product",
    "kb_article",
    "customer",
    "contact",
    "contact_naming",
    "contract",
    "contract_product",
    "standing",
)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _day_start(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY


def _slug(text: str) -> str:
    import re
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


class MasterData:
    """Agents, products, KB articles, customers with contacts, contracts and standing.

    Rows get explicit ids (from ``first_ids``, one past the highest in the store)
    so they can point at each other before anything is written.
    """

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        first_ids: Mapping[str, int],
        policies: Mapping[str, Policy],
    ) -> None:
        self.rng = rng
        self.now = now
        self.today = now.date()
        self.next_id = dict(first_ids)
        self.policies = policies
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in MASTER_TABLES}
        self.customers: list[_Customer] = []
        self.products: dict[str, list[tuple[int, str, str, int | None]]] = {}
        self.kb: dict[str, str] = {}  # topic -> article key
        self._names_used: dict[str, int] = {}
        self._keys: set[str] = set()

    def add(self, table: str, **row: Any) -> int:
        if table in _ID_TABLES:
            row["id"] = self.next_id[table]
            self.next_id[table] += 1
        self.rows[table].append(row)
        return int(row.get("id", 0))

    def build(self, n_customers: int) -> MasterData:
        long_ago = self.now - timedelta(days=1000)
        for login, name, role, team in AGENTS:
            self.add(
                "agent",
                login=login,
                name=name,
                role=role,
                team=team,
                email=f"{login}@support.example",
                created_at=long_ago,
            )
        for pname, look in LOOKS.items():
            for product, current in look.products:
                eol = announced = None
                if product == "opmon-7":  # the one product past its end of life
                    eol = self.today - timedelta(days=30)
                    announced = self.today - timedelta(days=400)
                pid = self.add(
                    "product",
                    name=product,
                    current_version=current,
                    eol=eol,
                    eol_announced=announced,
                    created_at=long_ago,
                )
                eol_epoch = _day_start(eol) if eol else None
                self.products.setdefault(pname, []).append((pid, product, current, eol_epoch))
        for number, topic in enumerate(MISUSE_TOPICS, start=1001):
            words = topic.replace("-", " ")
            self.add(
                "kb_article",
                key=f"KB-{number}",
                title=f"How to: {words}",
                url=f"https://kb.example.com/articles/{number}",
                topic=topic,
                body=f"Step-by-step guide: {words}.",
                created_at=long_ago,
            )
            self.kb[topic] = f"KB-{number}"
        order = list(LOOKS)
        for n in range(n_customers):  # round robin: every policy gets its share
            self.customer(order[n % len(order)], n // len(order))
        return self

    def customer(self, pname: str, rank: int) -> None:
        look = LOOKS[pname]
        country = look.countries[rank % len(look.countries)]
        pool = CUSTOMER_NAMES[country]
        used = self._names_used[country] = self._names_used.get(country, 0) + 1
        name = pool[(used - 1) % len(pool)]
        if used > len(pool):
            name += f" {(used - 1) // len(pool) + 1}"
        key = _slug(name)
        while key in self._keys:
            key += "-x"
        self._keys.add(key)
        team = TEAM_OF_COUNTRY[country]
        cid = self.add(
            "customer",
            key=key,
            name=name,
            country=country,
            vat_rate=VAT[country],
            policy=pname,
            created_at=self.now - timedelta(days=1000),
        )
        contacts = self.contacts(cid, key, team, pname)
        windows = self.contracts(cid, pname, rank)
        share = sum(w.end - w.start for w in windows) / (365 * DAY)
        products = [(p, current, eol) for _, p, current, eol in self.products[pname]]
        self.customers.append(
            _Customer(
                cid,
                key,
                pname,
                team,
                self.rng.uniform(0.4, 3.0) * share,
                windows,
                contacts,
                products,
            )
        )

    def contacts(self, cid: int, key: str, team: str, pname: str) -> list[tuple[int, str]]:
        """2-4 contacts; OpMon takes tickets from named ones only, so one is un-named there."""
        rng = self.rng
        created = self.now - timedelta(days=900)
        who: list[tuple[int, str]] = []
        seen: set[str] = set()
        count = 2 + rng.randrange(3)
        for i in range(count):
            first, last = rng.choice(FIRST_NAMES[team]), rng.choice(LAST_NAMES[team])
            local = _slug(f"{first} {last}").replace("-", ".")
            while local in seen:
                local += str(i)
            seen.add(local)
            email = f"{local}@{key}.example"
            opmon = pname == "opmon"
            named = i < count - 1 if opmon else (i == 0 or rng.random() < 0.5)
            contact_id = self.add(
                "contact",
                customer_id=cid,
                email=email,
                name=f"{first} {last}",
                named=named,
                created_at=created,
            )
            if named or opmon:
                self.add(
                    "contact_naming", contact_id=contact_id, named=True, at=created, actor=MANAGER
                )
            if opmon and not named:  # named once, un-named since
                self.add(
                    "contact_naming",
                    contact_id=contact_id,
                    named=False,
                    at=self.now - timedelta(days=100),
                    actor=MANAGER,
                )
            if named or not opmon:
                who.append((contact_id, email))
        return who

    def contracts(self, cid: int, pname: str, rank: int) -> list[_Window]:
        """The customer's contracts, and the spans in which its tickets may open.

        Rank 1 of each policy renewed its contract 120 days ago (the old one
        expired); rank 2 is overdue since 45 days (OpMon: its contract lapsed 60
        days ago) and opens no tickets since; rank 3 paid late once; ProgressSoft's
        rank 0 is under warranty since 40 days.
        """
        today, policy = self.today, self.policies[pname]
        look = LOOKS[pname]
        plan = self.rng.choices([p for p, _ in look.plans], [w for _, w in look.plans])[0]
        spans: list[tuple[date, date | None, str]] = []
        if pname == "progresssoft" and rank == 0:
            spans.append((today - timedelta(days=40), today + timedelta(days=50), "warranty"))
        elif rank == 1:
            spans.append((today - timedelta(days=800), today - timedelta(days=120), plan))
            spans.append((today - timedelta(days=119), None, plan))
        elif rank == 2 and pname == "opmon":
            spans.append((today - timedelta(days=700), today - timedelta(days=60), plan))
        else:
            spans.append((today - timedelta(days=self.rng.randrange(400, 1000)), None, plan))
        windows = []
        previous = None
        for start, end, plan_name in spans:
            activated = (
                start + timedelta(days=20) if policy.entitlement.require_activation else None
            )
            contract_id = self.add(
                "contract",
                customer_id=cid,
                policy=pname,
                plan=plan_name,
                start=start,
                end=end,
                activated=activated,
                license_issued=start if pname == "progresssoft" else None,
                renews=previous,
                consultancy_hours=policy.plans[plan_name].consultancy_hours or None,
                created_at=datetime(start.year, start.month, start.day, tzinfo=UTC),
            )
            for i, (pid, product, _, _) in enumerate(self.products[pname]):
                if i == 0 or product != "opmon-7" or rank % 2 == 0:
                    self.add("contract_product", contract_id=contract_id, product_id=pid)
            previous = contract_id
            last = _day_start(end) + DAY - 1 if end else _epoch(self.now)
            windows.append(_Window(_day_start(activated or start), last, contract_id, plan_name))
        if rank == 2 and pname != "opmon":
            self.standing(cid, today - timedelta(days=45), days_ago=40)
            for w in windows:  # support stopped when the account fell behind
                w.end = min(w.end, _epoch(self.now) - 40 * DAY)
        elif rank == 3:
            self.standing(cid, today - timedelta(days=200), days_ago=190)
            self.standing(cid, None, days_ago=150)
        horizon, latest = _epoch(self.now) - 365 * DAY, _epoch(self.now) - 5 * MINUTE
        for w in windows:
            w.start, w.end = max(w.start, horizon), min(w.end, latest)
        return [w for w in windows if w.end > w.start]

    def standing(self, cid: int, overdue_since: date | None, *, days_ago: int) -> None:
        self.add(
            "standing",
            customer_id=cid,
            overdue_since=overdue_since,
            at=self.now - timedelta(days=days_ago),
            actor=MANAGER,
            note="invoice overdue" if overdue_since else "paid up",
        )


# ---------------------------------------------------------------------------------------
# Tickets.
# ---------------------------------------------------------------------------------------

# Final status mix by age (days): young tickets are still being worked on.
_AGE_MIX: tuple[tuple[float, tuple[float, ...]], ...] = (
    # age below (days), then the weight of each state in STATES order: draft,
    # awaiting_approval, queued, in_progress, awaiting_customer, awaiting_subticket,
    # forwarded, awaiting_verification, closed
    (2, (30, 4, 25, 18, 8, 1, 3, 5, 6)),
    (14, (4, 4, 8, 16, 7, 3, 6, 12, 40)),
    (60, (0, 1.5, 1, 3, 1.5, 1, 3, 0.5, 88.5)),
    (float("inf"), (0, 0, 0, 0.2, 0.1, 0, 0.3, 0, 99.4)),
)
# Likelihood of opening a ticket at each local hour, 0 to 23.
_HOUR_WEIGHT = tuple(
    float(w)
    for w in _words(
        "0.03 0.02 0.02 0.02 0.02 0.04 0.1 0.35 0.9 1 1 1 "
        "0.6 0.8 1 1 0.9 0.7 0.3 0.15 0.1 0.08 0.05 0.04",
        None,
    )
)

TICKET_COLUMNS = _words(
    "id customer_id contact_id contract_id policy_version_id parent_id plan calendar title "
    "channel product version os server hardware task error description status outcome "
    "severity category topic assignee team billing_mode opened_at updated_at "
    "info_complete_at responded_at resolved_at closed_at rev",
    None,
)
EVENT_COLUMNS = _words("ticket_id at actor seq kind from_status to_status note data", None)
WORKLOG_COLUMNS = _words("ticket_id event_seq at minutes kind note actor", None)


class _Picker:
    """Weighted choice by bisection over cumulative weights (random.choices is slower)."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


@dataclass
class _PolicyRun:
    """Everything ticket generation needs to know about one policy."""

    name: str
    policy: Policy
    version_id: int
    required: tuple[str, ...]
    look: _PolicyLook
    stories: dict[str, _Picker]  # final status -> stories
    singles: dict[str, _Picker]  # the same, one-ticket stories only
    severity: _Picker
    levels: _Picker | None  # impact/urgency, when severity comes from the matrix
    channels: dict[str, _Picker]  # plan -> channels
    previous_ok: bool


def _policy_run(
    name: str, policy: Policy, version_id: int, version: int, rng: random.Random
) -> _PolicyRun:
    stories = build_stories(policy, version, rng)
    by_status: dict[str, list[_Story]] = {}
    for story in stories:
        by_status.setdefault(story.status, []).append(story)

    def picker(items: list[_Story]) -> _Picker:
        return _Picker(items, [s.weight for s in items])

    order = policy.severities.order
    shape = {2: (1, 3), 3: (1, 3.5, 5.5), 4: (0.5, 2, 4, 3.5)}.get(len(order), [1] * len(order))
    levels = None
    if policy.severities.matrix:
        names = policy.severities.levels
        levels = _Picker(names, [1, 3, 4][: len(names)])
    channels = {}
    for plan_name, plan in policy.plans.items():
        allowed = plan.channels or policy.channels
        channels[plan_name] = _Picker(allowed, [3, *([1] * (len(allowed) - 1))])
    return _PolicyRun(
        name,
        policy,
        version_id,
        tuple(f for f in policy.required_fields if f != "channel"),
        LOOKS[name],
        {k: picker(v) for k, v in by_status.items()},
        {
            k: picker([s for s in v if s.size == 1])
            for k, v in by_status.items()
            if any(s.size == 1 for s in v)
        },
        _Picker(order, shape),
        levels,
        channels,
        policy.entitlement.previous_version != "refused",
    )


class _Clock:
    """Epoch seconds to the store's text form: a day and a second of the day, both cached."""

    def __init__(self, suffix: str) -> None:
        self.days: dict[int, str] = {}
        self.seconds = [
            f"{h:02d}:{m:02d}:{sec:02d}{suffix}"
            for h in range(24)
            for m in range(60)
            for sec in range(60)
        ]

    def __call__(self, t: int) -> str:
        day, second = divmod(t, DAY)
        text = self.days.get(day)
        if text is None:
            text = self.days[day] = date.fromordinal(_EPOCH_ORDINAL + day).isoformat() + " "
        return text + self.seconds[second]


@dataclass
class Batch:
    tickets: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    worklog: list[tuple[Any, ...]] = field(default_factory=list)


class TicketMaker:
    """Turns stories into rows: one story instance (a ticket, or a split family) at a time."""

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        customers: list[_Customer],
        runs: Mapping[str, _PolicyRun],
        kb: Mapping[str, str],
        clock: _Clock,
    ) -> None:
        self.rng = rng
        self.now = _epoch(now)
        self.customers = _Picker(
            [c for c in customers if c.windows], [c.weight for c in customers if c.windows]
        )
        self.runs = runs
        self.kb = kb
        self.ts = clock
        self.age_mix = [(limit, _Picker(STATES, weights)) for limit, weights in _AGE_MIX]
        self.agents: dict[str, list[str]] = {}
        for login, _, role, team in AGENTS:
            if role == "agent":
                self.agents.setdefault(team, []).append(login)
        self.redirected: set[tuple[int, str]] = set()
        self.json_cache: dict[Any, str] = {}

    def batches(self, count: int, first_id: int) -> Iterator[Batch]:
        """Rows for ``count`` tickets, in batches of about CHUNK_EVENTS events."""
        made, next_id = 0, first_id
        batch = Batch()
        while made < count:
            size = self.story_into(batch, next_id, count - made)
            made += size
            next_id += size
            if len(batch.events) >= CHUNK_EVENTS:
                yield batch
                batch = Batch()
        if batch.tickets:
            yield batch

    def _opened_at(self, customer: _Customer, look: _PolicyLook) -> tuple[int, _Window]:
        rng = self.rng
        windows = customer.windows
        window = windows[0]
        if len(windows) > 1:
            window = _Picker(windows, [w.end - w.start for w in windows])(rng)
        span = window.end - window.start
        offset = look.tz_hours * HOUR
        t = window.start
        for _ in range(12):  # mostly on working days and hours, local time
            t = window.start + int(rng.random() * span)
            local = t + offset
            weekday = (local // DAY + 3) % 7  # 1970-01-01 was a Thursday
            odds = _HOUR_WEIGHT[(local % DAY) // HOUR]
            if weekday in look.weekend:
                odds *= 0.12
            if rng.random() < odds:
                break
        return t, window

    def story_into(self, batch: Batch, first_id: int, room: int) -> int:
        rng = self.rng
        customer: _Customer = self.customers(rng)
        run = self.runs[customer.policy]
        opened, window = self._opened_at(customer, run.look)
        age_days = (self.now - opened) / DAY
        mix = next(p for limit, p in self.age_mix if age_days < limit)
        status = mix(rng)
        story: _Story = run.stories[status](rng)
        if story.size > room:
            story = run.singles.get(status, run.singles["in_progress"])(rng)
        offsets = story.offsets[int(rng.random() * len(story.offsets))]
        total = offsets[-1]
        scale = 0.5 + rng.random()
        room_s = self.now - opened - MINUTE
        if total * scale > room_s:
            scale = max(room_s, 0) / total
        times = [opened + int(o * scale) for o in offsets]
        ids = [first_id + i for i in range(story.size)]
        ctx = self._context(run, customer, window, story, opened, ids)
        self._emit(batch, story, times, ids, ctx, customer, window, run)
        return story.size

    def _context(
        self,
        run: _PolicyRun,
        customer: _Customer,
        window: _Window,
        story: _Story,
        opened: int,
        ids: list[int],
    ) -> dict[str, Any]:
        rnd = self.rng.random

        def pick(items: Sequence[Any]) -> Any:
            return items[int(rnd() * len(items))]

        contact_id, email = pick(customer.contacts)
        plan = run.policy.plans[window.plan]
        channel = run.channels[window.plan](self.rng)
        agent = pick(self.agents[customer.team])
        live = [p for p in customer.products if p[2] is None or p[2] > opened]
        product, current, _ = pick(live)
        version = current
        if run.previous_ok and rnd() < 0.15:
            major, _, minor = current.partition(".")
            version = f"{major}.{max(int(minor or 0) - 1, 0)}"
        look = run.look
        full: dict[str, str] = {
            "product": product,
            "version": version,
            "description": pick(DESCRIPTIONS),
        }
        for name, values in look.fields.items():
            if name in run.required or rnd() < 0.4:
                full[name] = pick(values)
        opened_fields, update = full, {}
        if story.incomplete:
            missing = (run.required[-1], pick(run.required))
            opened_fields = {k: v for k, v in full.items() if k not in missing}
            update = {k: v for k, v in full.items() if k in missing}
        severity, impact, urgency = self._severity(run)
        topic = self._topic(run, story.category, contact_id)
        kb = None
        if story.category == "misuse":
            kb = self.kb.get(topic or "") or self.kb[pick(MISUSE_TOPICS)]
        return {
            "customer": customer.key,
            "team": customer.team,
            "contact_id": contact_id,
            "email": email,
            "channel": channel,
            "plan": plan.name,
            "calendar": plan.calendar,
            "billing": plan.billing,
            "agent": agent,
            "title": pick(look.titles),
            "fields": opened_fields,
            "update": update,
            "full": full,
            "severity": severity,
            "impact": impact,
            "urgency": urgency,
            "topic": topic,
            "kb": kb,
            "vendor": pick(look.vendors) if story.vendor else None,
            "ids": ids,
            "roles": {
                "opener": agent if channel == "phone" else email,
                "manager": MANAGER,
                "agent": agent,
                "customer": email,
                "system": "deskctl",
            },
        }

    def _severity(self, run: _PolicyRun) -> tuple[str, str | None, str | None]:
        if run.levels is None:
            return run.severity(self.rng), None, None
        impact, urgency = run.levels(self.rng), run.levels(self.rng)
        return run.policy.severities.matrix[(impact, urgency)], impact, urgency

    def _topic(self, run: _PolicyRun, category: str | None, contact_id: int) -> str | None:
        rng = self.rng
        scope = run.policy.scope
        if category == "misuse":
            return self._misuse_topic(run, contact_id)
        pool: tuple[str, ...] = {
            "always_supported": scope.always_supported,
            "out_of_scope": scope.out_of_scope,
            "billable_service": scope.billable_services,
        }.get(category or "", DEFECT_TOPICS)
        if not pool or (category == "defect" and rng.random() < 0.3):
            return None
        return pool[rng.randrange(len(pool))]

    def _misuse_topic(self, run: _PolicyRun, contact_id: int) -> str | None:
        """Where the policy refuses a repeat, each contact is redirected once per topic."""
        rng = self.rng
        topic = MISUSE_TOPICS[rng.randrange(len(MISUSE_TOPICS))]
        if not run.policy.scope.misuse_refuse_repeat:
            return topic
        for _ in range(4):
            if (contact_id, topic) not in self.redirected:
                self.redirected.add((contact_id, topic))
                return topic
            topic = MISUSE_TOPICS[rng.randrange(len(MISUSE_TOPICS))]
        return None

    def _emit(
        self,
        batch: Batch,
        story: _Story,
        times: list[int],
        ids: list[int],
        ctx: dict[str, Any],
        customer: _Customer,
        window: _Window,
        run: _PolicyRun,
    ) -> None:
        roles = ctx["roles"]
        add_event = batch.events.append
        rnd = self.rng.random
        ats = list(map(self.ts, times))
        for step, at in zip(story.steps, ats, strict=True):
            ticket_id = ids[step.member]
            actor = roles[step.role]
            slot = step.slot
            if slot is None:  # most events: only who and when change
                add_event((ticket_id, at, actor, *step.fixed))
                continue
            if slot == "worklog":
                minutes = WORK_MINUTES[int(rnd() * len(WORK_MINUTES))]
                kind = step.data.get("kind") or "connection"
                data = self._cached(("worklog", minutes, kind), step.data, {"minutes": minutes})
                batch.worklog.append((ticket_id, step.seq, at, minutes, kind, step.note, actor))
            else:
                data = self._fill(step, ctx)
            add_event((ticket_id, at, actor, *step.fixed[:-1], data))
        for m, member in enumerate(story.members):
            batch.tickets.append(
                self._ticket_row(member, m, story, ats, ctx, customer, window, run)
            )

    def _cached(
        self, key: tuple[Any, ...], data: Mapping[str, Any], values: Mapping[str, Any]
    ) -> str:
        text = self.json_cache.get(key)
        if text is None:
            text = self.json_cache[key] = json.dumps({**data, **values})
        return text

    def _fill(self, step: _Step, ctx: dict[str, Any]) -> str:
        """The event's data with this ticket's values in place of the placeholders."""
        slot = step.slot
        data = step.data
        if slot == "opened":
            data = {
                **data,
                "title": ctx["title"],
                "customer": ctx["customer"],
                "contact": ctx["email"],
                "fields": ctx["fields"],
                "channel": ctx["channel"],
                "plan": ctx["plan"],
                "calendar": ctx["calendar"],
            }
            return json.dumps(data)
        if slot == "child_opened":
            data = {
                **data,
                "title": f"{ctx['title']} (part {step.member})",
                "customer": ctx["customer"],
                "contact": ctx["email"],
                "fields": ctx["full"],
                "plan": ctx["plan"],
                "calendar": ctx["calendar"],
                "parent_id": ctx["ids"][0],
            }
            for key in _CHILD_SUBST:
                if ctx[key] is None:
                    data.pop(key, None)
                else:
                    data[key] = ctx[key]
            return json.dumps(data)
        if slot == "updated":
            return json.dumps({**data, "fields": ctx["update"]})
        if slot == "split":
            return json.dumps({**data, "children": ctx["ids"][1:]})
        if slot == "child_closed":
            return json.dumps({**data, "child": ctx["ids"][data["child"] - _PARENT]})
        if slot == "triaged":
            triage = tuple(ctx[k] for k in _CHILD_SUBST)
            values = dict(zip(_CHILD_SUBST, triage, strict=True))
            return self._cached((slot, data["category"], *triage), data, values)
        if slot == "assigned":
            return self._cached(
                (slot, ctx["agent"], ctx["team"]),
                data,
                {"assignee": ctx["agent"], "team": ctx["team"]},
            )
        if slot == "vendor":
            return self._cached((slot, ctx["vendor"]), data, {"vendor": ctx["vendor"]})
        if slot == "redirected":
            return self._cached((slot, ctx["kb"]), data, {"kb_article": ctx["kb"]})
        raise ValueError(f"unknown story slot {slot!r}")

    def _ticket_row(
        self,
        member: _Member,
        m: int,
        story: _Story,
        ats: list[str],
        ctx: dict[str, Any],
        customer: _Customer,
        window: _Window,
        run: _PolicyRun,
    ) -> tuple[Any, ...]:
        state = member.state
        if m == 0:
            fields = {**ctx["fields"], **ctx["update"]} if story.supplied else ctx["fields"]
            title = ctx["title"]
        else:
            fields, title = ctx["full"], f"{ctx['title']} (part {m})"
        col = member.times
        at = {
            name: None if col[name] is None else ats[col[name]]  # type: ignore[index]
            for name in _TIME_COLUMNS
        }
        triaged = state.severity is not None
        assigned = state.assignee is not None
        return (
            ctx["ids"][m],
            customer.id,
            ctx["contact_id"],
            window.contract_id,
            run.version_id,
            ctx["ids"][0] if m else None,
            ctx["plan"],
            ctx["calendar"],
            title,
            ctx["channel"],
            fields.get("product"),
            fields.get("version"),
            fields.get("os"),
            fields.get("server"),
            fields.get("hardware"),
            fields.get("task"),
            fields.get("error"),
            fields.get("description"),
            state.status,
            state.outcome,
            ctx["severity"] if triaged else None,
            state.category,
            ctx["topic"] if state.topic is not None else None,
            ctx["agent"] if assigned else None,
            customer.team if assigned else None,
            ctx["billing"],
            ats[member.first],
            ats[member.last],
            at["info_complete_at"],
            at["responded_at"],
            at["resolved_at"],
            at["closed_at"],
            member.n_events,
        )


# ---------------------------------------------------------------------------------------
# Writing, and the whole run.
# ---------------------------------------------------------------------------------------

_ID_TABLES = (
    "customer",
    "contact",
    "contact_naming",
    "product",
    "contract",
    "standing",
    "kb_article",
    "ticket",
)


def examples_dir() -> Path:
    """The example policies shipped inside the package."""
    from importlib.resources import files

    return Path(str(files("deskctl") / "examples"))


def read_examples() -> dict[str, str]:
    folder = examples_dir()
    missing = [f"{n}.toml" for n in POLICY_FILES if not (folder / f"{n}.toml").is_file()]
    if missing:
        raise NotFound(
            f"demo needs the example policies in {folder}; missing: {', '.join(missing)}"
        )
    return {n: (folder / f"{n}.toml").read_text(encoding="utf-8") for n in POLICY_FILES}


def check_empty(session: Any) -> None:
    """Refuse a store that holds tickets or master data (the demo invents customers)."""
    from sqlalchemy import func, select

    from deskctl.store.models import Customer, KbArticle, Product, Ticket

    counts = {
        what: int(session.execute(select(func.count()).select_from(model)).scalar_one())
        for what, model in (
            ("tickets", Ticket),
            ("customers", Customer),
            ("products", Product),
            ("KB articles", KbArticle),
        )
    }
    held = [f"{n} {what}" for what, n in counts.items() if n]
    if held:
        raise Refused(
            f"the store already holds data ({', '.join(held)}); demo fills only an empty "
            "store: point DESKCTL_DB at a new file"
        )


def _first_ids(session: Any) -> dict[str, int]:
    from sqlalchemy import text

    return {
        t: int(session.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {t}")).scalar_one()) + 1
        for t in _ID_TABLES
    }


def _insert_master(session: Any, master: MasterData) -> None:
    from sqlalchemy import insert, select

    from deskctl.store.models import SQLModel

    tables = SQLModel.metadata.tables
    known = set(session.execute(select(tables["agent"].c.login)).scalars())
    master.rows["agent"] = [r for r in master.rows["agent"] if r["login"] not in known]
    for name in MASTER_TABLES:
        if master.rows[name]:
            session.execute(insert(tables[name]), master.rows[name])


def _write_batch(engine: Any, batch: Batch) -> None:
    """One transaction: the batch's tickets, then their events and work log."""
    tables = (
        ("ticket", TICKET_COLUMNS, batch.tickets),
        ("ticket_event", EVENT_COLUMNS, batch.events),
        ("worklog", WORKLOG_COLUMNS, batch.worklog),
    )
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            raw = conn.connection.dbapi_connection
            with raw.cursor() as cur:
                for table, columns, rows in tables:
                    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
        return
    with engine.execution_options(begin="IMMEDIATE").begin() as conn:
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        for table, columns, rows in tables:
            if rows:
                marks = ", ".join("?" * len(columns))
                conn.exec_driver_sql(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )


@contextmanager
def _indexes_built_after(engine: Any, tickets: int) -> Iterator[None]:
    """SQLite, large demos: drop the ticket and event indexes, build them again at the end.

    One sorted build per index is much cheaper than a million scattered
    inserts into it. The rebuild runs even if the load fails half-way, so the
    store never stays without its indexes (short of the process being killed).
    PostgreSQL showed no measurable gain, so it keeps its indexes.
    """
    if engine.dialect.name != "sqlite" or tickets < BULK_INDEX_TICKETS:
        yield
        return
    with engine.begin() as conn:
        indexes = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('ticket', 'ticket_event') ORDER BY name"
        ).all()
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            for _, ddl in indexes:
                conn.exec_driver_sql(ddl)


def _after_load(engine: Any) -> None:
    """PostgreSQL: fresh planner statistics; serial sequences past the demo's explicit ids."""
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("ANALYZE ticket, ticket_event, worklog"))  # plans for the new size
        for table in _ID_TABLES:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )


@dataclass(frozen=True)
class DemoResult:
    tickets: int
    events: int
    worklog: int
    first_ticket: int
    last_ticket: int


def build_demo(engine: Any, *, tickets: int, seed: int, now: datetime, actor: str) -> DemoResult:
    """Create the schema if needed and fill an empty store with a demo (see module doc)."""
    from deskctl.services import policies
    from deskctl.store import db

    texts = read_examples()
    if db.current_revision(engine) is not None:  # refuse before upgrading someone's store
        with db.session(engine) as s:
            check_empty(s)
    db.upgrade(engine)
    now = now.astimezone(UTC).replace(microsecond=0)
    rng = random.Random(seed)
    with db.session(engine, write=True, act_as=True) as s:  # history in the team's names
        check_empty(s)
        runs = {}
        for name, text in texts.items():
            loaded = policies.load(
                s, text, source=str(examples_dir() / f"{name}.toml"), actor=actor, now=now
            )
            row, policy = policies.latest(s, name)
            runs[name] = _policy_run(name, policy, loaded.id, row.version, rng)
        n_customers = max(15, min(300, tickets // 150))
        master = MasterData(rng, now, _first_ids(s), {n: r.policy for n, r in runs.items()})
        _insert_master(s, master.build(n_customers))
    suffix = "+00" if engine.dialect.name == "postgresql" else ".000000"
    maker = TicketMaker(rng, now, master.customers, runs, master.kb, _Clock(suffix))
    first = master.next_id["ticket"]
    n_events = n_work = 0
    with _indexes_built_after(engine, tickets):
        for batch in maker.batches(tickets, first):
            _write_batch(engine, batch)
            n_events += len(batch.events)
            n_work += len(batch.worklog)
    _after_load(engine)
    _refresh_open_sla(engine, now)
    return DemoResult(tickets, n_events, n_work, first, first + tickets - 1)


def _refresh_open_sla(engine: Any, now: datetime) -> None:
    """SLA columns for the open tickets, so the queue shows countdowns at once.

    Closed tickets are left without snapshots: `sla report` replays those (slower,
    same answers), and `deskctl sla refresh --all` fills them when wanted.
    """
    from deskctl.services import sla
    from deskctl.store import db

    with db.session(engine, write=True) as s:
        sla.refresh(s, now)


def _lifecycle_order(item: tuple[str, int]) -> int:
    return STATES.index(item[0]) if item[0] in STATES else len(STATES)


def summary(session: Any) -> dict[str, Any]:
    """Counts of what the store holds, for the demo's report."""
    from sqlalchemy import func, select

    from deskctl.store.models import (
        Agent,
        Contact,
        Contract,
        Customer,
        KbArticle,
        PolicyVersion,
        Product,
        Ticket,
        TicketEvent,
        WorkLog,
    )

    def count(model: Any) -> int:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())

    def by(column: Any) -> dict[str, int]:
        stmt = select(column, func.count()).group_by(column).order_by(column)
        return {str(k): int(n) for k, n in session.execute(stmt) if k is not None}

    return {
        "counts": {
            "policies": count(PolicyVersion),
            "agents": count(Agent),
            "customers": count(Customer),
            "contacts": count(Contact),
            "products": count(Product),
            "contracts": count(Contract),
            "kb_articles": count(KbArticle),
            "tickets": count(Ticket),
            "events": count(TicketEvent),
            "worklog": count(WorkLog),
        },
        "by_status": dict(sorted(by(Ticket.status).items(), key=_lifecycle_order)),
        "by_outcome": by(Ticket.outcome),
        "by_severity": by(Ticket.severity),
        "by_category": by(Ticket.category),
        "by_channel": by(Ticket.channel),
    }
