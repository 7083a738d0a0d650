"""The comeback link of ``domain.comebacks``: the latest solved closing of the group in
an earlier second than the opening, the lowest id within that second."""

from __future__ import annotations

from deskctl.domain.comebacks import NONE, Member, links


def test_a_ticket_comes_back_to_the_latest_solved_closing_before_its_second() -> None:
    group = [
        Member(1, opened=0, closed=100, outcome="resolved"),
        Member(2, opened=10, closed=200, outcome="accepted"),
        Member(3, opened=20, closed=300, outcome="rejected"),  # not solved: never come back to
        Member(4, opened=250, closed=None, outcome=None),
        Member(5, opened=200, closed=None, outcome=None),  # 2 closed in its very second
        Member(6, opened=400, closed=None, outcome=None),
    ]
    found = links(group)
    assert found[1] == (None, NONE, 100)  # 5 came back to it 100 s after
    assert found[2] == (None, NONE, 50)  # 4 first, 50 s after
    assert found[3] == (None, NONE, NONE)
    assert found[4] == (2, 50, NONE)
    assert found[5] == (1, 100, NONE)
    assert found[6] == (2, 200, NONE)


def test_of_closings_in_one_second_the_lowest_id_is_come_back_to() -> None:
    group = [
        Member(9, opened=0, closed=50, outcome="resolved"),
        Member(7, opened=1, closed=50, outcome="resolved"),
        Member(8, opened=2, closed=49, outcome="resolved"),
        Member(10, opened=60, closed=None, outcome=None),
    ]
    found = links(group)
    assert found[10] == (7, 10, NONE)
    assert found[9][2] == found[8][2] == NONE
    assert found[7][2] == 10
