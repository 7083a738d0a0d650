"""Contract history and tools: renew, show, list --expiring, import, use-hours, hours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLES
from tests.factory import seed_medisoft


def seed_opmon_premium(cli: Any, *, hours: str = "10") -> None:
    cli("init", "--policy", str(EXAMPLES / "opmon.toml"))
    cli("customer", "add", "telco", "--name", "Telco SA", "--country", "BR")
    cli("product", "add", "opmon", "--current", "9.2")
    cli(
        "contract",
        "add",
        "telco",
        "--plan",
        "premium",
        "--start",
        "2026-01-01",
        "--end",
        "2026-12-31",
        "--product",
        "opmon",
        "--consultancy-hours",
        hours,
    )
    cli("contract", "add", "telco", "--plan", "pro", "--start", "2026-01-01", "--end", "2026-12-31")


def contract_count(cli: Any) -> int:
    return len(cli.json("contract", "list"))


# -- renew and show -----------------------------------------------------------------------


def test_renew_starts_the_day_after_and_keeps_the_terms(cli) -> None:
    seed_medisoft(cli)
    cli(
        "contract",
        "add",
        "hosp",
        "--plan",
        "maintenance",
        "--start",
        "2025-01-01",
        "--end",
        "2025-12-31",
        "--activated",
        "2025-01-10",
        "--product",
        "pacs",
    )
    doc = cli.json("contract", "renew", "2", "--end", "2026-12-31")
    assert (doc["id"], doc["start"], doc["end"], doc["renews"]) == (
        3,
        "2026-01-01",
        "2026-12-31",
        2,
    )
    assert doc["plan"] == "maintenance" and doc["products"] == ["pacs"]
    assert doc["activated"] == "2025-01-10"
    shown = cli.json("contract", "show", "2")
    assert shown["renewed_by"] == 3
    assert [c["id"] for c in shown["renewals"]] == [2, 3]


def test_renewal_chain_and_standing_in_show(cli) -> None:
    seed_medisoft(cli)
    cli(
        "contract",
        "add",
        "hosp",
        "--plan",
        "maintenance",
        "--start",
        "2024-01-01",
        "--end",
        "2024-12-31",
    )
    cli("contract", "renew", "2", "--end", "2025-12-31")
    cli("contract", "renew", "3", "--end", "2026-12-31")
    cli(
        "contract",
        "standing",
        "hosp",
        "--overdue-since",
        "2025-03-01",
        "--note",
        "invoice 12",
        "--at",
        "2025-03-05T10:00:00Z",
    )
    cli("contract", "standing", "hosp", "--paid", "--at", "2025-04-01T10:00:00Z")
    doc = cli.json("contract", "show", "3")
    assert [(c["id"], c["renews"]) for c in doc["renewals"]] == [(2, None), (3, 2), (4, 3)]
    assert (doc["renews"], doc["renewed_by"]) == (2, 4)
    assert [(s["overdue_since"], s["note"]) for s in doc["standing"]] == [
        ("2025-03-01", "invoice 12"),
        (None, ""),
    ]
    out = cli("contract", "show", "3").stdout
    assert "contract 4: maintenance 2026-01-01 → 2026-12-31" in out
    assert "(this one)" in out
    assert "standing 2025-03-05: overdue since 2025-03-01 (invoice 12)" in out
    assert "standing 2025-04-01: paid up" in out


def test_show_lists_warranty_periods(cli) -> None:
    cli("init", "--policy", str(EXAMPLES / "progresssoft.toml"))
    cli("customer", "add", "bank", "--name", "Bank", "--country", "JO")
    cli(
        "contract",
        "add",
        "bank",
        "--plan",
        "warranty",
        "--start",
        "2026-01-10",
        "--end",
        "2026-04-09",
        "--license-issued",
        "2026-01-10",
    )
    cli("contract", "renew", "1", "--plan", "assistance", "--end", "2027-04-09")
    doc = cli.json("contract", "show", "2")
    assert doc["warranty"] == [
        {"contract": 1, "from": "2026-01-10", "last_day": "2026-04-09", "days": 90}
    ]
    assert doc["start"] == "2026-04-10" and doc["plan"] == "assistance"
    assert (
        "warranty (contract 1): 2026-01-10 → 2026-04-09 (90 days)"
        in cli("contract", "show", "2").stdout
    )


def test_renew_twice_is_refused(cli) -> None:
    seed_medisoft(cli)
    cli(
        "contract",
        "add",
        "hosp",
        "--plan",
        "maintenance",
        "--start",
        "2025-01-01",
        "--end",
        "2025-12-31",
    )
    cli("contract", "renew", "2", "--end", "2026-12-31")
    result = cli("contract", "renew", "2", "--end", "2027-12-31", code=1)
    assert result.stderr.strip() == "deskctl: contract 2 is already renewed by contract 3"
    assert contract_count(cli) == 3


def test_renew_bad_input_writes_nothing(cli) -> None:
    seed_medisoft(cli)  # contract 1 is open-ended
    cli(
        "contract",
        "add",
        "hosp",
        "--plan",
        "maintenance",
        "--start",
        "2025-01-01",
        "--end",
        "2025-12-31",
    )
    for args, code, message in (
        (["1", "--end", "2027-12-31"], 2, "has no end date: give --start"),
        (["2", "--end", "2025-06-30"], 2, "before the renewal starts"),
        (["2", "--end", "2026-12-31", "--start", "2024-12-31"], 2, "before contract 2 starts"),
        (["2", "--end", "2026-12-31", "--plan", "gold"], 2, "no plan 'gold'"),
        (["2", "--end", "31/12/2026"], 2, "--end: not a date"),
        (["9", "--end", "2026-12-31"], 3, "no contract 9"),
    ):
        result = cli("contract", "renew", *args, code=code)
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert contract_count(cli) == 2


def test_renew_with_start_renews_an_open_ended_contract(cli) -> None:
    seed_medisoft(cli)
    doc = cli.json("contract", "renew", "1", "--start", "2027-01-01", "--end", "2027-12-31")
    assert (doc["renews"], doc["start"]) == (1, "2027-01-01")


# -- list --expiring ----------------------------------------------------------------------


def test_expiring_lists_contracts_to_follow_up(cli, monkeypatch) -> None:
    seed_medisoft(cli)
    for key in ("a", "b", "c", "d", "e"):
        cli("customer", "add", key, "--name", key.upper(), "--country", "BR")
    monkeypatch.setenv("DESKCTL_NOW", "2026-06-01T12:00:00Z")
    ends = {
        "a": "2026-05-31",
        "b": "2026-06-01",
        "c": "2026-07-01",
        "d": "2026-07-02",
        "e": "2026-06-15",
    }
    for key, end in ends.items():
        cli("contract", "add", key, "--plan", "maintenance", "--start", "2026-01-01", "--end", end)
    cli("contract", "renew", "6", "--end", "2027-06-15")  # e is renewed already
    rows = cli.json("contract", "list", "--expiring", "30d")
    assert [(r["customer"], r["end"], r["days_left"]) for r in rows] == [
        ("b", "2026-06-01", 0),
        ("c", "2026-07-01", 30),
    ]
    assert [r["customer"] for r in cli.json("contract", "list", "--expiring", "31")] == [
        "b",
        "c",
        "d",
    ]
    assert [r["customer"] for r in cli.json("contract", "list", "c", "--expiring", "5w")] == ["c"]
    assert cli.json("contract", "list", "--expiring", "0d")[0]["customer"] == "b"
    tsv = cli("contract", "list", "--expiring", "30d").stdout.splitlines()
    assert tsv[0].split("\t")[1] == "b" and tsv[0].split("\t")[-1] == "0"


def test_expiring_needs_whole_days(cli) -> None:
    seed_medisoft(cli)
    for value in ("soon", "12h", "-3d", "1.5d"):
        result = cli("contract", "list", "--expiring", value, code=2)
        assert result.stderr.startswith("deskctl: --expiring"), value


# -- consultancy hours --------------------------------------------------------------------


def test_use_hours_draws_down_and_keeps_a_ledger(cli, monkeypatch) -> None:
    seed_opmon_premium(cli)
    monkeypatch.setenv("DESKCTL_USER", "carla")
    doc = cli.json(
        "contract",
        "use-hours",
        "1",
        "2.5",
        "--note",
        "health check",
        "--at",
        "2026-03-02T14:00:00Z",
    )
    assert (doc["used_now"], doc["used"], doc["balance"]) == ("2.50", "2.50", "7.50")
    cli("contract", "use-hours", "1", "7.5", "--at", "2026-03-09T14:00:00Z")
    hours = cli.json("contract", "hours", "1")
    assert (hours["bought"], hours["used"], hours["balance"]) == ("10.00", "10.00", "0.00")
    assert hours["entries"] == [
        {"at": "2026-03-02T14:00:00Z", "hours": "2.50", "note": "health check", "actor": "carla"},
        {"at": "2026-03-09T14:00:00Z", "hours": "7.50", "note": None, "actor": "carla"},
    ]
    result = cli("contract", "use-hours", "1", "0.25", "--at", "2026-03-10T14:00:00Z", code=1)
    assert result.stderr.strip() == (
        "deskctl: contract 1 has 0.00 consultancy hours left; cannot use 0.25"
    )
    assert len(cli.json("contract", "hours", "1")["entries"]) == 2
    assert "0.00 h left of 10.00" in cli("contract", "hours", "1").stderr
    assert cli.json("contract", "show", "1")["hours"]["balance"] == "0.00"


def test_premium_gets_the_plans_hours_by_default(cli) -> None:
    cli("init", "--policy", str(EXAMPLES / "opmon.toml"))
    cli("customer", "add", "telco", "--name", "Telco SA", "--country", "BR")
    cli("contract", "add", "telco", "--plan", "premium", "--start", "2026-01-01")
    assert cli.json("contract", "hours", "1")["balance"] == "40.00"


def test_use_hours_refusals_write_nothing(cli, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", "2026-05-01T12:00:00Z")
    seed_opmon_premium(cli)
    for args, code, message in (
        (["2", "1"], 1, "contract 2 (pro) has no consultancy hours"),
        (["1", "1", "--at", "2027-01-01T00:00:00Z"], 1, "not in force on 2027-01-01"),
        (["1", "1", "--at", "2025-12-31T23:00:00Z"], 1, "not in force on 2025-12-31"),
        (["1", "10.01"], 1, "has 10.00 consultancy hours left; cannot use 10.01"),
        (["1", "0"], 2, "must be more than 0"),
        (["1", "--", "-2"], 2, "must be more than 0"),
        (["1", "1.255"], 2, "at most two decimals"),
        (["1", "two"], 2, "not a number"),
        (["1", "1", "--at", "noon"], 2, "--at"),
        (["7", "1"], 3, "no contract 7"),
    ):
        result = cli("contract", "use-hours", *args, code=code)
        assert message in result.stderr, args
        assert len(result.stderr.strip().splitlines()) == 1
        assert cli.json("contract", "hours", "1")["entries"] == []
    assert cli("contract", "hours", "7", code=3).stderr.strip() == "deskctl: no contract 7"
    assert cli("contract", "show", "7", code=3).stderr.strip() == "deskctl: no contract 7"
    # the last day of the contract is still in force
    cli("contract", "use-hours", "1", "10", "--at", "2026-12-31T23:59:00Z")


# -- import -------------------------------------------------------------------------------

HEADER = "customer,plan,start,end,activated,license_issued,products,policy\n"


def write(tmp_path: Path, text: str, name: str = "contracts.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def seed_two_policies(cli: Any) -> None:
    seed_medisoft(cli)
    cli("policy", "load", str(EXAMPLES / "imexhs.toml"))
    cli("customer", "add", "clinic", "--name", "Clínica", "--country", "CO", "--policy", "imexhs")
    cli("product", "add", "ris", "--current", "4.1")


def test_import_loads_every_row(cli, store, tmp_path: Path) -> None:
    seed_two_policies(cli)
    path = write(
        tmp_path,
        HEADER
        + "hosp,maintenance,2027-01-01,2027-12-31,,,pacs,medisoft\n"
        + "clinic,8x5,2026-02-01,,2026-02-15,,pacs; ris,\n"
        + 'clinic,24x7,2026-03-01,2026-12-31,2026-03-02,,"ris",imexhs\n',
    )
    doc = cli.json("contract", "import", path)
    assert doc == {"imported": 3, "ids": [2, 3, 4]}
    rows = {r["id"]: r for r in cli.json("contract", "list")}
    assert rows[3]["policy"] == "imexhs" and rows[3]["products"] == ["pacs", "ris"]
    assert rows[4]["end"] == "2026-12-31" and rows[4]["activated"] == "2026-03-02"
    assert rows[2]["products"] == ["pacs"]
    # the imported contract is judged like any other
    check = cli("contract", "check", "clinic", "--at", "2026-02-16T12:00:00Z", "--json")
    assert json.loads(check.stdout)["contract_id"] == 3


def test_import_is_all_or_nothing(cli, store, tmp_path: Path) -> None:
    seed_two_policies(cli)
    good = "".join(f"hosp,maintenance,2030-0{m}-01,,,,pacs,\n" for m in range(1, 6))
    path = write(tmp_path, HEADER + good + "hosp,gold,2031-01-01,,,,,\n")  # line 7
    result = cli("contract", "import", path, code=2)
    assert result.stderr.strip() == (
        f"deskctl: {path}:7: unknown plan 'gold' (policy medisoft: maintenance)"
    )
    assert contract_count(cli) == 1


def test_import_reports_every_bad_line(cli, store, tmp_path: Path) -> None:
    seed_two_policies(cli)
    path = write(
        tmp_path,
        HEADER
        + "hosp,maintenance,2027-01-01,,,,pacs,\n"  # 2 fine
        + "nobody,maintenance,2027-01-01,,,,,\n"  # 3
        + "hosp,maintenance,01/02/2027,,,,,\n"  # 4
        + "hosp,maintenance,2027-05-01,2027-04-01,,,,\n"  # 5
        + "hosp,maintenance,2027-06-01,,,,pacs;xray,\n"  # 6
        + "hosp,maintenance,2027-07-01,,,,,nope\n"  # 7
        + "hosp,maintenance,2027-01-01,,,,,\n"  # 8 repeats line 2
        + "clinic,maintenance,2027-01-01,,,,,\n"  # 9 plan of another policy
        + "hosp,maintenance,,,,,,\n"  # 10
        + "hosp,maintenance,2027-08-01,,,,,,extra\n",
    )  # 11
    result = cli("contract", "import", path, code=2)
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"deskctl: {path}:{n}: {m}"
        for n, m in [
            (3, "unknown customer 'nobody'"),
            (4, "start: not a date (YYYY-MM-DD): '01/02/2027'"),
            (5, "end 2027-04-01 is before start 2027-05-01"),
            (6, "unknown product 'xray'"),
            (7, "unknown policy 'nope'"),
            (8, "repeats the contract of line 2"),
            (9, "unknown plan 'maintenance' (policy imexhs: 8x5, 24x7)"),
            (10, "start is empty"),
            (11, "more fields than columns"),
        ]
    ]
    assert contract_count(cli) == 1


def test_import_refuses_contracts_already_on_file(cli, store, tmp_path: Path) -> None:
    seed_two_policies(cli)
    path = write(tmp_path, HEADER + "hosp,maintenance,2027-01-01,,,,,\n")
    cli("contract", "import", path)
    result = cli("contract", "import", path, code=2)
    assert result.stderr.strip() == (
        f"deskctl: {path}:2: hosp already has a maintenance contract from 2027-01-01 (contract 2)"
    )
    assert contract_count(cli) == 2


def test_import_header_errors(cli, tmp_path: Path) -> None:
    seed_medisoft(cli)
    for text, message in (
        ("", ":1: no header line"),
        ("customer,plan\nhosp,maintenance\n", ":1: missing column 'start'"),
        ("customer,plan,start,licence_issued\n", ":1: unknown column 'licence_issued'"),
        ("customer,plan,start,plan\n", ":1: a column is given twice"),
    ):
        path = write(tmp_path, text)
        result = cli("contract", "import", path, code=2)
        assert result.stderr.startswith(f"deskctl: {path}{message}")
        assert len(result.stderr.strip().splitlines()) == 1
        assert contract_count(cli) == 1


def test_import_accepts_excel_csv_and_column_order(cli, tmp_path: Path) -> None:
    seed_medisoft(cli)
    path = tmp_path / "crm.csv"
    path.write_bytes("\ufeffStart,Customer,Plan\r\n2027-01-01,hosp,maintenance\r\n".encode())
    assert cli.json("contract", "import", str(path)) == {"imported": 1, "ids": [2]}


def test_import_unreadable_file(cli, tmp_path: Path) -> None:
    seed_medisoft(cli)
    result = cli("contract", "import", str(tmp_path / "missing.csv"), code=2)
    assert "cannot read" in result.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        HEADER.encode() + "hosp,maintenance,2027-01-01,,,,,S\xe3o\n".encode("latin-1")
    )
    assert "not UTF-8" in cli("contract", "import", str(latin), code=2).stderr
