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
from services.notifier.wording import as_date
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


def _event(data: Mapping[str, Any]) -> Variables:
    _, event_types = _labels()
    days = data.get("days_left", data["days_before"])
    day_word = "今天" if days == 0 else "明天" if days == 1 else f"{days}天后"
    place = data.get("location") or data.get("online_url") or "另行通知"
    return {
        "name": data["member_name"],
        "org": data["org_name"],
        "when": f"{day_word}（{data['starts_at_local']}）",
        "title": f"{event_types.get(data['event_type'], '组织生活')}“{data['event_title']}”",
        "place": place,
    }


def _birthday(data: Mapping[str, Any]) -> Variables:
    return {"name": data["member_name"], "years": str(data["years"]), "org": data["org_name"]}


def _escalation(data: Mapping[str, Any]) -> Variables:
    return {
        "name": data["secretary_name"],
        "org": data["org_name"],
        "unassigned": str(len(data["unassigned"])),
        "overdue": str(len(data["overdue"])),
        "certificates": str(len(data["certificates_due"])),
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
