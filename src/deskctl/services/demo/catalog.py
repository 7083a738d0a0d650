"""The demo's invented but plausible master data: agents, customer and people names,
each example policy's look (zone, weekend, products, topics), texts and work durations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

DAY = 86400
HOUR = 3600
MINUTE = 60


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
