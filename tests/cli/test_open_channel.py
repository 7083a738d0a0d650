"""`ticket open` without --channel opens on the policy's channel, not a hard-coded portal."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLES
from tests.factory import seed_dms, seed_imexhs, seed_medisoft


def _open(cli, seed: dict[str, str], *extra: str) -> dict:
    return cli.json("ticket", "open", "--customer", seed["customer"], "--contact",
                    seed["contact"], "--title", "It broke", "--product", seed["product"],
                    "--version", seed["version"], "-d", "details", *extra)


def _eml(tmp_path: Path, sender: str) -> str:
    path = tmp_path / "mail.eml"
    path.write_text(f"From: {sender}\nSubject: Viewer crashes\n\nIt crashes.\n")
    return str(path)


def test_dms_opens_on_its_first_channel(cli) -> None:
    assert _open(cli, seed_dms(cli))["channel"] == "email"


def test_channel_option_overrides_the_default(cli) -> None:
    assert _open(cli, seed_dms(cli), "--channel", "phone")["channel"] == "phone"


def test_explicit_default_channel_in_the_policy(cli, tmp_path: Path) -> None:
    text = (EXAMPLES / "medisoft.toml").read_text()
    text = text.replace('channels = ["portal", "email", "phone"]',
                        'channels = ["portal", "email", "phone"]\ndefault_channel = "phone"', 1)
    seed = seed_medisoft(cli)
    policy = tmp_path / "medisoft.toml"
    policy.write_text(text)
    cli("policy", "load", str(policy))
    assert _open(cli, seed)["channel"] == "phone"


def test_default_channel_must_be_a_channel(cli, tmp_path: Path) -> None:
    text = (EXAMPLES / "dms.toml").read_text()
    text = text.replace('channels = ["email", "phone", "remote"]',
                        'channels = ["email", "phone", "remote"]\ndefault_channel = "fax"', 1)
    policy = tmp_path / "dms.toml"
    policy.write_text(text)
    result = cli("policy", "load", str(policy), code=2)
    assert "default_channel" in result.stderr and "'fax'" in result.stderr


def test_from_eml_opens_on_email_when_the_plan_takes_it(cli, tmp_path: Path) -> None:
    seed = seed_medisoft(cli)
    doc = _open(cli, seed, "--from-eml", _eml(tmp_path, seed["contact"]))
    assert doc["channel"] == "email"


def test_from_eml_without_email_channel_opens_on_the_policy_default(cli, tmp_path) -> None:
    seed = seed_imexhs(cli)  # IMEXHS: portal, whatsapp, chatbot, phone
    doc = _open(cli, seed, "--from-eml", _eml(tmp_path, seed["contact"]))
    assert doc["channel"] == "portal"


def test_from_eml_with_channel_option_takes_the_option(cli, tmp_path: Path) -> None:
    seed = seed_medisoft(cli)
    doc = _open(cli, seed, "--from-eml", _eml(tmp_path, seed["contact"]), "--channel", "phone")
    assert doc["channel"] == "phone"
