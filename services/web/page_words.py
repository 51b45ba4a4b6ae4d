"""The words of the liaison's page, in Chinese (the liaison's locale by default).

One place for the labels of rules and actions and the sentences of the refusal pages, so
the page, its tests and the browser test agree on what a liaison reads.
"""

from __future__ import annotations

from datetime import date

import phonenumbers

RULE_LABELS = {
    "monthly_contact": "每月联系",
    "quarterly_visit": "季度走访",
    "annual_site_visit": "年度实地走访",
    "frequent_mover_contact": "频繁流动联系",
    "elderly_visits": "高龄走访",
    "key_date_visit": "节点走访",
    "certificate_review": "活动证审核",
    "materials_delivery": "学习资料发放",
    "ledger_verification": "台账核实",
}

ACTION_LABELS = {
    "phone": "已电话联系",
    "home_visit": "已上门走访（家中）",
    "workplace_visit": "已走访（工作地）",
    "delivery": "已发放学习资料",
    "review": "已审核活动证",
}

INTERACTION_LABELS = {
    "phone": "电话",
    "sms": "短信",
    "wechat": "微信",
    "visit": "走访",
    "meeting": "见面",
    "other": "其他",
}

#: what a refused link or request says: (status, title, what to do)
REFUSALS = {
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
}


def status_words(overdue_days: int, window_end: date | None, today: date) -> str:
    """How a task stands on `today`: 逾期N天, 今天到期, 12月31日前 …"""
    if overdue_days > 0:
        return f"已逾期{overdue_days}天"
    if window_end is None:
        return "尽快完成"
    if window_end == today:
        return "今天到期"
    return f"{day_words(window_end, today)}前"


def day_words(day: date, today: date) -> str:
    """12月31日, with the year only when it is not this year's."""
    text = f"{day.month}月{day.day}日"
    return text if day.year == today.year else f"{day.year}年{text}"


def phone_words(phone: str) -> str:
    """A stored phone as a person reads it: `137 1234 5678` at home, `+44 20 …` abroad."""
    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return phone
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
