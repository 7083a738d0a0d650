"""Scope rules of rules §4 end to end: misuse and its repeats, out of scope, billable services."""

from __future__ import annotations

from typing import Any

from tests.cli import test_flow as flow
from tests.cli.test_flow import kinds, open_ticket, show, snapshot, ticket_in
from tests.factory import seed_dms

fast_cli, imexhs = flow.fast_cli, flow.imexhs  # the shared fixtures


def add_article(cli: Any, key: str = "kb-merge", topic: str = "merge studies") -> None:
    cli(
        "kb",
        "add",
        key,
        "--title",
        "Merging two studies of one patient",
        "--url",
        f"https://kb.example/{key}",
        "--topic",
        topic,
        "--body",
        "Select both studies in the worklist and choose Merge.",
    )


def test_misuse_redirects_and_the_same_case_type_is_refused_next_time(
    store, fast_cli, imexhs
) -> None:
    cli = fast_cli
    add_article(cli)
    first = open_ticket(cli, imexhs, "How do I merge two studies?")

    asked = cli(
        "ticket",
        "triage",
        first,
        "--severity",
        "3",
        "--category",
        "misuse",
        "--topic",
        "merge studies",
        code=2,
    )
    assert "--kb" in asked.stderr and "suggested: kb-merge" in asked.stderr

    doc = cli.json(
        "ticket",
        "triage",
        first,
        "--severity",
        "3",
        "--category",
        "misuse",
        "--topic",
        "Merge Studies",
        "--kb",
        "kb-merge",
    )
    assert (doc["status"], doc["outcome"], doc["category"]) == ("closed", "redirected", "misuse")
    assert kinds(doc)[-2:] == ["triaged", "redirected"]
    assert doc["events"][-1]["data"]["kb_article"] == "kb-merge"

    again = open_ticket(cli, imexhs, "Merging studies again")
    before = snapshot()
    refused = cli("ticket", "triage", again, "--severity", "3", "--topic", "merge  studies", code=1)
    assert f"#{first}" in refused.stderr and "not accepted again" in refused.stderr
    assert snapshot() == before
    # The same refusal whatever category the engineer picks.
    cli(
        "ticket",
        "triage",
        again,
        "--severity",
        "3",
        "--category",
        "misuse",
        "--topic",
        "merge studies",
        "--kb",
        "kb-merge",
        code=1,
    )
    assert snapshot() == before
    # Another case type from the same contact is accepted.
    assert (
        cli.json("ticket", "triage", again, "--severity", "3", "--topic", "worklist filter")[
            "status"
        ]
        == "queued"
    )


def test_the_repeat_rule_is_per_contact(fast_cli, imexhs) -> None:
    cli = fast_cli
    add_article(cli)
    cli("contact", "add", "clinic", "eva@clinic.example", "--name", "Eva", "--named")
    first = open_ticket(cli, imexhs)
    cli(
        "ticket",
        "triage",
        first,
        "--severity",
        "3",
        "--category",
        "misuse",
        "--topic",
        "merge studies",
        "--kb",
        "kb-merge",
    )
    other = open_ticket(cli, {**imexhs, "contact": "eva@clinic.example"})
    doc = cli.json("ticket", "triage", other, "--severity", "3", "--topic", "merge studies")
    assert doc["status"] == "queued"


def test_a_policy_without_the_repeat_rule_accepts_the_case_again(fast_cli) -> None:
    cli = fast_cli
    seed = seed_dms(cli)
    add_article(cli)
    first = open_ticket(cli, seed, "How to merge", "--channel", "email")
    # DMS does not refuse repeats, so no topic is needed.
    cli(
        "ticket",
        "triage",
        first,
        "--severity",
        "normal",
        "--category",
        "misuse",
        "--kb",
        "kb-merge",
    )
    again = open_ticket(cli, seed, "How to merge", "--channel", "email")
    doc = cli.json(
        "ticket",
        "triage",
        again,
        "--severity",
        "normal",
        "--category",
        "misuse",
        "--topic",
        "merge studies",
        "--kb",
        "kb-merge",
    )
    assert doc["outcome"] == "redirected"


