"""The digest carries the link to the liaison's page: the SMS stays within its segment
budget with it (task lines give way, the link never does), the email links it."""

from __future__ import annotations

import re

import pytest

from services.notifier.rendering import render_message
from services.notifier.segments import count_segments
from tests.unit.notifier.test_rendering_digest import digest, listed_numbers, task

LINK = "https://liaison.example.org/p/123456-abcdefghijklmnop"


@pytest.mark.parametrize("budget", [2, 3, 5])
def test_the_sms_with_the_page_link_stays_within_its_budget_dropping_task_lines(
    budget: int,
) -> None:
    tasks = [task(n) for n in range(1, 41)]
    without = render_message(
        "liaison_digest", "sms", "zh-CN", digest(tasks), sms_segment_budget=budget
    )
    with_link = render_message(
        "liaison_digest", "sms", "zh-CN", {**digest(tasks), "link": LINK}, sms_segment_budget=budget
    )
    assert LINK in with_link.text, "the link is never cut"
    assert with_link.segments == count_segments(with_link.text).segments <= budget
    shown, shown_before = listed_numbers(with_link.text), listed_numbers(without.text)
    assert len(shown) < len(shown_before), "task lines made room for the link"
    assert shown == list(range(1, len(shown) + 1))
    assert re.findall(r"另有 (\d+) 项", with_link.text) == [str(40 - len(shown))]


def test_a_short_digest_keeps_every_task_beside_the_link() -> None:
    tasks = [task(1), task(2)]
    message = render_message("liaison_digest", "sms", "zh-CN", {**digest(tasks), "link": LINK})
    assert listed_numbers(message.text) == [1, 2]
    assert f"逐项登记：{LINK}" in message.text
    assert "另有" not in message.text


def test_without_a_link_the_sms_is_as_before() -> None:
    message = render_message("liaison_digest", "sms", "zh-CN", digest([task(1)]))
    assert "逐项登记" not in message.text and "http" not in message.text


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_email_digest_links_the_page(locale: str) -> None:
    message = render_message(
        "liaison_digest", "email", locale, {**digest([task(1), task(2)]), "link": LINK}
    )
    assert LINK in message.text
    assert message.html is not None and f'href="{LINK}"' in message.html
