"""Every message says only what is true on the day it is sent.

Each scenario is one message as the planner builds it, sent on a given day (on time, or
caught up 1-3 days late), around the dates where wording goes wrong: a month end, the leap
day, the Spring Festival, a year boundary. It is rendered for every locale and channel, and
every part (SMS body; email subject, text and HTML) is read back against the facts:

- every date it names (`12月5日`, `2027年1月2日`, `Dec 5`, `Jan 2, 2027`) is one of the data's;
- 今天/明天/后天 and today/tomorrow only when exact relative to the send day;
- no ISO date inside Chinese text, no `0人`-style clause, no `(s)` in English;
- the member SMS say how to opt out, and each SMS fits its segment budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from services.notifier.rendering import render_message
from services.notifier.segments import count_segments

LOCALES = ("zh-CN", "en")
CHANNELS = ("sms", "email", "wecom")
SMS_BUDGET = 5  #: segments (the default `sms_segment_budget`)
OPT_OUT = {"zh-CN": "回复TD退订", "en": "Reply STOP to opt out"}
MEMBER_KINDS = {"event_reminder", "political_birthday"}
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str
    data: dict[str, Any]
    today: date  #: the local day the message is sent
    dates: frozenset[date]  #: the dates the message may name
    anchor: date | None = None  #: the day relative words may refer to (event, anniversary)
    #: phrases per locale ("en") or per locale and channel ("en/sms")
    must_say: dict[str, tuple[str, ...]] = field(default_factory=dict)
    must_not_say: dict[str, tuple[str, ...]] = field(default_factory=dict)


def greeting(name: str, anniversary: date, sent: date, years: int = 12) -> Scenario:
    data = {
        "member_name": "王芳",
        "years": years,
        "org_name": "红旗村党支部",
        "anniversary": anniversary.isoformat(),
        "planned_on": anniversary.isoformat(),
        "today": sent.isoformat(),
    }
    en_years = "1 year" if years == 1 else f"{years} years"
    return Scenario(
        name,
        "political_birthday",
        data,
        sent,
        frozenset({anniversary}),
        anchor=anniversary,
        must_say={"zh-CN": (f"入党{years}周年",), "en": (en_years,)},
    )


def event(name: str, local_start: str, days_before: int, planned: date, sent: date) -> Scenario:
    day = date.fromisoformat(local_start[:10])
    data = {
        "member_name": "王芳",
        "event_id": "E-1",
        "event_title": "学习贯彻党的二十届三中全会精神",
        "event_type": "theme_day",
        "starts_at_local": local_start,
        "event_date": day.isoformat(),
        "starts_time": local_start[11:16],
        "location": "红旗村党群服务中心",
        "online_url": None,
        "org_name": "新仓镇党委",
        "days_before": days_before,
        "days_left": (day - planned).days,
        "planned_on": planned.isoformat(),
        "today": sent.isoformat(),
    }
    return Scenario(
        name,
        "event_reminder",
        data,
        sent,
        frozenset({day}),
        anchor=day,
        must_say={"zh-CN": (local_start[11:16],), "en": (local_start[11:16],)},
    )


def task(
    number: int,
    rule: str,
    start: date,
    end: date,
    overdue: int = 0,
    done: int = 0,
    required: int = 1,
    cadence_days: int | None = None,
    last_contact: date | None = None,
) -> dict[str, Any]:
    return {
        "number": number,
        "member_id": f"M-{number}",
        "member_name": f"党员{number}",
        "rule": rule,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "overdue_days": overdue,
        "done": done,
        "required": required,
        "cadence_days": cadence_days,
        "last_contact": last_contact.isoformat() if last_contact else None,
    }


def mover(number: int, as_of: date, last: date | None) -> dict[str, Any]:
    """A frequent mover's task exactly as the rolling rule computes it on `as_of`."""
    overdue = max(0, (as_of - (last + timedelta(days=14))).days) if last else 0
    return task(
        number,
        "frequent_mover_contact",
        as_of - timedelta(days=13),
        as_of,
        overdue=overdue,
        cadence_days=14,
        last_contact=last,
    )


def digest(name: str, as_of: date, tasks: list[dict[str, Any]], **extra: Any) -> Scenario:
    named = {as_of}
    for t in tasks:
        named |= {date.fromisoformat(t["window_end"]), date.fromisoformat(t["window_start"])}
        if t["last_contact"]:
            named.add(date.fromisoformat(t["last_contact"]))
    data = {"liaison_name": "李明", "as_of": as_of.isoformat(), "tasks": tasks}
    return Scenario(name, "liaison_digest", data, as_of, frozenset(named), **extra)