def test_misuse_under_a_repeat_policy_needs_the_topic(fast_cli, imexhs) -> None:
    add_article(fast_cli)
    t = open_ticket(fast_cli, imexhs)
    before = snapshot()
    result = fast_cli(
        "ticket", "triage", t, "--severity", "3", "--category", "misuse", "--kb", "kb-merge", code=2
    )
    assert "--topic" in result.stderr
    assert snapshot() == before


def test_redirect_later_closes_redirected_and_remembers_the_pair(fast_cli, imexhs) -> None:
    cli = fast_cli
    add_article(cli)
    t = ticket_in(cli, imexhs, "in_progress")
    doc = cli.json(
        "ticket",
        "redirect",
        t,
        "--kb",
        "kb-merge",
        "--topic",
        "merge studies",
        "--note",
        "a how-to question",
    )
    assert (doc["status"], doc["outcome"], doc["category"]) == ("closed", "redirected", "misuse")
    assert doc["severity"] == "2"  # kept from the earlier triage
    assert [e["kind"] for e in doc["events"][-2:]] == ["triaged", "redirected"]
    later = open_ticket(cli, imexhs)
    cli("ticket", "triage", later, "--severity", "3", "--topic", "merge studies", code=1)


def test_redirect_to_an_unknown_article_is_not_found(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "queued")
    before = snapshot()
    result = fast_cli("ticket", "redirect", t, "--kb", "kb-none", code=3)
    assert "kb-none" in result.stderr
    assert snapshot() == before


def test_out_of_scope_closes_rejected_unless_converted_to_a_billable_service(
    fast_cli, imexhs
) -> None:
    cli = fast_cli
    rejected = open_ticket(cli, imexhs, "Internet is down")
    doc = cli.json("ticket", "triage", rejected, "--severity", "3", "--topic", "internet")
    assert (doc["category"], doc["status"], doc["outcome"]) == (
        "out_of_scope",
        "closed",
        "rejected",
    )
    assert doc["events"][-1]["data"]["reason"] == "out_of_scope"

    billed = open_ticket(cli, imexhs, "Our firewall blocks the viewer")
    doc = cli.json(
        "ticket", "triage", billed, "--severity", "3", "--category", "out_of_scope", "--billable"
    )
    assert (doc["status"], doc["category"]) == ("awaiting_approval", "out_of_scope")
    assert doc["events"][-1]["data"]["billable"] is True
    assert cli.json("ticket", "approve", billed)["status"] == "queued"


def test_a_billable_service_waits_for_the_customers_approval(fast_cli, imexhs) -> None:
    cli = fast_cli
    t = open_ticket(cli, imexhs, "Install the viewer on a new workstation")
    doc = cli.json("ticket", "triage", t, "--severity", "3", "--topic", "equipment-not-in-contract")
    assert (doc["category"], doc["status"]) == ("billable_service", "awaiting_approval")
    cli("ticket", "start", t, code=1)
    doc = cli.json("ticket", "decline", t, "--note", "too expensive")
    assert (doc["status"], doc["outcome"]) == ("closed", "rejected")
    assert doc["events"][-1]["data"]["reason"] == "cost declined"


def test_always_supported_is_queued_like_a_defect(fast_cli, imexhs) -> None:
    t = open_ticket(fast_cli, imexhs, "Licence activation fails")
    doc = fast_cli.json(
        "ticket",
        "triage",
        t,
        "--severity",
        "2",
        "--category",
        "always_supported",
        "--topic",
        "activation",
    )
    assert (doc["category"], doc["status"]) == ("always_supported", "queued")


def test_approve_and_decline_only_for_a_ticket_awaiting_approval(fast_cli, imexhs) -> None:
    t = ticket_in(fast_cli, imexhs, "queued")
    before = snapshot()
    for command in ("approve", "decline"):
        result = fast_cli("ticket", command, t, code=1)
        assert "ticket is queued" in result.stderr
    assert snapshot() == before
    assert show(fast_cli, t)["status"] == "queued"
