"""Row validation and problem lines: typed values, spans, masking of personal values."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.ledger.kinds import ASSIGNMENTS, EVENTS, MEMBERS
from shared.ledger.problems import show_value
from shared.ledger.validation import RowValidator, to_utc

ID = "11010519491231002X"


def test_a_valid_member_row_is_typed_and_empty_choices_take_their_default() -> None:
    validator = RowValidator(MEMBERS, ("member_id", "id_number", "join_date", "phone", "status"))
    problems: list[str] = []
    row, ok = validator.validate(
        "members.csv:2",
        {"member_id": 1001.0, "id_number": ID.lower(), "join_date": "1990年7月1日",
         "phone": "138 1234 5678", "status": None},
        problems,
    )  # fmt: skip
    assert ok and problems == []
    assert row == {
        "member_id": "1001",
        "id_number": ID,
        "join_date": date(1990, 7, 1),
        "phone": "+8613812345678",
        "status": "active",
    }


def test_personal_values_are_masked_in_problem_lines() -> None:
    validator = RowValidator(MEMBERS, ("id_number", "phone", "email"))
    problems: list[str] = []
    _, ok = validator.validate(
        "members.csv:7",
        {"id_number": ID[:-1] + "1", "phone": "1381234567890", "email": "zhang.san@@x"},
        problems,
    )
    assert not ok
    assert problems[0] == "members.csv:7: id_number: 110105********0021: wrong check digit"
    assert "1381234567890" not in problems[1] and problems[1].startswith("members.csv:7: phone: ")
    assert problems[2] == "members.csv:7: email: z***@@x: not an email address"


def test_an_assignment_ending_before_it_starts_is_a_problem() -> None:
    problems: list[str] = []
    _, ok = RowValidator(ASSIGNMENTS, ("member_id", "liaison_id", "from", "to")).validate(
        "a.csv:3",
        {"member_id": "M1", "liaison_id": "L1", "from": "2026-03-01", "to": "2026-02-01"},
        problems,
    )
    assert not ok
    assert problems == ["a.csv:3: to: 2026-02-01: before from (2026-03-01)"]


def test_a_required_value_left_empty_and_an_overlong_value_are_problems() -> None:
    problems: list[str] = []
    RowValidator(EVENTS, ("event_id", "org", "title")).validate(
        "events.csv:2", {"event_id": None, "org": "TH", "title": "长" * 201}, problems
    )
    assert problems == [
        "events.csv:2: event_id: : required, but empty",
        f"events.csv:2: title: {'长' * 59}…: longer than 200 characters",
    ]


def test_local_event_times_become_utc_in_the_organizations_time_zone() -> None:
    local = datetime(2026, 3, 10, 9, 0)
    assert to_utc(local, None) == datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    assert to_utc(local, "Europe/Berlin") == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def test_shown_values_stay_on_one_line() -> None:
    assert show_value(None, "第一行\n第二行") == "第一行 第二行"
