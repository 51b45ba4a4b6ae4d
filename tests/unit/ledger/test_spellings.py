"""Enum cells as branches write them: codes in any case, Chinese words, combined channels."""

from __future__ import annotations

import pytest

from shared.ledger.kinds import MEMBERS
from shared.ledger.validation import parse_cell
from shared.ledger.values import InvalidValue

CHANNELS = MEMBERS.column("channels")
STATUS = MEMBERS.column("status")


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("SMS", "sms"),
        ("短信", "sms"),
        ("短信+邮件", "sms+email"),
        ("邮件、短信", "sms+email"),
        ("email + sms", "sms+email"),
        ("短信＋企业微信", "sms+wecom"),
        ("企业微信,电子邮件，短信", "sms+email+wecom"),
    ],
)
def test_channels_combine_in_any_order_with_any_separator(cell: str, code: str) -> None:
    assert parse_cell(CHANNELS, cell) == code


@pytest.mark.parametrize("cell", ["+", "短信+传真", "微信", "sms+sms+fax"])
def test_a_channel_that_is_none_of_ours_is_refused(cell: str) -> None:
    with pytest.raises(InvalidValue, match=r"not one of sms \(短信\), email \(邮件\)"):
        parse_cell(CHANNELS, cell)


def test_a_status_word_with_spaces_around_it_is_still_the_word() -> None:
    assert parse_cell(STATUS, " 已返乡 ") == "returned"
