"""What each policy parameter may hold, checked before an override is stored.

`liaison policy set` once stored anything its parameter's default did not contradict by
type: `quiet_hours.start="25:00"` went in, and the planner, which cannot read it, fell
back to the default with a log line nobody sees. Every parameter the shipped rules have
is checked here by its meaning (a time of day, weekday names, interaction kinds, a range
of whole numbers…); a parameter of a rule added since (a row, not code) is checked against
its default's type. A refusal is one line naming the parameter, what it takes and what it
got (`PolicyError`).

The message rules' names and choices (weekdays, `event_reminder.reach`, SMS providers)
are spelt here again rather than imported: `tasks/` may not read `planning/` (an
import-linter contract), and the planner still reads what is stored defensively.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from services.scheduler.tasks.periods import PERIODS
from shared.errors import LiaisonError
from shared.ledger.kinds import INTERACTION_KINDS, PLACES


class PolicyError(LiaisonError):
    """Raised when a policy change names an unknown rule or parameter or a malformed value."""


Check = Callable[[str, Any], None]  #: (the parameter's full name, the value) → None or raises

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REACHES = ("subtree", "holding_branch")
SMS_PROVIDERS = ("", "twilio", "aliyun", "outbox")  #: "" is "the installation's default"
NAMED_KEY_DATES = ("spring_festival", "political_birthday")
MAX_DAYS = 3_660  #: days: ten years, far beyond any sensible window, inside the calendar
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")


def time_of_day(name: str, value: Any) -> None:
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise PolicyError(f'{name} must be a time of day "HH:MM" (00:00–23:59), got {value!r}')


def boolean(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise PolicyError(f"{name} must be true or false, got {value!r}")


def whole(low: int, high: int, *, nullable: bool = False) -> Check:
    def check(name: str, value: Any) -> None:
        if nullable and value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            null = " or null" if nullable else ""
            raise PolicyError(
                f"{name} must be a whole number from {low} to {high}{null}, got {value!r}"
            )

    return check


def one_of(choices: tuple[str, ...]) -> Check:
    def check(name: str, value: Any) -> None:
        if value not in choices:
            shown = ", ".join(repr(c) for c in choices)
            raise PolicyError(f"{name} must be one of {shown}, got {value!r}")

    return check


def names_of(choices: tuple[str, ...], *, nullable: bool) -> Check:
    def check(name: str, value: Any) -> None:
        if nullable and value is None:
            return
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(x, str) and x in choices for x in value)
        ):
            example = f'["{choices[0]}"]' + (" or null (any)" if nullable else "")
            raise PolicyError(
                f"{name} must be a list of {', '.join(choices)}, e.g. {example}; got {value!r}"
            )

    return check


def weekdays(name: str, value: Any) -> None:
    # The planner reads a name by its first three letters ("monday" is "mon").
    if not isinstance(value, list) or not all(
        isinstance(x, str) and x.strip().lower()[:3] in WEEKDAYS for x in value
    ):
        raise PolicyError(
            f'{name} must be a list of weekdays ({", ".join(WEEKDAYS)}), e.g. ["mon"]; '
            f"got {value!r}"
        )


def key_dates(name: str, value: Any) -> None:
    what = (
        f'{name} must be a list of "MM-DD" days or {", ".join(NAMED_KEY_DATES)}, '
        f'e.g. ["07-01", "spring_festival"]; got {value!r}'
    )
    if not isinstance(value, list) or not value:
        raise PolicyError(what)
    for key in value:
        if key in NAMED_KEY_DATES:
            continue
        match = _MONTH_DAY.fullmatch(key) if isinstance(key, str) else None
        if not match:
            raise PolicyError(what)
        if (match[1], match[2]) == ("02", "29"):
            raise PolicyError(f"{name}: 02-29 is not a day every year; write 02-28 or 03-01")
        try:
            date(2025, int(match[1]), int(match[2]))
        except ValueError as exc:
            raise PolicyError(f"{name}: {key!r} is not a day of the year") from exc


def text(max_length: int) -> Check:
    def check(name: str, value: Any) -> None:
        if not isinstance(value, str) or len(value) > max_length:
            raise PolicyError(f"{name} must be text of at most {max_length} characters")

    return check


def text_map(name: str, value: Any) -> None:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PolicyError(f'{name} must be a map of names to codes, e.g. {{"liaison_digest": '
                          f'"SMS_4657"}}; got {value!r}')  # fmt: skip


def fixed(name: str, value: Any) -> None:
    raise PolicyError(f"{name} is what the rule counts and cannot be overridden")


#: a parameter's check by its name, whatever the rule …
BY_PARAM: dict[str, Check] = {
    "enabled": boolean,
    "source": fixed,
    "period": one_of(PERIODS),
    "kinds": names_of(INTERACTION_KINDS, nullable=True),
    "places": names_of(PLACES, nullable=True),
    "required": whole(1, 366),
    "min_age": whole(0, 150, nullable=True),
    "cycle_months": whole(1, 120),
    "lead_days": whole(0, MAX_DAYS),
    "interval_days": whole(1, MAX_DAYS),
    "min_moves": whole(1, 1_000),
    "moves_lookback_days": whole(1, MAX_DAYS),
    "window_half_days": whole(0, 183),
    "key_dates": key_dates,
    "weekdays": weekdays,
    "first_working_day": boolean,
    "skip_holidays": boolean,
    "same_day": boolean,
    "local_time": time_of_day,
    "overdue_days": whole(0, MAX_DAYS),
    "reach": one_of(REACHES),
}
#: … unless the rule gives it a meaning of its own
BY_RULE_PARAM: dict[tuple[str, str], Check] = {
    ("quiet_hours", "start"): time_of_day,
    ("quiet_hours", "end"): time_of_day,
    ("event_reminder", "lead_days"): whole(0, 60),
    ("sms_route", "provider"): one_of(SMS_PROVIDERS),
    ("sms_route", "sign_name"): text(40),
    ("sms_route", "template_codes"): text_map,
}


def check_value(rule: str, param: str, value: Any, default: Any) -> None:
    """Refuse `value` for `rule.param` (whose shipped default is `default`) unless the
    parameter can hold it; see the module's docstring."""
    name = f"{rule}.{param}"
    check = BY_RULE_PARAM.get((rule, param)) or BY_PARAM.get(param)
    if check is not None:
        check(name, value)
    else:
        _like_default(name, value, default)


def _like_default(name: str, value: Any, default: Any) -> None:
    if default is None:
        return
    if isinstance(default, bool):
        boolean(name, value)
    elif isinstance(default, int):
        whole(0, 1_000_000)(name, value)
    elif isinstance(default, str) and not isinstance(value, str):
        raise PolicyError(f"{name} must be text, got {value!r}")
    elif isinstance(default, list) and not (
        value is None or (isinstance(value, list) and all(isinstance(x, str) for x in value))
    ):
        raise PolicyError(f'{name} must be a list of names, e.g. ["visit"], or null')
    elif isinstance(default, dict) and not isinstance(value, dict):
        raise PolicyError(f"{name} must be a map, got {value!r}")
