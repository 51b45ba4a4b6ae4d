"""Every word the human formats of `due`, `report` and `export` print, in each language.

One catalogue, so that a column is called the same in the terminal and in a workbook and
a rule has one name everywhere: the rule names are the ones the reminders use
(`services/notifier/templates/_labels.*.j2`; a test holds the two together). Machine
formats (csv, jsonl) never pass through here: they keep the contract's codes
(ledger-format.md).

The language is `--lang`, else `LIAISON_LANG`, else the locale (`LC_ALL`, then `LANG`)
when it starts with `zh` or `en`, else zh-CN. Organizations have no language of their own
in the ledger (the organizations kind has no locale column, and every one of them is a
Chinese party organization), so "the organization's language" is zh-CN, which is also
the default when nothing is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Annotated, Literal

import typer

Lang = Literal["zh-CN", "en"]
LANGS: tuple[Lang, ...] = ("zh-CN", "en")
DEFAULT_LANG: Lang = "zh-CN"

RULES: dict[str, dict[Lang, str]] = {
    "monthly_contact": {"zh-CN": "每月联系", "en": "monthly contact"},
    "quarterly_visit": {"zh-CN": "季度走访", "en": "quarterly visit"},
    "annual_site_visit": {"zh-CN": "年度实地走访", "en": "annual site visit"},
    "frequent_mover_contact": {"zh-CN": "频繁流动联系", "en": "frequent-mover contact"},
    "elderly_visits": {"zh-CN": "高龄走访", "en": "elderly visits"},
    "key_date_visit": {"zh-CN": "节点走访", "en": "key-date visit"},
    "certificate_review": {"zh-CN": "活动证审核", "en": "certificate review"},
    "materials_delivery": {"zh-CN": "学习资料发放", "en": "study materials delivery"},
    "ledger_verification": {"zh-CN": "台账核实", "en": "ledger verification"},
}

WORDS: dict[str, dict[Lang, str]] = {
    # the due listing's columns
    "liaison": {"zh-CN": "联络员", "en": "liaison"},
    "liaison_id": {"zh-CN": "联络员编号", "en": "liaison id"},
    "member": {"zh-CN": "党员", "en": "member"},
    "member_id": {"zh-CN": "党员编号", "en": "member id"},
    "member_name": {"zh-CN": "姓名", "en": "name"},
    "rule": {"zh-CN": "事项", "en": "task"},
    "rule_code": {"zh-CN": "规则代码", "en": "rule code"},
    "window_start": {"zh-CN": "开始日期", "en": "from"},
    "window_end": {"zh-CN": "截止日期", "en": "until"},
    "overdue_days": {"zh-CN": "逾期天数", "en": "days overdue"},
    "progress": {"zh-CN": "完成", "en": "done"},
    "done": {"zh-CN": "已完成", "en": "done"},
    "required": {"zh-CN": "应完成", "en": "required"},
    "org": {"zh-CN": "组织", "en": "organization"},
    "org_code": {"zh-CN": "组织编码", "en": "organization code"},
    "org_name": {"zh-CN": "组织名称", "en": "organization name"},
    "unassigned": {"zh-CN": "（未配联络员）", "en": "(no liaison)"},
    "tasks_bar": {"zh-CN": "待办事项", "en": "open tasks"},
    "members_read": {"zh-CN": "读取党员", "en": "members"},
    "members_unit": {"zh-CN": "名", "en": "members"},
    "tasks_unit": {"zh-CN": "项", "en": "tasks"},
    "rows_unit": {"zh-CN": "行", "en": "rows"},
    # the report's columns
    "members": {"zh-CN": "党员数", "en": "members"},
    "contacts": {"zh-CN": "每月联系", "en": "contacts"},
    "visits": {"zh-CN": "季度走访", "en": "visits"},
    "no_liaison": {"zh-CN": "未配联络员", "en": "no liaison"},
    "over_load": {"zh-CN": "超负荷联络员", "en": "over-loaded"},
    "movers": {"zh-CN": "频繁流动无专人", "en": "movers w/o 1:1"},
    "elderly": {"zh-CN": "高龄走访不足", "en": "80+ <2 visits"},
    "no_event": {"zh-CN": "全年未参加活动", "en": "no event"},
    "load": {"zh-CN": "联系党员数", "en": "members"},
    "home_org": {"zh-CN": "流出地党组织", "en": "home organization"},
}

Sentence = dict[Lang, str]
SENTENCES: dict[str, Sentence] = {
    "open_tasks": {"zh-CN": "共 {count} 项待办", "en": "{count} open task(s)"},
    "tasks_written": {
        "zh-CN": "{count} 项待办已写入 {path}",
        "en": "{count} open task(s) written to {path}",
    },
    "report_title": {
        "zh-CN": "{start} 至 {end} 工作情况（统计至 {on}）；每行含下级组织",
        "en": "compliance {start}..{end} (evaluated on {on}); each row covers its subtree",
    },
    "over_loaded_title": {
        "zh-CN": "超负荷联络员（联系党员超过 {max_load} 名）：{count} 名",
        "en": "liaisons over the load of {max_load} members: {count}",
    },
    "unassigned_title": {
        "zh-CN": "未配联络员的党员：{count} 名",
        "en": "members without a liaison: {count}",
    },
    "more": {
        "zh-CN": "……另有 {count} 名，加 --details 列出全部",
        "en": "... and {count} more; --details lists them all",
    },
    "none": {"zh-CN": "无", "en": "none"},
    "orgs_written": {
        "zh-CN": "{count} 个组织已写入 {path}",
        "en": "{count} organization(s) written to {path}",
    },
    "rows_written": {"zh-CN": "{count} 行已写入 {path}", "en": "{count} row(s) written to {path}"},
    "unknown_rule": {
        "zh-CN": "没有名为 {rule!r} 的事项；可选：{rules}",
        "en": "no rule named {rule!r}; rules: {rules}",
    },
}


def word(key: str, lang: Lang) -> str:
    return WORDS[key][lang]


def rule_name(code: str, lang: Lang) -> str:
    """The rule's name for a person; a rule added since (a row, not code) shows its code."""
    names = RULES.get(code)
    return names[lang] if names else code


