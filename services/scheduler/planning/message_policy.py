"""Messaging policy as data: when digests, reminders, greetings and escalations go out.

These are rows of the `rules` table with the strategy `message` (migration 0003), so an
organization overrides them for its subtree like any rule parameter:

    liaison policy set --org TH-JX liaison_digest.local_time='"08:30"'

The due computation ignores the `message` strategy (`PolicyBook.task_rules`). A value that
cannot be read (a misspelt weekday, "9h") is logged and the default is used instead, so one
organization's typo never stops the reminders of the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import time
from typing import Any

from services.scheduler.tasks.policy import PolicyBook
from services.scheduler.tasks.strategies import MESSAGE_STRATEGY

log = logging.getLogger(__name__)

#: `event_reminder.reach`: an event reminds the members of the holding organization's
#: whole subtree (the default), or only those whose home or host it is (docs/messages.md)
REACH_SUBTREE = "subtree"
REACH_HOLDING_BRANCH = "holding_branch"
REACHES = (REACH_SUBTREE, REACH_HOLDING_BRANCH)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: the message rules and their defaults, as migration 0003 seeds them
MESSAGE_RULES: list[dict[str, Any]] = [
    {
        "name": "liaison_digest",
        "strategy": MESSAGE_STRATEGY,
        "enabled": True,
        "priority": 1000,
        "params": {
            "weekdays": ["mon"],
            "first_working_day": True,
            "local_time": "09:00",
            "skip_holidays": True,
        },
        "description": "each liaison's open tasks, first working day of the month and Mondays",
        "seed": "004",
    },
    {
        "name": "event_reminder",
        "strategy": MESSAGE_STRATEGY,
        "enabled": True,
        "priority": 1010,
        "params": {
            "lead_days": 3,
            "same_day": True,
            "local_time": "08:00",
            "reach": REACH_SUBTREE,
        },
        "description": "organization-life reminders: lead_days before and the morning of",
        "seed": "001/003/004",
    },
    {
        "name": "political_birthday_greeting",
        "strategy": MESSAGE_STRATEGY,
        "enabled": True,
        "priority": 1020,
        "params": {"local_time": "09:00"},
        "description": "a greeting on the anniversary of joining the Party",
        "seed": "003",
    },
    {
        "name": "branch_escalation",
        "strategy": MESSAGE_STRATEGY,
        "enabled": True,
        "priority": 1030,
        "params": {
            "weekdays": ["mon"],
            "first_working_day": False,
            "local_time": "09:00",
            "skip_holidays": True,
            "overdue_days": 14,
        },
        "description": "weekly findings to the branch secretary",
        "seed": "003",
    },
    {
        "name": "quiet_hours",
        "strategy": MESSAGE_STRATEGY,
        "enabled": True,
        "priority": 1040,
        "params": {"start": "21:00", "end": "08:00"},
        "description": "no message is planned between start and end, local time",
        "seed": "",
    },
]
_DEFAULTS: dict[str, dict[str, Any]] = {
    r["name"]: {"enabled": r["enabled"], **r["params"]} for r in MESSAGE_RULES
}


@dataclass(frozen=True)
class Schedule:
    """A recurring send: on some weekdays and/or the first working day of each month."""

    enabled: bool
    weekdays: frozenset[int]  #: 0 = Monday
    first_working_day: bool
    local_time: time
    skip_holidays: bool  #: a day off moves the send to the next working day


@dataclass(frozen=True)
class MessagePolicy:
    """Everything the planner needs to know about one organization's messaging."""

    digest: Schedule
    escalation: Schedule
    escalation_overdue_days: int
    events_enabled: bool
    event_days_before: tuple[int, ...]  #: descending, e.g. (3, 0)
    event_local_time: time
    event_reach: str  #: REACH_SUBTREE or REACH_HOLDING_BRANCH
    birthday_enabled: bool
    birthday_local_time: time
    quiet_start: time
    quiet_end: time


def parse_local_time(text: Any) -> time:
    """`"09:00"` → 09:00; raises ValueError for anything else."""
    if not isinstance(text, str):
        raise ValueError(f"expected HH:MM, got {text!r}")
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit():
        raise ValueError(f"expected HH:MM, got {text!r}")
    return time(int(hours), int(minutes))


def parse_weekdays(value: Any) -> frozenset[int]:
    """`["mon", "thu"]` → {0, 3}; raises ValueError for an unknown name."""
    if not isinstance(value, list):
        raise ValueError(f"expected a list of weekday names, got {value!r}")
    days = set()
    for name in value:
        key = str(name).strip().lower()[:3]
        if key not in WEEKDAYS:
            raise ValueError(f"unknown weekday {name!r}; expected one of {', '.join(WEEKDAYS)}")
        days.add(WEEKDAYS.index(key))
    return frozenset(days)


class _Reader:
    def __init__(self, org: str, values: dict[str, dict[str, Any]]) -> None:
        self.org = org
        self.values = values

    def get(self, rule: str, param: str, parse: Any = None) -> Any:
        default = _DEFAULTS[rule][param]
        raw = self.values.get(rule, {}).get(param, default)
        if parse is None:
            return raw
        try:
            return parse(raw)
        except (ValueError, TypeError) as exc:
            log.warning("%s: %s.%s: %s; using the default %r", self.org, rule, param, exc, default)
            return parse(default)

    def schedule(self, rule: str) -> Schedule:
        return Schedule(
            enabled=bool(self.get(rule, "enabled")),
            weekdays=self.get(rule, "weekdays", parse_weekdays),
            first_working_day=bool(self.get(rule, "first_working_day")),
            local_time=self.get(rule, "local_time", parse_local_time),
            skip_holidays=bool(self.get(rule, "skip_holidays")),
        )


def parse_reach(value: Any) -> str:
    """`"subtree"` or `"holding_branch"`; raises ValueError for anything else."""
    if value not in REACHES:
        raise ValueError(f"expected one of {', '.join(REACHES)}, got {value!r}")
    return str(value)


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number ≥ 0, got {value!r}")
    return value


def message_policy(book: PolicyBook, org: str) -> MessagePolicy:
    """`org`'s messaging policy: its own or its nearest ancestor's values, else the defaults
    (also when the database predates migration 0003 and holds no message rules)."""
    values: dict[str, dict[str, Any]] = {}
    for v in book.values(org):
        if v.rule in _DEFAULTS:
            values.setdefault(v.rule, {})[v.param] = v.value
    r = _Reader(org, values)
    lead = r.get("event_reminder", "lead_days", _whole)
    offsets = {lead} | ({0} if r.get("event_reminder", "same_day") else set())
    return MessagePolicy(
        digest=r.schedule("liaison_digest"),
        escalation=r.schedule("branch_escalation"),
        escalation_overdue_days=r.get("branch_escalation", "overdue_days", _whole),
        events_enabled=bool(r.get("event_reminder", "enabled")),
        event_days_before=tuple(sorted(offsets, reverse=True)),
        event_local_time=r.get("event_reminder", "local_time", parse_local_time),
        event_reach=r.get("event_reminder", "reach", parse_reach),
        birthday_enabled=bool(r.get("political_birthday_greeting", "enabled")),
        birthday_local_time=r.get("political_birthday_greeting", "local_time", parse_local_time),
        quiet_start=r.get("quiet_hours", "start", parse_local_time),
        quiet_end=r.get("quiet_hours", "end", parse_local_time),
    )