def escalation(
    name: str,
    as_of: date,
    *,
    unassigned: int = 0,
    overdue: int = 0,
    certificates: tuple[date, ...] = (),
    threshold: int = 14,
    **extra: Any,
) -> Scenario:
    data = {
        "secretary_name": "赵红",
        "org_name": "红旗村党支部",
        "as_of": as_of.isoformat(),
        "overdue_threshold_days": threshold,
        "unassigned": [
            {"member_id": f"M-{i}", "member_name": f"党员{i}"} for i in range(unassigned)
        ],
        "overdue": [
            {
                "member_name": f"党员{i}",
                "rule": "quarterly_visit",
                "overdue_days": threshold + 5,
                "liaison_name": None if i else "李明",
            }
            for i in range(overdue)
        ],
        "certificates_due": [
            {"member_name": f"党员{i}", "due": d.isoformat()} for i, d in enumerate(certificates)
        ],
    }
    return Scenario(
        name, "branch_escalation", data, as_of, frozenset({as_of, *certificates}), **extra
    )


D = date
SCENARIOS = [
    greeting("greeting on the day", D(2026, 11, 29), D(2026, 11, 29)),
    greeting("greeting a day late, across the month end", D(2026, 11, 30), D(2026, 12, 1)),
    greeting("greeting two days late", D(2026, 11, 29), D(2026, 12, 1)),
    greeting("greeting three days late", D(2026, 11, 29), D(2026, 12, 2)),
    greeting("greeting for a leap-day joiner in a common year", D(2027, 2, 28), D(2027, 2, 28)),
    greeting("greeting for a leap-day joiner a day late", D(2027, 2, 28), D(2027, 3, 1)),
    greeting("greeting on the leap day itself", D(2028, 2, 29), D(2028, 2, 29)),
    greeting("greeting late across the year boundary", D(2026, 12, 31), D(2027, 1, 2)),
    greeting("greeting after one year", D(2026, 12, 1), D(2026, 12, 1), years=1),
    event("reminder 3 days before", "2026-12-05 19:30", 3, D(2026, 12, 2), D(2026, 12, 2)),
    event("reminder a day late", "2026-12-05 19:30", 3, D(2026, 12, 2), D(2026, 12, 3)),
    event("reminder two days late", "2026-12-05 19:30", 3, D(2026, 12, 2), D(2026, 12, 4)),
    event("reminder on the morning", "2026-12-05 19:30", 0, D(2026, 12, 5), D(2026, 12, 5)),
    event("reminder across the month end", "2026-12-01 09:00", 3, D(2026, 11, 28), D(2026, 11, 28)),
    event(
        "late reminder across the month end",
        "2026-12-01 09:00",
        3,
        D(2026, 11, 28),
        D(2026, 11, 30),
    ),
    event(
        "reminder across the year boundary", "2027-01-02 09:00", 3, D(2026, 12, 30), D(2026, 12, 30)
    ),
    event("late reminder across the year", "2027-01-02 09:00", 3, D(2026, 12, 30), D(2026, 12, 31)),
    event(
        "reminder after the Spring Festival", "2027-02-10 09:00", 3, D(2027, 2, 7), D(2027, 2, 9)
    ),
    event("reminder for the leap day", "2028-02-29 14:00", 3, D(2028, 2, 26), D(2028, 2, 26)),
    event("late reminder for the leap day", "2028-02-29 14:00", 3, D(2028, 2, 26), D(2028, 2, 28)),
    digest(
        "digest with a long-lapsed frequent mover",
        D(2026, 12, 2),
        [
            mover(1, D(2026, 12, 2), D(2026, 8, 16)),
            task(2, "certificate_review", D(2026, 11, 9), D(2026, 11, 23), overdue=9),
            mover(3, D(2026, 12, 2), None),
            task(4, "elderly_visits", D(2026, 1, 1), D(2026, 12, 31), done=1, required=2),
            task(5, "monthly_contact", D(2026, 12, 1), D(2026, 12, 31)),
        ],
        must_say={"zh-CN": ("每14天", "8月16日"), "en": ("every 14 days", "Aug 16")},
        must_not_say={"zh-CN": ("逾期104天", "逾期 104 天"), "en": ("104 days overdue",)},
    ),
    digest(
        "digest of a frequent mover last seen exactly 14 days ago",
        D(2026, 12, 2),
        [mover(1, D(2026, 12, 2), D(2026, 11, 18))],
        must_not_say={"zh-CN": ("逾期",), "en": ("overdue",)},
    ),
    digest(
        "digest on the last day of the year",
        D(2026, 12, 31),
        [
            task(1, "monthly_contact", D(2026, 12, 1), D(2026, 12, 31)),
            task(2, "certificate_review", D(2026, 12, 22), D(2027, 1, 5)),
        ],
        must_say={"zh-CN": ("2027年1月5日前",), "en": ("Jan 5, 2027",)},
    ),
    digest(
        "digest on the leap day",
        D(2028, 2, 29),
        [task(1, "monthly_contact", D(2028, 2, 1), D(2028, 2, 29))],
        must_say={"zh-CN": ("2月29日前",), "en": ("Feb 29",)},
    ),
    digest(
        "digest in the Spring Festival window",
        D(2027, 2, 1),
        [task(1, "key_date_visit", D(2027, 1, 30), D(2027, 2, 13))],
        must_say={"zh-CN": ("2月13日前",), "en": ("Feb 13",)},
    ),
    escalation(
        "escalation with only unassigned members",
        D(2026, 11, 30),
        unassigned=2,
        must_say={"zh-CN": ("2人",), "en/sms": ("2 members",), "en/email": ("(2)",)},
    ),
    escalation(
        "escalation with an organization's own overdue threshold",
        D(2026, 11, 30),
        overdue=1,
        threshold=21,
        must_say={"zh-CN": ("21天",), "en": ("21 days",)},
        must_not_say={"zh-CN": ("14天",), "en": ("14 days",)},
    ),
    escalation(
        "escalation across the year boundary",
        D(2027, 1, 4),
        unassigned=1,
        overdue=2,
        certificates=(D(2026, 12, 28),),
        must_say={"zh-CN/email": ("2026年12月28日",), "en/email": ("Dec 28, 2026",)},
    ),
]

