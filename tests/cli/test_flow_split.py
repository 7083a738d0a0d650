"""Split (rules §4): sub-tickets are real tickets; the parent waits and resumes by itself."""

from __future__ import annotations

from tests.cli import test_flow as flow
from tests.cli.test_flow import kinds, show, snapshot, ticket_in

fast_cli, imexhs = flow.fast_cli, flow.imexhs  # the shared fixtures


def test_split_end_to_end(store, fast_cli, imexhs, monkeypatch) -> None:
    cli = fast_cli
    parent = ticket_in(cli, imexhs, "in_progress")
    cli("ticket", "update", parent, "--os", "Windows Server 2022")
    cli("agent", "add", "ana", "--name", "Ana")
    cli("ticket", "assign", parent, "--to", "ana")
    out = cli("ticket", "split", parent, "--part", "Viewer crash", "--part", "Slow worklist")
    children = [int(line) for line in out.stdout.split()]
    assert len(children) == 2 and parent not in children

    doc = show(cli, parent)
    assert doc["status"] == "awaiting_subticket"
    assert doc["children"] == children
    assert doc["events"][-1]["data"]["children"] == children
    for child, title in zip(children, ("Viewer crash", "Slow worklist"), strict=True):
        kid = show(cli, child)
        assert (kid["title"], kid["status"], kid["parent_id"]) == (title, "queued", parent)
        for key in ("customer", "contact", "contract_id", "severity", "category", "plan"):
            assert kid[key] == doc[key], key
        assert kid["fields"]["product"] == doc["fields"]["product"]
        assert kid["fields"]["os"] == "Windows Server 2022"
        assert kid["assignee"] is None
        assert kinds(kid) == ["opened", "info_complete"]

    # The parent neither closes nor resumes by hand while a sub-ticket is open.
    before = snapshot()
    closing = cli("ticket", "close", parent, "--outcome", "resolved", code=1)
    assert "ticket is awaiting_subticket" in closing.stderr
    resuming = cli("ticket", "resume", parent, code=1)
    assert f"#{children[0]}" in resuming.stderr
    assert snapshot() == before

    monkeypatch.setenv("DESKCTL_NOW", "2026-03-03T10:00:00Z")
    cli("ticket", "close", children[0], "--outcome", "cancelled", "--reason", "not reproducible")
    doc = show(cli, parent)
    assert doc["status"] == "awaiting_subticket"
    assert kinds(doc)[-1] == "child_closed"

    monkeypatch.setenv("DESKCTL_NOW", "2026-03-04T10:00:00Z")
    cli("ticket", "start", children[1])
    cli("ticket", "resolve", children[1], "--solution", "index rebuilt")
    child_doc = cli.json("ticket", "close", children[1], "--outcome", "resolved")
    assert child_doc["status"] == "closed"
    doc = show(cli, parent)
    assert doc["status"] == "in_progress"
    last, resumed = doc["events"][-2:]
    assert (last["kind"], last["data"]["child"]) == ("child_closed", children[1])
    assert (resumed["kind"], resumed["from"], resumed["to"]) == (
        "resumed",
        "awaiting_subticket",
        "in_progress",
    )
    assert resumed["at"] == "2026-03-04T10:00:00Z"
    assert cli.json("ticket", "close", parent, "--outcome", "resolved")["status"] == "closed"


def test_split_of_a_queued_ticket_starts_it_first(fast_cli, imexhs) -> None:
    parent = ticket_in(fast_cli, imexhs, "queued")
    fast_cli("ticket", "split", parent, "--part", "only one problem")
    doc = show(fast_cli, parent)
    assert [(e["kind"], e["from"], e["to"]) for e in doc["events"][-2:]] == [
        ("started", "queued", "in_progress"),
        ("split", "in_progress", "awaiting_subticket"),
    ]


def test_split_prints_the_parent_with_json(fast_cli, imexhs) -> None:
    parent = ticket_in(fast_cli, imexhs, "in_progress")
    doc = fast_cli.json("ticket", "split", parent, "--part", "a", "--part", "b")
    assert doc["id"] == parent and len(doc["children"]) == 2
    assert doc["status"] == "awaiting_subticket"


def test_a_refused_split_creates_no_sub_ticket(fast_cli, imexhs) -> None:
    draft = ticket_in(fast_cli, imexhs, "draft")
    before = snapshot()
    result = fast_cli("ticket", "split", draft, "--part", "a", "--part", "b", code=1)
    assert "ticket is draft" in result.stderr
    fast_cli("ticket", "split", draft, code=2)  # --part is required
    assert snapshot() == before


def test_closing_a_parent_with_a_reopened_sub_ticket_is_refused(fast_cli, imexhs) -> None:
    cli = fast_cli
    parent = ticket_in(cli, imexhs, "in_progress")
    (child,) = (int(x) for x in cli("ticket", "split", parent, "--part", "one").stdout.split())
    cli("ticket", "close", child, "--outcome", "cancelled")
    assert show(cli, parent)["status"] == "in_progress"
    cli("ticket", "reopen", child)
    before = snapshot()
    result = cli("ticket", "close", parent, "--outcome", "resolved", code=1)
    assert f"#{child}" in result.stderr
    assert snapshot() == before
