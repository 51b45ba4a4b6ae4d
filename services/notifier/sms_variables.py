"""A notification's data as the variables of a provider-approved SMS template.

Domestic SMS providers (Alibaba Cloud) send only templates an administrator submitted and
had approved, each with named variables (`${count}`); free text is refused. So for those
providers a message is not the rendered SMS body but a handful of short values, one table
row per kind below (docs/templates.md gives the template text to submit for each).

What must stay true:
- every value is text of at most `limit` characters (Alibaba: 35 for a notification
  template's variable); a longer one is cut, on a character boundary, ending in "…";
- values are masked like every rendered message (an ID number or phone never leaves), and
  the 【】 brackets, which a provider reserves for the signature, are replaced;
- a kind without a row, or data without a field a row needs, is a TemplateError naming it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from services.notifier.rendering import TemplateError, _environment
from services.notifier.wording import as_date, zh_date, zh_day
from shared.masking import mask_text

VARIABLE_LIMIT = 35  #: characters; Alibaba Cloud's limit for a notification template variable
ELLIPSIS = "…"
#: what the digest's `link` says when the data carries no link to the liaison's page
DEFAULT_DIGEST_LINK = "邮件"

Variables = dict[str, str]


@functools.lru_cache(maxsize=1)
def _labels() -> tuple[dict[str, str], dict[str, str]]:
    """The zh-CN rule and event-type labels, from the same file the templates import."""
    module = _environment(None).get_template("_labels.zh-CN.j2").module
    return dict(module.rule_labels), dict(module.event_types)  # type: ignore[attr-defined]


def _when(day: Any) -> str:
    d = as_date(day)
    return f"{d.month}月{d.day}日"


def _digest(data: Mapping[str, Any]) -> Variables:
    rules, _ = _labels()
    tasks = list(data["tasks"])
    if tasks:
        t = tasks[0]
        label = rules.get(t["rule"], t["rule"])
        due = (
            f"逾期{t['overdue_days']}天" if t["overdue_days"] > 0 else f"{_when(t['window_end'])}前"
        )
        first = f"{t['member_name']}{label}（{due}）"
    else:
        first = "无"
    return {
        "name": data["liaison_name"],
        "count": str(len(tasks)),
        "first": first,
        "link": data.get("link") or DEFAULT_DIGEST_LINK,
    }


def _send_day(data: Mapping[str, Any]) -> Any:
    """The day the message leaves: the refresher's `today`, else the day it was planned."""
    return data.get("today") or data.get("planned_on")


def _event_when(data: Mapping[str, Any]) -> str:
    """When the event is, in words true on the send day, as the SMS template says it:
    `今天19:30`, `后天（12月5日）19:30`, `12月5日19:30`."""
    today = _send_day(data)
    if "event_date" in data and today:
        rel, on = zh_day(data["event_date"], today), zh_date(data["event_date"], today)
        time = data.get("starts_time", "")
        if rel == on:
            return f"{on}{time}"
        return f"{rel}{time}" if rel == "今天" else f"{rel}（{on}）{time}"
    # Planned before reminders carried their event date: the planned relative day.
    days = data.get("days_left", data["days_before"])
    relative = {0: "今天", 1: "明天", 2: "后天"}.get(days)
    return f"{relative}（{data['starts_at_local']}）" if relative else str(data["starts_at_local"])


def _event(data: Mapping[str, Any]) -> Variables:
    _, event_types = _labels()
    place = data.get("location") or data.get("online_url") or "另行通知"
    return {
        "name": data["member_name"],
        "org": data["org_name"],
        "when": _event_when(data),
        "title": f"{event_types.get(data['event_type'], '组织生活')}“{data['event_title']}”",
        "place": place,
    }


def _birthday(data: Mapping[str, Any]) -> Variables:
    """`day` is 今天 when the greeting leaves on the anniversary, else its date (11月29日):
    a greeting caught up late must not say 今天 (and one that does not know its day, 近日)."""
    anniversary, today = data.get("anniversary"), _send_day(data)
    if not anniversary:  # planned before greetings carried their day: claim no day
        day = "近日"
    elif today and as_date(anniversary) == as_date(today):
        day = "今天"
    else:
        day = zh_date(anniversary, today)
    return {
        "name": data["member_name"],
        "day": day,
        "years": str(data["years"]),
        "org": data["org_name"],
    }


def _escalation(data: Mapping[str, Any]) -> Variables:
    """`findings` names only what there is (`未配联络员2人、待审活动证1本`): a count of
    nothing is not a finding. The planner sends no escalation with nothing to say."""
    counts = (
        ("未配联络员", len(data["unassigned"]), "人"),
        ("逾期任务", len(data["overdue"]), "项"),
        ("待审活动证", len(data["certificates_due"]), "本"),
    )
    findings = "、".join(f"{label}{n}{unit}" for label, n, unit in counts if n)
    return {
        "name": data["secretary_name"],
        "org": data["org_name"],
        "findings": findings or "无新增事项",
    }


#: kind → the variables of its template; a new kind is a new row
VARIABLES_BY_KIND: dict[str, Callable[[Mapping[str, Any]], Variables]] = {
    "liaison_digest": _digest,
    "event_reminder": _event,
    "political_birthday": _birthday,
    "branch_escalation": _escalation,
}


def template_variables(
    kind: str, data: Mapping[str, Any], *, limit: int = VARIABLE_LIMIT
) -> Variables:
    """The template variables of `kind` from `data`, each safe to send and within `limit`."""
    build = VARIABLES_BY_KIND.get(kind)
    if build is None:
        raise TemplateError(f"no SMS template variables are defined for kind {kind!r}")
    try:
        raw = build(data)
    except KeyError as exc:
        raise TemplateError(f"{kind} template variables: missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"{kind} template variables: {exc}") from exc
    return {name: fit_variable(value, limit) for name, value in raw.items()}


def fit_variable(value: Any, limit: int = VARIABLE_LIMIT) -> str:
    """`value` as one line of masked text of at most `limit` characters."""
    text = " ".join(mask_text(str(value)).split())
    text = text.replace("【", "[").replace("】", "]")
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)] + ELLIPSIS
