"""The words of the liaison's page, in the liaison's locale: Chinese by default, English
for a liaison whose locale is English.

One place for the labels of rules and actions, the page's sentences and the refusal
pages, so the page, its tests and the browser test agree on what a liaison reads. A link
that does not open (forged, expired, revoked) names no liaison, so its refusal is Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import phonenumbers

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class PageWords:
    lang: str
    rules: dict[str, str]
    actions: dict[str, str]
    interactions: dict[str, str]
    #: what a refused request says, by code: (status, title, what to do)
    refusals: dict[str, tuple[int, str, str]]
    notices: dict[str, str]
    text: dict[str, str] = field(default_factory=dict)  #: the page's sentences, by key

    def __getitem__(self, key: str) -> str:
        return self.text[key]

    def day(self, day: date, today: date) -> str:
        """12月31日 / 31 Dec, with the year only when it is not this year's."""
        if self.lang == "en":
            short = f"{day.day} {_EN_MONTHS[day.month - 1]}"
            return short if day.year == today.year else f"{short} {day.year}"
        text = f"{day.month}月{day.day}日"
        return text if day.year == today.year else f"{day.year}年{text}"

    def status(self, overdue_days: int, window_end: date | None, today: date) -> str:
        """How a task stands on `today`: 已逾期N天, 今天到期, 12月31日前 …"""
        if overdue_days > 0:
            if self.lang == "en":
                return f"{overdue_days} day{'s' if overdue_days > 1 else ''} overdue"
            return f"已逾期{overdue_days}天"
        if window_end is None:
            return self["asap"]
        if window_end == today:
            return self["due_today"]
        return self["by"].format(day=self.day(window_end, today))

    def recorded(self, name: str, action: str) -> str:
        return self["recorded"].format(name=name, action=self.actions.get(action, action))


ZH = PageWords(
    lang="zh-CN",
    rules={
        "monthly_contact": "每月联系",
        "quarterly_visit": "季度走访",
        "annual_site_visit": "年度实地走访",
        "frequent_mover_contact": "频繁流动联系",
        "elderly_visits": "高龄走访",
        "key_date_visit": "节点走访",
        "certificate_review": "活动证审核",
        "materials_delivery": "学习资料发放",
        "ledger_verification": "台账核实",
    },
    actions={
        "phone": "已电话联系",
        "home_visit": "已上门走访（家中）",
        "workplace_visit": "已走访（工作地）",
        "delivery": "已发放学习资料",
        "review": "已审核活动证",
    },
    interactions={
        "phone": "电话",
        "sms": "短信",
        "wechat": "微信",
        "visit": "走访",
        "meeting": "见面",
        "other": "其他",
    },
    refusals={
        "forged": (404, "链接无效", "这个链接不完整或不正确。请打开最新一条提醒短信中的链接。"),
        "expired": (
            410,
            "链接已过期",
            "这个链接已过有效期。新的提醒短信会带来新的链接，也可请党组织重新发送。",
        ),
        "revoked": (410, "链接已停用", "这个链接已被党组织停用。如有疑问请联系所在党组织。"),
        "not_configured": (503, "暂未开通", "本系统尚未配置联络员页面，请联系管理员。"),
        "not_yours": (403, "无权登记", "这名党员目前不由您联系，或该任务已不在您的待办中。"),
        "bad_form": (400, "登记未成功", "提交的内容不完整或有误，请返回重新选择。"),
        "photo_too_large": (413, "照片太大", "照片超过大小限制，请换一张较小的照片或不附照片。"),
        "photo_unreadable": (400, "照片无法识别", "只能上传 JPEG、PNG 或 WebP 格式的照片。"),
        "cross_site": (403, "请求被拒绝", "请从联络员页面本身提交登记。"),
    },
    notices={"already": "该任务已登记过，无需重复登记。"},
    text={
        "title": "待办任务 · {name}",
        "heading": "{name}同志的待办",
        "as_of": "截至{day}，",
        "count_before": "共 ",
        "count_after": " 项，按紧急程度排列",
        "nothing": "没有待办",
        "empty": "今天没有待办任务，辛苦了！",
        "call": "拨打电话",
        "last": "上次联系：",
        "last_kind": "（{kind}）",
        "last_none": "暂无记录",
        "progress": "（已完成 {done}/{required}）",
        "campaign": "：{title}",
        "more": "＋ 添加备注或照片（可选）",
        "note": "备注",
        "note_hint": "如：谈心谈话内容、困难诉求",
        "photo": "照片（不超过 {mb} MB）",
        "ledger_only": "请在台账中登记此项。",
        "footer": "本页仅供您本人使用，请勿转发。",
        "expires": "链接有效期至{day}。",
        "recorded": "已登记：{name} {action}",
        "asap": "尽快完成",
        "due_today": "今天到期",
        "by": "{day}前",
        "photo_alert": "照片太大，请换一张较小的照片或不附照片。",
    },
)

