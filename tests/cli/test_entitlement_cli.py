"""`deskctl contract check` and its enforcement at `ticket open`, one scenario per seed (rules §8).

Boundary days (before, of, after) go through the CLI with --at for activation,
overdue, warranty end, contact naming and end of life.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import EXAMPLES
from tests.factory import seed_dms, seed_imexhs, seed_medisoft

SEED_NOW = "2026-01-01T08:00:00Z"


@pytest.fixture(autouse=True)
def seed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # Contacts are named "now": pin the clock so naming periods start on a known day.
    monkeypatch.setenv("DESKCTL_NOW", SEED_NOW)


def check(cli: Any, customer: str, *args: str, at: str, code: int) -> dict:
    result = cli("contract", "check", customer, *args, "--at", at, "--json", code=code)
    return json.loads(result.stdout)


def codes(doc: dict) -> list[str]:
    return [r["code"] for r in doc["reasons"]]


def blocking(doc: dict) -> list[str]:
    return [r["code"] for r in doc["reasons"] if r["blocking"]]


def seed_opmon(cli: Any, *, plan: str = "pro", end: str | None = "2027-06-30") -> dict[str, str]:
    cli("init", "--policy", str(EXAMPLES / "opmon.toml"))
    cli("customer", "add", "telco", "--name", "Telco SA", "--country", "BR")
    cli("contact", "add", "telco", "rita@telco.example", "--name", "Rita", "--named")
    cli("contact", "add", "telco", "joao@telco.example", "--name", "João")
    cli("product", "add", "opmon", "--current", "9.2")
    args = ["--end", end] if end else []
    cli(
        "contract",
        "add",
        "telco",
        "--plan",
        plan,
        "--start",
        "2026-01-01",
        *args,
        "--product",
        "opmon",
    )
    return {"customer": "telco", "contact": "rita@telco.example", "product": "opmon"}


def seed_progresssoft(cli: Any, *, license_issued: str | None = "2026-01-01") -> None:
    cli("init", "--policy", str(EXAMPLES / "progresssoft.toml"))
    cli("customer", "add", "bank", "--name", "Bank of Amman", "--country", "JO")
    cli("contact", "add", "bank", "omar@bank.example", "--name", "Omar")
    cli("product", "add", "ecc", "--current", "5.0")
    args = ["--license-issued", license_issued] if license_issued else []
    cli(
        "contract",
        "add",
        "bank",
        "--plan",
        "warranty",
        "--start",
        "2026-01-01",
        "--end",
        "2026-03-31",
        "--product",
        "ecc",
        *args,
    )


# -- seed 000 Medisoft: overdue payments block ------------------------------------------


def test_medisoft_overdue_blocks_from_the_overdue_day_on(cli) -> None:
    seed_medisoft(cli)
    cli(
        "contract",
        "standing",
        "hosp",
        "--overdue-since",
        "2026-03-10",
        "--at",
        "2026-03-01T12:00:00Z",
    )
    before = check(cli, "hosp", at="2026-03-09T23:59:00Z", code=0)
    assert before["entitled"] is True and before["reasons"] == []
    assert before["billing_mode"] == "included"
    for day in ("2026-03-10T00:00:00Z", "2026-03-11T12:00:00Z"):
        doc = check(cli, "hosp", at=day, code=1)
        assert doc["entitled"] is False
        assert blocking(doc) == ["overdue"]
        assert doc["reasons"][0]["data"] == {"overdue_since": "2026-03-10"}
        assert doc["billing_mode"] is None


def test_medisoft_paying_up_restores_support(cli) -> None:
    seed_medisoft(cli)
    cli(
        "contract",
        "standing",
        "hosp",
        "--overdue-since",
        "2026-02-01",
        "--at",
        "2026-02-05T00:00:00Z",
    )
    cli("contract", "standing", "hosp", "--paid", "--at", "2026-03-20T15:00:00Z")
    check(cli, "hosp", at="2026-03-19T12:00:00Z", code=1)
    assert check(cli, "hosp", at="2026-03-21T12:00:00Z", code=0)["entitled"] is True


def test_standing_recorded_later_does_not_rewrite_an_earlier_check(cli) -> None:
    seed_medisoft(cli)
    # Recorded on 2026-04-01 that the account was overdue since 2026-02-01: a check
    # replayed at 2026-03-01 uses what was on file then.
    cli(
        "contract",
        "standing",
        "hosp",
        "--overdue-since",
        "2026-02-01",
        "--at",
        "2026-04-01T00:00:00Z",
    )
    check(cli, "hosp", at="2026-03-01T12:00:00Z", code=0)
    check(cli, "hosp", at="2026-04-01T12:00:00Z", code=1)


# -- seed 001 IMEXHS: activation and overdue charges -----------------------------------


def test_imexhs_support_starts_on_the_activation_day(cli) -> None:
    seed_imexhs(cli)  # activated 2026-01-15
    for at, code in (
        ("2026-01-14T23:59:59Z", 1),
        ("2026-01-15T00:00:00Z", 0),
        ("2026-01-16T10:00:00Z", 0),
    ):
        doc = check(cli, "clinic", at=at, code=code)
        assert doc["entitled"] is (code == 0)
        assert codes(doc) == ([] if code == 0 else ["not_activated"]), at


def test_imexhs_contract_never_activated_is_refused_with_the_reason(cli) -> None:
    seed_imexhs(cli)
    cli("customer", "add", "lab", "--name", "Lab", "--country", "CO")
    cli("contract", "add", "lab", "--plan", "24x7", "--start", "2026-01-01")
    doc = check(cli, "lab", at="2026-06-01T12:00:00Z", code=1)
    assert blocking(doc) == ["not_activated"]
    assert "close-out" in doc["reasons"][0]["message"]
    assert doc["plan"] == "24x7" and doc["calendar"] == "always"


def test_imexhs_overdue_and_sla_ranges_in_the_answer(cli) -> None:
    seed_imexhs(cli)
    cli(
        "contract",
        "standing",
        "clinic",
        "--overdue-since",
        "2026-02-01",
        "--at",
        "2026-02-02T00:00:00Z",
    )
    doc = check(cli, "clinic", at="2026-02-03T12:00:00Z", code=1)
    assert blocking(doc) == ["overdue"]
    response = doc["targets"]["response"]
    assert response["1"] == {"goal_seconds": 5 * 3600, "limit_seconds": 9 * 3600}
    assert response["3"] == {"goal_seconds": 12 * 3600, "limit_seconds": 18 * 3600}
    assert doc["targets"]["report"]["1"]["limit_seconds"] == 72 * 3600


# -- seed 002 DMS: previous version billed at its own rate ------------------------------


def test_dms_previous_version_is_billed_not_refused(cli) -> None:
    seed_dms(cli)  # current release 10.4
    for version, mode, reasons in (
        ("10.3", "per_intervention_previous", ["version_not_current"]),
        ("9", "per_intervention_previous", ["version_not_current"]),
        ("10.4.2", "per_intervention_current", []),
        ("11.0", "per_intervention_current", []),
    ):
        doc = check(
            cli,
            "studio",
            "--product",
            "dms",
            "--version",
            version,
            at="2026-05-04T09:00:00Z",
            code=0,
        )
        assert doc["billing_mode"] == mode, version
        assert codes(doc) == reasons
        assert blocking(doc) == []


def test_dms_product_not_in_contract(cli) -> None:
    seed_dms(cli)
    cli("product", "add", "dms-cloud", "--current", "1.0")
    doc = check(cli, "studio", "--product", "dms-cloud", at="2026-05-04T09:00:00Z", code=1)
    assert blocking(doc) == ["product_not_covered"]
    unknown = check(cli, "studio", "--product", "nope", at="2026-05-04T09:00:00Z", code=1)
    assert blocking(unknown) == ["product_not_covered"]


# -- seed 003 OpMon: named contacts, portal only, latest release, end of life -----------


def test_opmon_only_named_contacts(cli, monkeypatch) -> None:
    seed_opmon(cli)
    ok = check(cli, "telco", "--contact", "Rita@Telco.example", at="2026-02-01T12:00:00Z", code=0)
    assert ok["entitled"] is True
    doc = check(cli, "telco", "--contact", "joao@telco.example", at="2026-02-01T12:00:00Z", code=1)
    assert blocking(doc) == ["contact_not_named"]
    stranger = check(cli, "telco", "--contact", "x@else.example", at="2026-02-01T12:00:00Z", code=1)
    assert blocking(stranger) == ["contact_not_named"]


def test_opmon_naming_history_by_day(cli) -> None:
    seed_opmon(cli)
    cli("contact", "unname", "telco", "rita@telco.example", "--at", "2026-05-01T09:00:00Z")
    cli("contact", "name", "telco", "rita@telco.example", "--at", "2026-06-01T09:00:00Z")
    for at, code in (
        ("2026-04-30T23:00:00Z", 0),
        ("2026-05-01T00:00:00Z", 1),
        ("2026-05-02T12:00:00Z", 1),
        ("2026-05-31T23:59:59Z", 1),
        ("2026-06-01T00:00:00Z", 0),
    ):
        doc = check(cli, "telco", "--contact", "rita@telco.example", at=at, code=code)
        assert codes(doc) == ([] if code == 0 else ["contact_not_named"]), at


def test_opmon_portal_only(cli) -> None:
    seed_opmon(cli)
    check(cli, "telco", "--channel", "portal", at="2026-02-01T12:00:00Z", code=0)
    doc = check(cli, "telco", "--channel", "phone", at="2026-02-01T12:00:00Z", code=1)
    assert blocking(doc) == ["channel_not_in_plan"]
    assert doc["reasons"][0]["data"] == {"channel": "phone", "allowed": ["portal"]}


def test_opmon_latest_release_only(cli) -> None:
    seed_opmon(cli)
    check(
        cli, "telco", "--product", "opmon", "--version", "9.2.7", at="2026-02-01T12:00:00Z", code=0
    )
    doc = check(
        cli, "telco", "--product", "opmon", "--version", "9.1", at="2026-02-01T12:00:00Z", code=1
    )
    assert blocking(doc) == ["version_not_current"]
    assert doc["reasons"][0]["data"]["current"] == "9.2"


def test_opmon_end_of_life_with_notice(cli) -> None:
    seed_opmon(cli)  # contract until 2027-06-30
    # EOL set for 2026-06-30 but announced 2026-02-01: 12 months' notice pushes it.
    cli("product", "set", "opmon", "--eol", "2026-06-30", "--eol-announced", "2026-02-01")
    for at, code, eol in (
        ("2026-07-01T12:00:00Z", 0, None),
        ("2027-01-31T12:00:00Z", 0, None),  # the day before the effective EOL
        ("2027-02-01T12:00:00Z", 0, False),  # EOL: supported until the contract ends
        ("2027-06-30T12:00:00Z", 0, False),  # the contract's last day
        ("2027-07-01T12:00:00Z", 1, True),  # past both: end of life blocks
    ):
        doc = check(cli, "telco", "--product", "opmon", "--version", "9.2", at=at, code=code)
        by_code = {r["code"]: r for r in doc["reasons"]}
        if eol is None:
            assert "end_of_life" not in by_code, at
        else:
            assert by_code["end_of_life"]["blocking"] is eol, at
            assert by_code["end_of_life"]["data"]["effective_eol"] == "2027-02-01"


def test_opmon_end_of_life_blocks_an_open_ended_contract(cli) -> None:
    seed_opmon(cli, end=None)
    cli("product", "set", "opmon", "--eol", "2026-03-01")
    doc = check(cli, "telco", "--product", "opmon", at="2026-03-01T12:00:00Z", code=1)
    assert blocking(doc) == ["end_of_life"]


def test_opmon_premium_lists_services(cli) -> None:
    seed_opmon(cli, plan="premium")
    doc = check(cli, "telco", at="2026-02-01T12:00:00Z", code=0)
    assert "onsite-visit" in doc["services"]
    assert doc["targets"]["resolution"]["critical"] == {
        "goal_seconds": 8 * 3600,
        "limit_seconds": 16 * 3600,
    }


# -- seed 004 ProgressSoft: warranty from the licence issue ------------------------------


def test_progresssoft_warranty_days_left_and_expiry(cli) -> None:
    seed_progresssoft(cli)  # licence issued 2026-01-01: 90 days, last day 2026-03-31
    for at, days_left in (
        ("2026-01-01T00:00:00Z", 90),
        ("2026-03-30T12:00:00Z", 2),
        ("2026-03-31T12:00:00Z", 1),
    ):
        doc = check(cli, "bank", at=at, code=0)
        assert doc["warranty_days_left"] == days_left, at
        assert doc["billing_mode"] == "warranty"
        assert [r["code"] for r in doc["reasons"]] == ["warranty"]
        assert doc["reasons"][0]["data"]["days_left"] == days_left
        assert doc["reasons"][0]["blocking"] is False
    doc = check(cli, "bank", at="2026-04-01T00:00:00Z", code=1)
    assert doc["warranty_days_left"] == 0
    assert blocking(doc) == ["expired"]
    assert "the warranty ended on 2026-03-31" in doc["reasons"][0]["message"]


def test_progresssoft_warranty_waits_for_the_licence(cli) -> None:
    seed_progresssoft(cli, license_issued=None)
    doc = check(cli, "bank", at="2026-02-01T12:00:00Z", code=1)
    assert blocking(doc) == ["not_activated"]
    assert "licence" in doc["reasons"][0]["message"]


def test_progresssoft_assistance_contract_takes_over_after_the_warranty(cli) -> None:
    seed_progresssoft(cli)
    cli("contract", "renew", "1", "--plan", "assistance", "--end", "2027-03-31")
    doc = check(cli, "bank", at="2026-04-01T00:00:00Z", code=0)
    assert (doc["contract_id"], doc["plan"], doc["billing_mode"]) == (2, "assistance", "included")
    assert doc["warranty_days_left"] is None


# -- the person's summary and the exit codes --------------------------------------------


def test_summary_for_a_person_says_everything(cli) -> None:
    seed_progresssoft(cli)
    out = cli("contract", "check", "bank", "--at", "2026-03-30T12:00:00Z").stdout
    assert "bank: ENTITLED on 2026-03-30" in out
    assert "plan warranty, calendar amman" in out
    assert "billing   warranty" in out
    assert "warranty  2 days left" in out
    assert "under warranty until 2026-03-31 (2 days left)" in out
    assert "onsite" in out and "goal 3h, limit 4h" in out


def test_summary_lists_every_blocking_reason(cli) -> None:
    seed_opmon(cli)
    cli(
        "contract",
        "standing",
        "telco",
        "--overdue-since",
        "2026-01-15",
        "--at",
        "2026-01-15T00:00:00Z",
    )
    result = cli(
        "contract",
        "check",
        "telco",
        "--contact",
        "joao@telco.example",
        "--channel",
        "phone",
        "--at",
        "2026-02-01T12:00:00Z",
        code=1,
    )
    assert "NOT ENTITLED" in result.stdout
    for code in ("overdue", "contact_not_named", "channel_not_in_plan"):
        assert f"✗ blocks  {code}:" in result.stdout
    assert result.stderr == ""


def test_no_contract(cli) -> None:
    seed_medisoft(cli)
    cli("customer", "add", "walkin", "--name", "Walk-in", "--country", "BR")
    doc = check(cli, "walkin", at="2026-02-01T12:00:00Z", code=1)
    assert codes(doc) == ["no_contract"]
    assert doc["contract_id"] is None and doc["plan"] is None
    assert doc["policy"] == "medisoft"


def test_expired_contract(cli) -> None:
    seed_opmon(cli)
    check(cli, "telco", at="2027-06-30T23:59:59Z", code=0)
    doc = check(cli, "telco", at="2027-07-01T00:00:00Z", code=1)
    assert blocking(doc) == ["expired"]


def test_json_document_names_the_request_and_policy(cli) -> None:
    seed_medisoft(cli)
    doc = check(
        cli,
        "hosp",
        "--contact",
        "ana@hosp.example",
        "--product",
        "pacs",
        "--version",
        "6.2",
        "--channel",
        "email",
        at="2026-02-01T12:00:00-03:00",
        code=0,
    )
    assert doc["at"] == "2026-02-01T15:00:00Z" and doc["on"] == "2026-02-01"
    assert (doc["customer"], doc["policy"], doc["policy_version"]) == ("hosp", "medisoft", 1)
    assert (doc["contact"], doc["product"], doc["version"], doc["channel"]) == (
        "ana@hosp.example",
        "pacs",
        "6.2",
        "email",
    )


def test_unknown_customer_exits_3(cli) -> None:
    seed_medisoft(cli)
    result = cli("contract", "check", "nobody", code=3)
    assert result.stderr.strip() == "deskctl: no customer 'nobody'"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "yesterday"], "--at"),
        (["--at", "2026-02-01T10:00:00"], "offset"),
        (["--version", "6.2"], "--version needs --product"),
        (["--product", "pacs", "--version", "6.x"], "not a version"),
    ],
)
def test_bad_input_exits_2(cli, args, message) -> None:
    seed_medisoft(cli)
    result = cli("contract", "check", "hosp", *args, code=2)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


# -- enforcement at ticket open ----------------------------------------------------------


def open_args(seed: dict[str, str], *extra: str) -> list[str]:
    return [
        "ticket",
        "open",
        "--customer",
        seed["customer"],
        "--contact",
        seed["contact"],
        "--title",
        "It broke",
        *extra,
    ]


def tickets(cli: Any) -> list[dict]:
    return cli.json("ticket", "list")


def opened_event(cli: Any, ticket_id: int) -> dict:
    doc = cli.json("ticket", "show", str(ticket_id))
    return doc["events"][0]


def test_open_records_the_decision(cli) -> None:
    seed = seed_medisoft(cli)
    result = cli(
        *open_args(seed, "--product", "pacs", "--version", "6.2", "--at", "2026-02-02T12:00:00Z")
    )
    ticket_id = int(result.stdout)
    doc = cli.json("ticket", "show", str(ticket_id))
    assert doc["billing_mode"] == "included"
    assert doc["entitlement"]["entitled"] is True
    assert doc["entitlement"]["accepted_by"] == "entitled"
    assert (doc["contract_id"], doc["plan"], doc["calendar"]) == (1, "maintenance", "medisoft")
    event = doc["events"][0]
    assert event["kind"] == "opened"
    assert event["data"]["entitlement"]["contract_id"] == 1
    assert event["data"]["billing_mode"] == "included"


def test_open_refuses_an_unentitled_request_and_writes_nothing(cli) -> None:
    seed = seed_medisoft(cli)
    cli(
        "contract",
        "standing",
        "hosp",
        "--overdue-since",
        "2026-01-20",
        "--at",
        "2026-01-20T00:00:00Z",
    )
    result = cli(*open_args(seed, "--at", "2026-02-02T12:00:00Z"), code=1)
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert line.startswith("deskctl: hosp is not entitled: overdue:")
    assert "--override" in line
    assert result.stdout == ""
    assert tickets(cli) == []


def test_open_refusal_lists_every_blocking_reason(cli) -> None:
    seed = seed_opmon(cli)
    seed["contact"] = "joao@telco.example"
    result = cli(
        *open_args(
            seed,
            "--channel",
            "phone",
            "--product",
            "opmon",
            "--version",
            "8.0",
            "--at",
            "2026-02-02T12:00:00Z",
        ),
        code=1,
    )
    line = result.stderr.strip()
    for code in ("contact_not_named", "version_not_current", "channel_not_in_plan"):
        assert f"{code}:" in line
    assert tickets(cli) == []


@pytest.mark.parametrize(("login", "role"), [("carla", "agent"), ("nobody", None)])
def test_override_needs_a_manager(cli, monkeypatch, login: str, role: str | None) -> None:
    seed = seed_medisoft(cli)
    cli("agent", "add", "boss", "--role", "manager")
    monkeypatch.setenv("DESKCTL_USER", "boss")
    if role:
        cli("agent", "add", login, "--role", role)
    cli(
        "contract",
        "standing",
        "hosp",
        "--overdue-since",
        "2026-01-20",
        "--at",
        "2026-01-20T00:00:00Z",
    )
    monkeypatch.setenv("DESKCTL_USER", login)
    result = cli(*open_args(seed, "--override", "urgent", "--at", "2026-02-02T12:00:00Z"), code=1)
    assert "--override (not entitled) needs a manager" in result.stderr
    assert f"{login} is an agent" in result.stderr
    assert tickets(cli) == []


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_manager_override_opens_and_records_the_reason(cli, monkeypatch, role: str) -> None:
    seed = seed_medisoft(cli)
    cli("agent", "add", "boss", "--role", role)  # "admin": the old name of a manager
    monkeypatch.setenv("DESKCTL_USER", "boss")
    cli(
        "contract",
        "standing",
        "hosp",
        "--overdue-since",
        "2026-01-20",
        "--at",
        "2026-01-20T00:00:00Z",
    )
    result = cli(
        *open_args(seed, "--override", "payment promised by phone", "--at", "2026-02-02T12:00:00Z")
    )
    ticket_id = int(result.stdout)
    assert "opened by override of boss (payment promised by phone)" in result.stderr
    event = opened_event(cli, ticket_id)
    assert event["actor"] == "boss"
    assert event["data"]["override"] == "payment promised by phone"
    verdict = event["data"]["entitlement"]
    assert verdict["entitled"] is False and verdict["accepted_by"] == "override"
    assert verdict["override_by"] == "boss"
    assert [r["code"] for r in verdict["reasons"]] == ["overdue"]


def test_override_reason_must_not_be_empty(cli, monkeypatch) -> None:
    seed = seed_medisoft(cli)
    cli("agent", "add", "boss", "--role", "manager")
    monkeypatch.setenv("DESKCTL_USER", "boss")
    cli(*open_args(seed, "--override", "  "), code=2)
    assert tickets(cli) == []


def test_previous_version_takes_the_billable_path(cli) -> None:
    seed = seed_dms(cli)
    result = cli(
        *open_args(
            seed,
            "--channel",
            "email",
            "--product",
            "dms",
            "--version",
            "10.1",
            "--at",
            "2026-02-02T10:00:00Z",
        )
    )
    ticket_id = int(result.stdout)
    assert "previous-version rate" in result.stderr
    doc = cli.json("ticket", "show", str(ticket_id))
    assert doc["billing_mode"] == "per_intervention_previous"
    current = cli(
        *open_args(
            seed,
            "--channel",
            "email",
            "--product",
            "dms",
            "--version",
            "10.4",
            "--at",
            "2026-02-02T10:00:00Z",
        )
    )
    assert current.stderr == ""
    assert cli.json("ticket", "show", current.stdout.strip())["billing_mode"] == (
        "per_intervention_current"
    )


def test_override_of_an_out_of_contract_request_is_billed(cli, monkeypatch) -> None:
    seed = seed_dms(cli)
    cli("agent", "add", "boss", "--role", "manager")
    monkeypatch.setenv("DESKCTL_USER", "boss")
    cli(
        "contract",
        "standing",
        "studio",
        "--overdue-since",
        "2026-01-20",
        "--at",
        "2026-01-20T00:00:00Z",
    )
    old = cli(
        *open_args(
            seed,
            "--channel",
            "email",
            "--product",
            "dms",
            "--version",
            "9.0",
            "--override",
            "goodwill",
            "--at",
            "2026-02-02T10:00:00Z",
        )
    )
    assert cli.json("ticket", "show", old.stdout.strip())["billing_mode"] == (
        "per_intervention_previous"
    )
    new = cli(
        *open_args(
            seed, "--channel", "email", "--override", "goodwill", "--at", "2026-02-02T10:00:00Z"
        )
    )
    assert cli.json("ticket", "show", new.stdout.strip())["billing_mode"] == (
        "per_intervention_current"
    )
    assert "billed as per intervention current" in new.stderr


def test_always_supported_topic_is_accepted_unentitled(cli) -> None:
    seed = seed_dms(cli)
    cli(
        "contract",
        "standing",
        "studio",
        "--overdue-since",
        "2026-01-20",
        "--at",
        "2026-01-20T00:00:00Z",
    )
    cli(
        *open_args(
            seed, "--channel", "email", "--topic", "network", "--at", "2026-02-02T10:00:00Z"
        ),
        code=1,
    )
    result = cli(
        *open_args(
            seed, "--channel", "email", "--topic", "installation", "--at", "2026-02-02T10:00:00Z"
        )
    )
    assert "installation is always supported" in result.stderr
    doc = cli.json("ticket", "show", result.stdout.strip())
    assert doc["topic"] == "installation"
    assert doc["billing_mode"] == "included"
    assert doc["entitlement"]["accepted_by"] == "always_supported"
    assert [r["code"] for r in doc["entitlement"]["reasons"]] == ["overdue"]


def test_open_by_an_unnamed_contact_is_refused(cli) -> None:
    seed = seed_opmon(cli)
    cli(*open_args(seed, "--at", "2026-02-02T12:00:00Z"))
    seed["contact"] = "joao@telco.example"
    result = cli(*open_args(seed, "--at", "2026-02-02T12:00:00Z"), code=1)
    assert "contact_not_named" in result.stderr
    assert len(tickets(cli)) == 1


def test_open_under_warranty_notes_the_days_left(cli) -> None:
    seed_progresssoft(cli)
    result = cli(
        "ticket",
        "open",
        "--customer",
        "bank",
        "--contact",
        "omar@bank.example",
        "--title",
        "Blocked",
        "--channel",
        "phone",
        "--at",
        "2026-03-22T08:00:00Z",
    )
    assert "under warranty until 2026-03-31 (10 days left)" in result.stderr
    doc = cli.json("ticket", "show", result.stdout.strip())
    assert doc["billing_mode"] == "warranty"
    assert doc["entitlement"]["warranty_days_left"] == 10
    cli(
        "ticket",
        "open",
        "--customer",
        "bank",
        "--contact",
        "omar@bank.example",
        "--title",
        "Blocked",
        "--channel",
        "phone",
        "--at",
        "2026-04-01T08:00:00Z",
        code=1,
    )


def test_open_with_a_bad_version_is_bad_input(cli) -> None:
    seed = seed_medisoft(cli)
    result = cli(*open_args(seed, "--product", "pacs", "--version", "six"), code=2)
    assert "not a version" in result.stderr
    assert tickets(cli) == []
