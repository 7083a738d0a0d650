"""``sla refresh --all`` links a store whose tickets have no comeback links yet (an
upgrade to 0016; ``demo`` writes them itself), and the findings read from the links then equal the
findings the window computes without them."""

from __future__ import annotations

from typing import Any

import pytest

NOW = "2026-06-30T12:00:00Z"
YEAR = ("--from", "2025-07-01", "--to", "2026-06-30", "--recur-days", "60", "--limit", "0")


@pytest.mark.parametrize("bulk", [False, True])
def test_refresh_all_links_a_store_without_links(
    cli: Any, store: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    from sqlalchemy import inspect, update

    from deskctl.store import comebacks, db
    from deskctl.store.models import Ticket

    if bulk:  # the two indexes holding the links dropped and built again around the writes
        monkeypatch.setattr(comebacks, "_BATCH", 1)
    if store == "sqlite":
        monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "demo.db"))
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    cli.json("demo", "--tickets", "300", "--seed", "5", "--json")
    with db.session(db.ready_engine(), write=True) as s:
        assert comebacks.missing(s) == 0  # demo links its tickets ...
        assert comebacks.fill(s) == 0  # ... as the rule does
        s.execute(update(Ticket).values(comeback_id=None, comeback_gap=None, comeback_next=None))
        assert comebacks.missing(s) > 100  # as a store just upgraded to 0016
    windowed = cli.json("report", "findings", *YEAR)
    cli("sla", "refresh", "--all")
    with db.session(db.ready_engine()) as s:
        assert comebacks.missing(s) == 0
        assert comebacks.fill(s) == 0  # nothing left to correct
    linked = cli.json("report", "findings", *YEAR)
    roots = [f for f in linked["findings"] if f["kind"] == "root_cause"]
    assert roots and any(f["evidence"]["recurrences"] for f in roots)
    assert {**linked, "generated_at": None} == {**windowed, "generated_at": None}
    names = {ix["name"] for ix in inspect(db.ready_engine()).get_indexes("ticket")}
    assert {"ix_ticket_findings_opened", "ix_ticket_findings_closed"} <= names


def test_a_fill_between_a_load_and_its_index_builds_leaves_the_indexes_to_the_loader(
    cli: Any, store: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``demo`` drops every index while it loads and builds them at the end: the fill it
    calls in between must not build (or fail to drop) the two that hold the links."""
    from sqlalchemy import inspect, update

    from deskctl.store import comebacks, db
    from deskctl.store.models import Ticket, table_of

    monkeypatch.setattr(comebacks, "_BATCH", 1)
    if store == "sqlite":
        monkeypatch.setenv("DESKCTL_DB", str(tmp_path / "demo.db"))
    monkeypatch.setenv("DESKCTL_NOW", NOW)
    cli.json("demo", "--tickets", "120", "--seed", "5", "--json")
    held = [ix for ix in table_of(Ticket).indexes if ix.name in comebacks.INDEXES]
    with db.session(db.ready_engine(), write=True) as s:
        s.execute(update(Ticket).values(comeback_id=None, comeback_gap=None, comeback_next=None))
        for ix in held:
            ix.drop(s.connection())
        assert comebacks.fill(s) > 0
        assert comebacks.missing(s) == 0
        names = {ix["name"] for ix in inspect(s.connection()).get_indexes("ticket")}
        assert not names & set(comebacks.INDEXES)
        for ix in held:
            ix.create(s.connection())
