"""Seeding a store through the CLI, the way a user would. Shared by CLI and store tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import EXAMPLES


def seed_medisoft(cli: Any) -> dict[str, str]:
    """Medisoft policy, customer ``hosp`` (BR), named contact, product 6.2, maintenance contract."""
    cli("init", "--policy", str(EXAMPLES / "medisoft.toml"))
    cli("customer", "add", "hosp", "--name", "Hospital São Lucas", "--country", "BR",
        "--vat-rate", "0%")
    cli("contact", "add", "hosp", "ana@hosp.example", "--name", "Ana Souza", "--named")
    cli("product", "add", "pacs", "--current", "6.2")
    cli("contract", "add", "hosp", "--plan", "maintenance", "--start", "2026-01-01",
        "--product", "pacs")
    return {"customer": "hosp", "contact": "ana@hosp.example", "product": "pacs",
            "version": "6.2", "channel": "portal"}


def seed_imexhs(cli: Any, plan: str = "8x5") -> dict[str, str]:
    cli("init", "--policy", str(EXAMPLES / "imexhs.toml"))
    cli("customer", "add", "clinic", "--name", "Clínica Andina", "--country", "CO",
        "--vat-rate", "19%")
    cli("contact", "add", "clinic", "luis@clinic.example", "--name", "Luis", "--named")
    cli("product", "add", "imexhs-ris", "--current", "4.1")
    cli("contract", "add", "clinic", "--plan", plan, "--start", "2026-01-01",
        "--activated", "2026-01-15", "--product", "imexhs-ris")
    return {"customer": "clinic", "contact": "luis@clinic.example", "product": "imexhs-ris",
            "version": "4.1", "channel": "portal"}


def seed_dms(cli: Any) -> dict[str, str]:
    cli("init", "--policy", str(EXAMPLES / "dms.toml"))
    cli("customer", "add", "studio", "--name", "Studio Rossi", "--country", "IT",
        "--vat-rate", "22%")
    cli("contact", "add", "studio", "marco@studio.example", "--name", "Marco", "--named")
    cli("product", "add", "dms", "--current", "10.4")
    cli("contract", "add", "studio", "--plan", "maintenance", "--start", "2026-01-01",
        "--product", "dms")
    return {"customer": "studio", "contact": "marco@studio.example", "product": "dms",
            "version": "10.4", "channel": "email"}


def open_ticket(cli: Any, seed: dict[str, str], title: str = "It broke", *extra: str,
                at: str | None = None) -> int:
    args = ["ticket", "open", "--customer", seed["customer"], "--contact", seed["contact"],
            "--title", title, "--product", seed["product"],
            "--version", seed.get("version", "6.2"), "--channel", seed.get("channel", "portal"),
            "--description", "details", *extra]
    if at:
        args += ["--at", at]
    return int(cli(*args).stdout.strip())
