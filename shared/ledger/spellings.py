"""The Chinese words branches write in enum columns, and the code each one means.

Ledgers are kept by people, in Chinese: a visit is 走访, a member at home again 已返乡.
The importer takes these words as aliases of the contract's codes (exports write the
codes), and docs/ledger.md lists them; a test keeps the two in step. The words come from
the ledger format (ledger-format.md), the labels our own messages use
(services/notifier/templates/_labels.zh-CN.j2) and the seed reports' wording.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

Spellings = tuple[tuple[str, str], ...]  #: (word, code) pairs, in the order documented

INTERACTION_KINDS: Spellings = (
    ("电话", "phone"),
    ("电话联系", "phone"),
    ("短信", "sms"),
    ("微信", "wechat"),
    ("走访", "visit"),
    ("上门走访", "visit"),
    ("家访", "visit"),
    ("会议", "meeting"),
    ("见面", "meeting"),
    ("其他", "other"),
    ("其它", "other"),
)
PLACES: Spellings = (
    ("家中", "home"),
    ("家里", "home"),
    ("工作单位", "workplace"),
    ("单位", "workplace"),
    ("务工地", "workplace"),
    ("其他", "other"),
    ("其它", "other"),
)
STATUSES: Spellings = (
    ("正常", "active"),
    ("已返乡", "returned"),
    ("返乡", "returned"),
    ("已转出", "transferred"),
    ("转出", "transferred"),
    ("已故", "deceased"),
    ("去世", "deceased"),
)
EVENT_TYPES: Spellings = (
    ("支部党员大会", "branch_meeting"),
    ("党员大会", "branch_meeting"),
    ("支委会", "committee_meeting"),
    ("支部委员会", "committee_meeting"),
    ("党小组会", "group_meeting"),
    ("党课", "party_lecture"),
    ("主题党日", "theme_day"),
    ("主题党日活动", "theme_day"),
    ("组织生活", "other"),
    ("其他", "other"),
    ("其它", "other"),
)
#: One channel each; a combination is written with + (or ＋ 、 , ，), e.g. 短信+邮件.
CHANNEL_PARTS: Spellings = (
    ("短信", "sms"),
    ("邮件", "email"),
    ("电子邮件", "email"),
    ("邮箱", "email"),
    ("企业微信", "wecom"),
)

_SEPARATORS = re.compile(r"\s*[+＋、,，/]\s*")


def choice_from_word(text: str, choices: tuple[str, ...], spellings: Spellings) -> str | None:
    """The code `text` means among `choices`: the code itself (any case), a documented
    word, or for combined choices (sms+email) its parts in any order; None if none."""
    lowered = text.strip().lower()
    if lowered in choices:
        return lowered
    words = _by_word(spellings)
    if text.strip() in words:
        return words[text.strip()]
    if not any("+" in c for c in choices):
        return None
    parts = frozenset(words.get(p, p.lower()) for p in _SEPARATORS.split(text.strip()) if p)
    for choice in choices:
        if frozenset(choice.split("+")) == parts:
            return choice
    return None


@cache
def _by_word(spellings: Spellings) -> Mapping[str, str]:
    return dict(spellings)


def first_word(code: str, spellings: Spellings) -> str | None:
    """The word documented first for `code`, shown beside it in problem lines."""
    return next((word for word, c in spellings if c == code), None)
