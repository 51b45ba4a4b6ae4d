"""A notification's data as a provider template's variables: one row per kind, every
value masked, one line, and within the provider's per-variable limit."""

from __future__ import annotations

import pytest

from services.notifier.rendering import TemplateError
from services.notifier.sms_variables import fit_variable, template_variables


def digest_task(number: int, **overrides: object) -> dict[str, object]:
    task: dict[str, object] = {
        "number": number,
        "member_name": "王芳",
        "rule": "quarterly_visit",
        "window_end": "2026-12-31",
        "overdue_days": 0,
        "done": 0,
        "required": 1,
    }
    task.update(overrides)
    return task


def test_the_digest_names_the_count_the_most_urgent_task_and_where_to_read_the_rest() -> None:
    data = {
        "liaison_name": "张三",
        "as_of": "2026-11-23",
        "tasks": [digest_task(1, overdue_days=5), digest_task(2)],
        "link": "https://l.example.org/d/7",
    }
    assert template_variables("liaison_digest", data) == {
        "name": "张三",
        "count": "2",
        "first": "王芳季度走访（逾期5天）",
        "link": "https://l.example.org/d/7",
    }


def test_a_digest_without_a_link_points_to_the_email() -> None:
    data = {"liaison_name": "张三", "as_of": "2026-11-23", "tasks": [digest_task(1)]}
    variables = template_variables("liaison_digest", data)
    assert variables["first"] == "王芳季度走访（12月31日前）" and variables["link"] == "邮件"


def test_every_shipped_kind_has_variables() -> None:
    event = {
        "member_name": "王芳",
        "event_title": "学习二十大精神",
        "event_type": "theme_day",
        "starts_at_local": "11月25日 09:00",
        "location": None,
        "online_url": "https://meeting.example.org/1",
        "org_name": "红旗村党支部",
        "days_before": 0,
    }
    assert template_variables("event_reminder", event) == {
        "name": "王芳",
        "org": "红旗村党支部",
        "when": "今天（11月25日 09:00）",
        "title": "主题党日活动“学习二十大精神”",
        "place": "https://meeting.example.org/1",
    }
    escalation = {
        "secretary_name": "李书记",
        "org_name": "红旗村党支部",
        "as_of": "2026-11-23",
        "unassigned": [{"member_id": "M1", "member_name": "甲"}],
        "overdue": [],
        "certificates_due": [{"member_name": "乙", "due": "2026-12-01"}] * 2,
    }
    assert template_variables("branch_escalation", escalation) == {
        "name": "李书记",
        "org": "红旗村党支部",
        "findings": "未配联络员1人、待审活动证2本",  # nothing about the 0 overdue tasks
    }


def test_a_long_value_is_cut_to_the_limit_with_an_ellipsis() -> None:
    value = fit_variable("红旗村" * 20)
    assert len(value) == 35 and value.endswith("…") and value.startswith("红旗村红旗村")


def test_values_are_masked_one_line_and_free_of_signature_brackets() -> None:
    value = fit_variable("【通知】请联系\n13812345678")
    assert value == "[通知]请联系 138****5678"


def test_a_missing_field_is_a_template_error_naming_it() -> None:
    with pytest.raises(TemplateError, match="org_name"):
        template_variables("political_birthday", {"member_name": "王芳", "years": 3})


def test_a_kind_without_variables_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="ops_alert"):
        template_variables("ops_alert", {})


def test_a_greeting_sent_on_the_day_says_today_and_one_sent_late_names_the_day() -> None:
    data = {"member_name": "王芳", "years": 16, "org_name": "红旗村党支部"}
    on_the_day = {**data, "anniversary": "2026-11-29", "today": "2026-11-29"}
    late = {**data, "anniversary": "2026-11-29", "today": "2026-12-02"}
    assert template_variables("political_birthday", on_the_day)["day"] == "今天"
    assert template_variables("political_birthday", late)["day"] == "11月29日"


def test_an_event_reminder_sent_later_than_planned_words_the_day_from_the_send_day() -> None:
    planned_three_days_before = {
        "member_name": "王芳",
        "event_title": "学习二十大精神",
        "event_type": "theme_day",
        "event_date": "2026-12-05",
        "starts_time": "19:30",
        "starts_at_local": "2026-12-05 19:30",
        "location": "村委会",
        "online_url": None,
        "org_name": "红旗村党支部",
        "days_before": 3,
        "days_left": 3,
    }
    sent_two_days_before = {**planned_three_days_before, "today": "2026-12-03"}
    sent_three_days_before = {**planned_three_days_before, "today": "2026-12-02"}
    assert template_variables("event_reminder", sent_two_days_before)["when"] == (
        "后天（12月5日）19:30"
    )
    assert template_variables("event_reminder", sent_three_days_before)["when"] == "12月5日19:30"
