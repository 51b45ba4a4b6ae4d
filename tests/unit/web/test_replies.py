"""The reply parser: task numbers in every spelling, opt-out and opt-in words, the rest."""

from __future__ import annotations

import pytest

from services.web.replies import parse_reply


@pytest.mark.parametrize(
    "body",
    ["1 3", "１ ３", "1,3", "1，3", "完成 1 3", "完成1、3", " 1  3 ", "done 1 3", "1;3", "1 3 1"],
)
def test_task_numbers_are_read_in_every_spelling(body: str) -> None:
    reply = parse_reply(body)
    assert (reply.kind, reply.numbers) == ("done", (1, 3))


@pytest.mark.parametrize("body", ["TD", "td", "T", "退订", "STOP", "Stop", "ＴＤ", "unsubscribe"])
def test_opt_out_words_opt_out(body: str) -> None:
    assert parse_reply(body).kind == "opt_out"


@pytest.mark.parametrize("body", ["START", "start", "订阅", "UNSTOP"])
def test_opt_in_words_opt_in(body: str) -> None:
    assert parse_reply(body).kind == "opt_in"


@pytest.mark.parametrize("body", ["", "好的", "1 x", "0", "1000", "-1", "完成", "TDX", "1.5x"])
def test_anything_else_is_not_understood(body: str) -> None:
    assert parse_reply(body).kind == "unknown"


def test_chinese_words_are_answered_in_chinese() -> None:
    assert parse_reply("退订").chinese and parse_reply("TD").chinese
    assert not parse_reply("STOP").chinese