EN = PageWords(
    lang="en",
    rules={
        "monthly_contact": "monthly contact",
        "quarterly_visit": "quarterly visit",
        "annual_site_visit": "annual site visit",
        "frequent_mover_contact": "frequent-mover contact",
        "elderly_visits": "elderly visits",
        "key_date_visit": "key-date visit",
        "certificate_review": "certificate review",
        "materials_delivery": "study materials delivery",
        "ledger_verification": "ledger verification",
    },
    actions={
        "phone": "Called",
        "home_visit": "Visited at home",
        "workplace_visit": "Visited at work",
        "delivery": "Materials delivered",
        "review": "Certificate reviewed",
    },
    interactions={
        "phone": "phone",
        "sms": "SMS",
        "wechat": "WeChat",
        "visit": "visit",
        "meeting": "meeting",
        "other": "other",
    },
    refusals={
        **ZH.refusals,
        "not_yours": (
            403,
            "Not yours to record",
            "This member is not currently yours, or the task is no longer open.",
        ),
        "bad_form": (
            400,
            "Not recorded",
            "What was sent is incomplete or wrong; go back and tap again.",
        ),
        "photo_too_large": (
            413,
            "Photo too large",
            "The photo is over the size limit; choose a smaller one or send none.",
        ),
        "photo_unreadable": (400, "Photo not readable", "Send a JPEG, PNG or WebP photo."),
        "cross_site": (403, "Refused", "Record from the liaison page itself."),
    },
    notices={"already": "That task was already recorded; nothing more to do."},
    text={
        "title": "Open tasks · {name}",
        "heading": "{name}'s open tasks",
        "as_of": "As of {day}: ",
        "count_before": "",
        "count_after": " open, most urgent first",
        "nothing": "nothing open",
        "empty": "Nothing open today. Thank you!",
        "call": "Call",
        "last": "Last contact: ",
        "last_kind": " ({kind})",
        "last_none": "none recorded",
        "progress": " ({done}/{required} done)",
        "campaign": ": {title}",
        "more": "+ Add a note or photo (optional)",
        "note": "Note",
        "note_hint": "e.g. what you talked about, any difficulties",
        "photo": "Photo (at most {mb} MB)",
        "ledger_only": "Record this one in the ledger.",
        "footer": "This page is yours alone; do not forward it. ",
        "expires": "The link works until {day}.",
        "recorded": "Recorded: {name}, {action}",
        "asap": "as soon as possible",
        "due_today": "due today",
        "by": "by {day}",
        "photo_alert": "The photo is too large; choose a smaller one or send none.",
    },
)

#: the Chinese words, for code that names no liaison (and the tests)
RULE_LABELS = ZH.rules
ACTION_LABELS = ZH.actions
INTERACTION_LABELS = ZH.interactions
REFUSALS = ZH.refusals


def words_for(locale: str | None) -> PageWords:
    """The page's words for a liaison's locale: English for `en…`, else Chinese."""
    return EN if (locale or "").lower().startswith("en") else ZH


def phone_words(phone: str) -> str:
    """A stored phone as a person reads it: `137 1234 5678` at home, `+44 20 …` abroad."""
    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return phone
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