ZH_DATE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日")
EN_DATE = re.compile(r"\b(" + "|".join(EN_MONTHS) + r") (\d{1,2})(?:, (\d{4}))?")
ISO_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
ZH_ZERO = re.compile(r"(?<![\d./:])0\s*(人|项|本|天|名)")
EN_ZERO = re.compile(r"(?<![\d./:,])\b0 [a-z]")
ZH_RELATIVE = {"今天": 0, "明天": 1, "后天": 2}
EN_RELATIVE = {"today": 0, "tomorrow": 1}


def rendered_parts(scenario: Scenario, locale: str, channel: str) -> dict[str, str]:
    message = render_message(scenario.kind, channel, locale, scenario.data)
    if channel in ("sms", "wecom"):
        return {channel: message.text}
    assert message.subject is not None and message.html is not None
    return {
        "subject": message.subject,
        "text": message.text,
        "html": re.sub(r"<[^>]+>", " ", message.html.split("<body", 1)[-1]),
    }


def named_dates(text: str, locale: str, today: date) -> set[date]:
    if locale == "zh-CN":
        return {
            date(int(y) if y else today.year, int(m), int(d)) for y, m, d in ZH_DATE.findall(text)
        }
    return {
        date(int(y) if y else today.year, EN_MONTHS.index(m) + 1, int(d))
        for m, d, y in EN_DATE.findall(text)
    }


def relative_words(text: str, locale: str) -> dict[str, int]:
    if locale == "zh-CN":
        return {w: n for w, n in ZH_RELATIVE.items() if w in text}
    lowered = text.lower()
    return {w: n for w, n in EN_RELATIVE.items() if re.search(rf"\b{w}\b", lowered)}


CASES = [
    pytest.param(s, locale, channel, id=f"{s.name}-{locale}-{channel}")
    for s in SCENARIOS
    for locale in LOCALES
    for channel in CHANNELS
]


@pytest.mark.parametrize(("scenario", "locale", "channel"), CASES)
def test_every_message_states_only_what_is_true_on_the_day_it_is_sent(
    scenario: Scenario, locale: str, channel: str
) -> None:
    parts = rendered_parts(scenario, locale, channel)
    whole = "\n".join(parts.values())
    assert parts and all(parts.values())  # something was rendered to check
    for part, text in parts.items():
        where = f"{part}: {text!r}"
        assert named_dates(text, locale, scenario.today) <= scenario.dates, where
        for word, offset in relative_words(text, locale).items():
            assert scenario.anchor is not None, f"{word!r} refers to nothing in {where}"
            assert scenario.anchor - scenario.today == timedelta(days=offset), (word, where)
        if locale == "zh-CN":
            assert not ISO_DATE.search(text), where
            assert not ZH_ZERO.search(text), where
        else:
            assert not ISO_DATE.search(text), where
            assert not EN_ZERO.search(text), where
            assert "(s)" not in text, where
        assert "None" not in text, where
    said = (*scenario.must_say.get(locale, ()), *scenario.must_say.get(f"{locale}/{channel}", ()))
    for phrase in said:
        assert phrase in whole, (phrase, whole)
    for phrase in scenario.must_not_say.get(locale, ()):
        assert phrase not in whole, (phrase, whole)


