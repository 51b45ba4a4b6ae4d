"""Two liaisons may not share a phone: an inbound SMS is matched to its liaison by the
number it comes from, so a shared number would make every reply ambiguous."""

from __future__ import annotations

from shared.ledger.kinds import LIAISONS
from shared.ledger.validation import RowValidator


def test_a_second_liaison_with_the_same_phone_is_a_problem() -> None:
    validator = RowValidator(LIAISONS, ("liaison_id", "name", "org", "phone"))
    problems: list[str] = []
    rows = [
        {"liaison_id": "L1", "name": "甲", "org": "A", "phone": "138 1234 5678"},
        {"liaison_id": "L2", "name": "乙", "org": "A", "phone": "+86 13812345678"},
        {"liaison_id": "L3", "name": "丙", "org": "A", "phone": "13912345678"},
    ]
    oks = [
        validator.validate(f"liaisons.csv:{n}", row, problems)[1] for n, row in enumerate(rows, 2)
    ]
    assert oks == [True, False, True]
    assert len(problems) == 1
    assert problems[0].startswith("liaisons.csv:3: phone: ")
    assert "liaisons.csv:2" in problems[0] and "13812345678" not in problems[0]


def test_members_may_share_a_phone() -> None:
    from shared.ledger.kinds import MEMBERS

    validator = RowValidator(MEMBERS, ("member_id", "phone"))
    problems: list[str] = []
    for n, member in enumerate(("M1", "M2"), 2):
        validator.validate(
            f"members.csv:{n}", {"member_id": member, "phone": "13812345678"}, problems
        )
    assert problems == []
