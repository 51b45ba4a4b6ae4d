"""The liaison digest SMS stays within its segment budget; the email carries every task."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from services.notifier.rendering import TemplateError, render_message
from services.notifier.segments import count_segments

RULES = ("certificate_review", "monthly_contact", "elderly_visits", "key_date_visit")
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"


def task(number: int, *, member_name: str | None = None) -> dict[str, Any]:
    return {
        "number": number,
        "member_name": member_name or SURNAMES[number % len(SURNAMES)] + "建国",
        "rule": RULES[number % len(RULES)],
        "window_end": "2025-03-31",
        "overdue_days": 12 if number % 3 == 0 else 0,
        "done": 1 if RULES[number % len(RULES)] == "elderly_visits" else 0,
        "required": 2 if RULES[number % len(RULES)] == "elderly_visits" else 1,
    }


def digest(tasks: list[dict[str, Any]], *, liaison_name: str = "李明") -> dict[str, Any]:
    return {"liaison_name": liaison_name, "as_of": "2025-03-10", "tasks": tasks}


def listed_numbers(text: str) -> list[int]:
    """Task numbers at the start of the SMS's lines, in order."""
    return [int(n) for n in re.findall(r"^(\d+)\.", text, flags=re.MULTILINE)]


def test_a_digest_with_40_tasks_stays_within_5_ucs2_segments_and_says_how_many_it_left_out() -> (
    None
):
    tasks = [task(n) for n in range(1, 41)]
    message = render_message("liaison_digest", "sms", "zh-CN", digest(tasks))
    count = count_segments(message.text)
    assert count.encoding == "UCS-2"
    assert message.segments == count.segments <= 5
    listed = listed_numbers(message.text)
    assert listed == list(range(1, len(listed) + 1)), "the most urgent tasks, in their order"
    assert len(listed) >= 5
    summary = re.findall(r"另有 (\d+) 项", message.text)
    assert summary == [str(40 - len(listed))]
    assert "您有40项待办" in message.text, "the header counts every task, listed or not"


def test_the_digest_lists_as_many_tasks_as_the_budget_allows() -> None:
    tasks = [task(n) for n in range(1, 41)]
    for budget in (2, 3, 5, 8):
        text = render_message(
            "liaison_digest", "sms", "zh-CN", digest(tasks), sms_segment_budget=budget
        ).text
        listed = len(listed_numbers(text))
        # One more task (its line is ~20 units, the summary shrinks by at most one digit)
        # would not have fitted: the budget is used, not wasted.
        units_left = budget * 67 - count_segments(text).units
        assert count_segments(text).segments <= budget
        assert units_left < 25, (budget, listed, units_left)


def test_a_digest_with_2_tasks_lists_both_and_no_summary() -> None:
    message = render_message("liaison_digest", "sms", "zh-CN", digest([task(1), task(2)]))
    assert listed_numbers(message.text) == [1, 2]
    assert "另有" not in message.text
    assert "您有2项待办" in message.text


def test_a_digest_whose_first_task_alone_overflows_still_sends_the_summary_within_budget() -> None:
    tasks = [task(1, member_name="欧阳" * 200), task(2), task(3)]
    message = render_message("liaison_digest", "sms", "zh-CN", digest(tasks))
    assert listed_numbers(message.text) == []
    assert "另有 3 项" in message.text
    assert message.segments is not None and message.segments <= 5


def test_the_english_digest_summarises_with_and_n_more() -> None:
    tasks = [task(n) for n in range(1, 41)]
    message = render_message("liaison_digest", "sms", "en", digest(tasks))
    listed = listed_numbers(message.text)
    assert f"and {40 - len(listed)} more" in message.text
    assert message.segments is not None and message.segments <= 5


def test_a_digest_that_cannot_fit_even_without_tasks_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="segment"):
        render_message("liaison_digest", "sms", "zh-CN", digest([task(1)], liaison_name="长" * 400))


def test_the_email_digest_carries_every_task_whatever_the_sms_budget() -> None:
    tasks = [task(n, member_name=f"党员{n:02d}号") for n in range(1, 41)]
    message = render_message(
        "liaison_digest", "email", "zh-CN", digest(tasks), sms_segment_budget=1
    )
    assert message.html is not None
    for n in range(1, 41):
        assert f"党员{n:02d}号" in message.text
        assert f"<td>党员{n:02d}号</td>" in message.html
    assert "另有" not in message.text


def test_the_longest_fitting_prefix_is_found_exactly(tmp_path: Path) -> None:
    # An override whose length is easy to count: 10 GSM-7 septets a task, then "+N".
    (tmp_path / "liaison_digest.sms.zh-CN.j2").write_text(
        "{% for t in tasks %}{{ t.member_name }};{% endfor %}{% if more %}+{{ more }}{% endif %}",
        encoding="utf-8",
    )
    tasks = [task(n, member_name=f"member{n:03d}") for n in range(1, 41)]
    message = render_message(
        "liaison_digest",
        "sms",
        "zh-CN",
        digest(tasks),
        overrides_dir=tmp_path,
        sms_segment_budget=1,
    )
    # 15 tasks + "+25" is 153 septets; 16 tasks + "+24" would be 163 > 160.
    assert message.text == "".join(f"member{n:03d};" for n in range(1, 16)) + "+25"
    assert message.segments == 1