@pytest.mark.parametrize(
    ("scenario", "locale"),
    [pytest.param(s, loc, id=f"{s.name}-{loc}") for s in SCENARIOS for loc in LOCALES],
)
def test_every_sms_fits_its_budget_and_a_member_sms_says_how_to_opt_out(
    scenario: Scenario, locale: str
) -> None:
    text = rendered_parts(scenario, locale, "sms")["sms"]
    assert count_segments(text).segments <= SMS_BUDGET, text
    assert "\n\n" not in text, f"a blank line costs units and says nothing: {text!r}"
    if scenario.kind in MEMBER_KINDS:
        assert OPT_OUT[locale] in text, text
    else:
        assert OPT_OUT[locale] not in text, text


@pytest.mark.parametrize("sent", [D(2026, 11, 29), D(2026, 12, 2)])
def test_a_greeting_sent_late_names_the_date_instead_of_today(sent: date) -> None:
    s = greeting("", D(2026, 11, 29), sent)
    text = rendered_parts(s, "zh-CN", "sms")["sms"]
    if sent == D(2026, 11, 29):
        assert "今天是您的政治生日" in text
    else:
        assert "11月29日是您的政治生日" in text and "今天" not in text


def test_the_english_greeting_with_a_chinese_name_fits_one_gsm_segment() -> None:
    text = rendered_parts(greeting("", D(2026, 11, 29), D(2026, 11, 29)), "en", "sms")["sms"]
    count = count_segments(text)
    assert (count.encoding, count.segments) == ("GSM-7", 1), text


def test_the_english_greeting_keeps_a_latin_name() -> None:
    s = greeting("", D(2026, 11, 29), D(2026, 11, 29))
    data = {**s.data, "member_name": "Wang Fang"}
    text = render_message("political_birthday", "sms", "en", data).text
    assert "Wang Fang" in text and count_segments(text).segments == 1, text


def test_the_send_day_given_to_the_renderer_wins_over_the_planned_day() -> None:
    s = event("", "2026-12-05 19:30", 3, D(2026, 12, 2), D(2026, 12, 2))
    data = {k: v for k, v in s.data.items() if k != "today"}
    planned = render_message("event_reminder", "sms", "zh-CN", data).text
    sent = render_message("event_reminder", "sms", "zh-CN", data, today=D(2026, 12, 4)).text
    assert "12月5日" in planned and "明天" not in planned
    assert "明天" in sent


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("channel", CHANNELS)
def test_a_task_without_an_end_date_names_no_date(locale: str, channel: str) -> None:
    # A study campaign without an end date: its materials_delivery window is open-ended.
    line = task(1, "materials_delivery", D(2026, 11, 1), D(2026, 11, 1))
    line["window_end"] = None
    s = Scenario(
        "",
        "liaison_digest",
        {"liaison_name": "李明", "as_of": "2026-12-02", "tasks": [line]},
        D(2026, 12, 2),
        frozenset({D(2026, 12, 2)}),
    )
    whole = "\n".join(rendered_parts(s, locale, channel).values())
    assert ("尽快完成" if locale == "zh-CN" else "as soon as possible") in whole
    assert named_dates(whole, locale, s.today) <= s.dates


def test_the_escalation_leaves_out_the_clauses_with_nothing_to_say() -> None:
    s = escalation("", D(2026, 11, 30), unassigned=2)
    sms = rendered_parts(s, "zh-CN", "sms")["sms"]
    email = rendered_parts(s, "zh-CN", "email")["text"]
    assert "未配联络员的流动党员2人" in sms
    assert "逾期" not in sms and "活动证" not in sms
    assert "逾期" not in email and "活动证" not in email


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("channel", CHANNELS)
def test_a_greeting_that_does_not_know_its_day_makes_no_claim_about_the_day(
    locale: str, channel: str
) -> None:
    # A greeting created without `anniversary` (before it was stored, or by hand).
    data = {"member_name": "Wang Fang", "years": 12, "org_name": "Hongqi Branch"}
    s = Scenario("", "political_birthday", data, D(2026, 12, 2), frozenset(), anchor=None)
    whole = "\n".join(rendered_parts(s, locale, channel).values())
    assert "12" in whole
    assert not relative_words(whole, locale) and not named_dates(whole, locale, s.today)