def rule_choices(codes: Iterable[str], lang: Lang) -> str:
    """Rule codes, each with its name for a person: `monthly_contact（每月联系）、…`."""
    if lang == "zh-CN":
        return "、".join(
            c if rule_name(c, lang) == c else f"{c}（{rule_name(c, lang)}）" for c in codes
        )
    return ", ".join(c if rule_name(c, lang) == c else f"{c} ({rule_name(c, lang)})" for c in codes)


def say(key: str, lang: Lang, **values: object) -> str:
    return SENTENCES[key][lang].format(**values)


def named(name: str | None, code: str | None, lang: Lang) -> str:
    """A name with its id beside it (`张三 L01`); the id alone when there is no name."""
    if code is None:
        return word("unassigned", lang)
    return f"{name} {code}" if name and name != code else code


def default_lang(environ: Mapping[str, str] | None = None) -> Lang:
    """The language when `--lang` is not given (see the module's docstring)."""
    env = os.environ if environ is None else environ
    chosen = env.get("LIAISON_LANG", "").strip()
    if chosen:
        return parse_lang(chosen, "LIAISON_LANG")
    for variable in ("LC_ALL", "LANG"):
        value = env.get(variable, "").strip().lower()
        if value.startswith("zh"):
            return "zh-CN"
        if value.startswith("en"):
            return "en"
    return DEFAULT_LANG


def parse_lang(text: str, where: str = "--lang") -> Lang:
    """`zh-CN` or `en` (also `zh`, `zh_CN`, `en-US`…); anything else a usage error."""
    lowered = text.strip().lower().replace("_", "-")
    if lowered == "zh" or lowered.startswith("zh-"):
        return "zh-CN"
    if lowered == "en" or lowered.startswith("en-"):
        return "en"
    raise typer.BadParameter(f"{text!r}; expected zh-CN or en", param_hint=where)


def resolve_lang(option: str | None) -> Lang:
    return parse_lang(option) if option else default_lang()


LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="zh-CN or en for the table and xlsx (default: LIAISON_LANG, the locale, zh-CN).",
    ),
]
