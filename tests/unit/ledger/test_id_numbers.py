"""Resident ID numbers: the check digit and a plausible birth date, not the region code."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from shared.ledger.values import InvalidValue, check_id_number


def with_check_digit(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


@pytest.mark.parametrize(
    "first17",
    [
        "34082519760102002",  # 太湖县: a real county missing from python-stdnum's region table
        "34082819760102002",
        "11010519491231002",
        "11010520000229001",  # born on a leap day
    ],
)
def test_a_number_with_a_correct_check_digit_and_a_real_birth_date_is_accepted(
    first17: str,
) -> None:
    number = with_check_digit(first17)
    assert check_id_number(number) == number


def test_a_lowercase_x_check_digit_is_accepted_as_upper_case() -> None:
    number = "11010519491231002X"
    assert ric.calc_check_digit(number) == "X"
    assert check_id_number(number.lower()) == number


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        (with_check_digit("11010519491231002")[:-1] + "9", "wrong check digit"),
        (with_check_digit("11010519491331002"), "not a real date"),
        (with_check_digit("11010519490230002"), "not a real date"),
        (with_check_digit("11010520990101002"), "not plausible"),
        (with_check_digit("11010518890101002"), "not plausible"),
        ("1101051949123100", "18 characters"),
        ("11010519491231002Y", "18 characters"),
    ],
)
def test_a_bad_number_is_refused_with_the_reason(number: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=reason):
        check_id_number(number)
