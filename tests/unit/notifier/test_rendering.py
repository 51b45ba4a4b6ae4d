"""Rendering each kind per channel and locale: fields, escaping, fallback, overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.notifier.rendering import (
    RenderedMessage,
    TemplateError,
    locale_candidates,
    render_message,
)
from shared.errors import LiaisonError

KINDS = ("liaison_digest", "event_reminder", "political_birthday", "branch_escalation")
LOCALES = ("zh-CN", "en")
#: fields the templates word around when absent: the send day, and a greeting's day
OPTIONAL = ("today", "anniversary")


def sample(kind: str) -> dict[str, Any]:
    """Data for one message of `kind`, with every field the templates document."""
    if kind == "liaison_digest":
        return {
            "liaison_name": "李明",
            "as_of": "2025-03-10",
            "tasks": [
                {
                    "number": 1,
                    "member_name": "张三",
                    "rule": "certificate_review",
                    "window_end": "2025-03-01",
                    "overdue_days": 9,
                    "done": 0,
                    "required": 1,
                },
                {
                    "number": 2,
                    "member_name": "王芳",
                    "rule": "elderly_visits",
                    "window_end": "2025-12-31",
                    "overdue_days": 0,
                    "done": 1,
                    "required": 2,
                },
            ],
        }
    if kind == "event_reminder":
        return {
            "member_name": "王芳",
            "event_title": "学习贯彻党的二十届三中全会精神",
            "event_type": "theme_day",
            "event_date": "2025-03-13",
            "starts_time": "19:30",
            "location": "红旗村党群服务中心",
            "online_url": "https://meeting.example.org/j/42",
            "org_name": "红旗村党支部",
            "today": "2025-03-10",
        }
    if kind == "political_birthday":
        return {
            "member_name": "王芳",
            "years": 12,
            "org_name": "红旗村党支部",
            "anniversary": "2025-03-10",
        }
    assert kind == "branch_escalation"
    return {
        "secretary_name": "赵红",
        "org_name": "红旗村党支部",
        "as_of": "2025-03-10",
        "unassigned": [{"member_id": "M-17", "member_name": "孙七"}],
        "overdue": [
            {
                "member_name": "周八",
                "rule": "quarterly_visit",
                "overdue_days": 20,
                "liaison_name": "李明",
            }
        ],
        "certificates_due": [{"member_name": "吴九", "due": "2025-03-20"}],
    }


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_an_sms_with_its_segment_count(kind: str, locale: str) -> None:
    message = render_message(kind, "sms", locale, sample(kind))
    assert message.subject is None and message.html is None
    assert message.text and message.segments is not None
    assert 1 <= message.segments <= 5
    assert "None" not in message.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_an_email_with_subject_text_and_html(kind: str, locale: str) -> None:
    message = render_message(kind, "email", locale, sample(kind))
    assert message.subject and "\n" not in message.subject
    assert message.text and message.html and message.html.startswith("<!DOCTYPE html>")
    assert f'lang="{locale}"' in message.html
    assert message.segments is None


@pytest.mark.parametrize("channel", ["sms", "email"])
@pytest.mark.parametrize(
    ("kind", "field"),
    [(kind, field) for kind in KINDS for field in sample(kind) if field not in OPTIONAL],
)
def test_a_missing_field_is_a_template_error_naming_it(kind: str, field: str, channel: str) -> None:
    data = sample(kind)
    del data[field]
    with pytest.raises(TemplateError, match=field):
        render_message(kind, channel, "zh-CN", data)


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_a_missing_field_inside_a_task_is_a_template_error_naming_it(channel: str) -> None:
    data = sample("liaison_digest")
    del data["tasks"][1]["member_name"]
    with pytest.raises(TemplateError, match="member_name"):
        render_message("liaison_digest", channel, "zh-CN", data)


def test_a_template_error_is_a_liaison_error() -> None:
    assert issubclass(TemplateError, LiaisonError)


def test_html_is_escaped_but_sms_and_plain_text_are_sent_as_written() -> None:
    data = {**sample("event_reminder"), "event_title": "<b>党课</b> & 讨论"}
    email = render_message("event_reminder", "email", "zh-CN", data)
    sms = render_message("event_reminder", "sms", "zh-CN", data)
    assert email.html is not None
    assert "&lt;b&gt;党课&lt;/b&gt; &amp; 讨论" in email.html
    assert "<b>党课</b> & 讨论" in email.text
    assert "<b>党课</b> & 讨论" in sms.text


def test_an_event_without_place_or_link_leaves_both_lines_out() -> None:
    data = {**sample("event_reminder"), "location": None, "online_url": None}
    for locale in LOCALES:
        sms = render_message("event_reminder", "sms", locale, data)
        email = render_message("event_reminder", "email", locale, data)
        for text in (sms.text, email.text, email.html or ""):
            assert "None" not in text
            assert "地点" not in text and "Where" not in text and "Place" not in text
            assert "https://" not in text


def test_an_event_on_the_day_says_today() -> None:
    data = {**sample("event_reminder"), "today": "2025-03-13"}
    assert "今天" in render_message("event_reminder", "sms", "zh-CN", data).text
    assert "today" in render_message("event_reminder", "sms", "en", data).text
    three_days_before = render_message("event_reminder", "sms", "zh-CN", sample("event_reminder"))
    assert "3月13日19:30" in three_days_before.text and "天后" not in three_days_before.text


def test_a_late_reminder_says_how_far_off_the_event_really_is() -> None:
    # The three-days-before reminder sent the day before (a scheduler back from a stop).
    data = {**sample("event_reminder"), "today": "2025-03-12"}
    zh = render_message("event_reminder", "email", "zh-CN", data)
    en = render_message("event_reminder", "email", "en", data)
    assert "明天" in render_message("event_reminder", "sms", "zh-CN", data).text
    assert "3天后" not in zh.text and "明天" in zh.text and zh.html and "明天" in zh.html
    assert "tomorrow" in en.text and "in 3 days" not in en.text
    assert en.subject and en.subject.startswith("Tomorrow")


def test_rules_are_shown_by_their_label_in_each_locale() -> None:
    data = sample("liaison_digest")
    zh = render_message("liaison_digest", "sms", "zh-CN", data).text
    en = render_message("liaison_digest", "sms", "en", data).text
    assert "活动证审核" in zh and "高龄走访(1/2)" in zh
    assert "certificate review" in en and "elderly visits (1/2)" in en
    assert "certificate_review" not in zh + en


def test_a_rule_without_a_label_is_shown_by_its_code_rather_than_failing() -> None:
    data = sample("liaison_digest")
    data["tasks"][0]["rule"] = "brand_new_rule"
    assert "brand_new_rule" in render_message("liaison_digest", "sms", "zh-CN", data).text


def test_the_digest_tells_the_liaison_how_to_reply() -> None:
    data = sample("liaison_digest")
    assert (
        "回复任务编号如“1 3”即记为已完成"
        in render_message("liaison_digest", "sms", "zh-CN", data).text
    )
    assert (
        'Reply with task numbers, e.g. "1 3", to mark them done'
        in render_message("liaison_digest", "sms", "en", data).text
    )


@pytest.mark.parametrize("locale", ["zh-Hans-CN", "zh", "zh_CN", "zh-cn", "fr", "", "../../x"])
def test_chinese_variants_and_unknown_locales_fall_back_to_zh_cn(locale: str) -> None:
    data = sample("political_birthday")
    expected = render_message("political_birthday", "sms", "zh-CN", data)
    assert render_message("political_birthday", "sms", locale, data) == expected


@pytest.mark.parametrize("locale", ["en-US", "en_GB", "EN"])
def test_english_variants_fall_back_to_en(locale: str) -> None:
    data = sample("political_birthday")
    expected = render_message("political_birthday", "sms", "en", data)
    assert render_message("political_birthday", "sms", locale, data) == expected


def test_locale_candidates_go_from_specific_to_the_default() -> None:
    assert locale_candidates("zh-Hans-CN") == ("zh-Hans-CN", "zh-CN", "zh")
    assert locale_candidates("en_US") == ("en-US", "en", "zh-CN")


def test_an_unknown_kind_or_channel_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="no sms template"):
        render_message("no_such_kind", "sms", "zh-CN", {})
    with pytest.raises(TemplateError, match="channel"):
        render_message("political_birthday", "wechat", "zh-CN", sample("political_birthday"))
    with pytest.raises(TemplateError, match="malformed"):
        render_message("../secrets", "sms", "zh-CN", {})


def test_an_id_number_or_phone_slipped_into_the_data_is_masked() -> None:
    data = {**sample("political_birthday"), "member_name": "王芳 110105199001011234 13812345678"}
    message = render_message("political_birthday", "sms", "zh-CN", data)
    assert "110105199001011234" not in message.text and "13812345678" not in message.text
    assert "110105********1234" in message.text and "138****5678" in message.text


def test_an_override_file_wins_and_other_files_still_come_from_the_package(
    tmp_path: Path,
) -> None:
    (tmp_path / "political_birthday.sms.zh-CN.j2").write_text(
        "{{ org_name }}祝{{ member_name }}同志入党{{ years }}周年快乐", encoding="utf-8"
    )
    data = sample("political_birthday")
    overridden = render_message("political_birthday", "sms", "zh-CN", data, overrides_dir=tmp_path)
    assert overridden == RenderedMessage(None, "红旗村党支部祝王芳同志入党12周年快乐", None, 1)
    shipped = render_message("political_birthday", "sms", "en", data, overrides_dir=tmp_path)
    assert shipped == render_message("political_birthday", "sms", "en", data)


def test_an_override_may_add_a_locale(tmp_path: Path) -> None:
    (tmp_path / "political_birthday.sms.ii.j2").write_text("ꆏꎭ {{ member_name }}", "utf-8")
    data = sample("political_birthday")
    assert render_message(
        "political_birthday", "sms", "ii-CN", data, overrides_dir=tmp_path
    ).text == ("ꆏꎭ 王芳")


@pytest.mark.parametrize(
    "attack",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ member_name.__class__.__base__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_an_override_reaching_for_python_internals_is_a_template_error(
    tmp_path: Path, attack: str
) -> None:
    (tmp_path / "political_birthday.sms.zh-CN.j2").write_text(attack, encoding="utf-8")
    with pytest.raises(TemplateError):
        render_message(
            "political_birthday",
            "sms",
            "zh-CN",
            sample("political_birthday"),
            overrides_dir=tmp_path,
        )


def test_an_override_with_a_syntax_error_is_a_template_error_naming_the_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "political_birthday.sms.zh-CN.j2").write_text("{% if %}", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"political_birthday\.sms\.zh-CN\.j2"):
        render_message(
            "political_birthday",
            "sms",
            "zh-CN",
            sample("political_birthday"),
            overrides_dir=tmp_path,
        )


def test_a_missing_overrides_directory_is_a_template_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="does not exist"):
        render_message(
            "political_birthday",
            "sms",
            "zh-CN",
            sample("political_birthday"),
            overrides_dir=tmp_path / "nowhere",
        )


def test_an_email_part_missing_from_a_locale_is_a_template_error(tmp_path: Path) -> None:
    (tmp_path / "political_birthday.email.ii.txt.j2").write_text("{{ member_name }}", "utf-8")
    with pytest.raises(TemplateError, match=r"political_birthday\.email\.ii\.subject\.j2"):
        render_message(
            "political_birthday",
            "email",
            "ii",
            sample("political_birthday"),
            overrides_dir=tmp_path,
        )
