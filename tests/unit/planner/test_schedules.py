"""When digests, reminders and greetings are due: the pure schedule functions."""

from __future__ import annotations

import copy
import importlib.util
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from services.scheduler.planning.message_policy import (
    MESSAGE_RULES,
    Schedule,
    parse_local_time,
    parse_weekdays,
)
from services.scheduler.planning.schedules import (
    anniversary,
    occasion_days,
    periodic_occasion,
    reminder_offset_due,
)

TZ = "Asia/Shanghai"
QUIET = (time(21, 0), time(8, 0))
DIGEST = Schedule(True, frozenset({0}), True, time(9, 0), True)


def weekdays_only(day: date) -> bool:
    return day.weekday() < 5


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A Shanghai wall-clock time as a UTC instant."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=8)


def test_digest_days_are_mondays_and_the_first_working_day_of_each_month() -> None:
    days = list(occasion_days(DIGEST, date(2026, 11, 25), date(2026, 12, 31), weekdays_only))
    # 1 December 2026 is a Tuesday; Mondays 30 Nov, 7, 14, 21, 28 Dec.
    assert days == [
        date(2026, 11, 30),
        date(2026, 12, 1),
        date(2026, 12, 7),
        date(2026, 12, 14),
        date(2026, 12, 21),
        date(2026, 12, 28),
    ]


def test_a_monday_off_moves_the_digest_to_the_next_working_day_and_merges_with_the_first() -> None:
    off = {date(2027, 3, 1)}  # a Monday that is also the 1st

    def working(day: date) -> bool:
        return weekdays_only(day) and day not in off

    days = list(occasion_days(DIGEST, date(2027, 2, 27), date(2027, 3, 3), working))
    assert days == [date(2027, 3, 2)]


def test_without_skip_holidays_a_monday_off_keeps_its_digest() -> None:
    plain = Schedule(True, frozenset({0}), False, time(9, 0), False)
    days = list(occasion_days(plain, date(2027, 3, 1), date(2027, 3, 1), lambda d: False))
    assert days == [date(2027, 3, 1)]


def test_the_digest_is_due_from_its_send_time_and_not_before() -> None:
    monday = date(2026, 11, 30)
    before = periodic_occasion(DIGEST, local(2026, 11, 30, 8, 59), TZ, weekdays_only, QUIET)
    at = periodic_occasion(DIGEST, local(2026, 11, 30, 9, 0), TZ, weekdays_only, QUIET)
    assert before is None or before < monday
    assert at == monday


def test_after_two_days_down_the_latest_missed_digest_is_due_once_and_older_ones_never() -> None:
    # Down from Sunday 29 Nov to Wednesday 2 Dec 10:00: Monday 30 Nov and Tuesday 1 Dec
    # were both digest days; only the latest is due, once (the occasion is its date).
    due = periodic_occasion(DIGEST, local(2026, 12, 2, 10, 0), TZ, weekdays_only, QUIET)
    assert due == date(2026, 12, 1)


def test_a_digest_missed_by_more_than_the_horizon_is_dropped() -> None:
    assert periodic_occasion(DIGEST, local(2026, 12, 11, 10), TZ, weekdays_only, QUIET) is None


def test_a_digest_set_in_quiet_hours_waits_until_they_end() -> None:
    late = Schedule(True, frozenset({0}), False, time(22, 0), True)
    assert periodic_occasion(late, local(2026, 11, 30, 22, 30), TZ, weekdays_only, QUIET) is None
    assert periodic_occasion(late, local(2026, 12, 1, 8, 0), TZ, weekdays_only, QUIET) == date(
        2026, 11, 30
    )


def test_event_reminders_are_due_three_days_before_and_the_morning_of_the_event() -> None:
    start = local(2026, 12, 10, 9, 0)
    due = lambda now: reminder_offset_due(start, (3, 0), time(8, 0), TZ, now, QUIET)  # noqa: E731
    assert due(local(2026, 12, 7, 7, 59)) is None
    assert due(local(2026, 12, 7, 8, 0)) == 3
    assert due(local(2026, 12, 9, 23, 0)) == 3
    assert due(local(2026, 12, 10, 8, 0)) == 0
    assert due(local(2026, 12, 10, 9, 0)) is None  # the event has begun


def test_an_event_starting_before_the_reminder_time_is_reminded_an_hour_before() -> None:
    start = local(2026, 12, 10, 7, 30)
    assert (
        reminder_offset_due(
            start, (3, 0), time(8, 0), TZ, local(2026, 12, 10, 6, 30), (time(0), time(0))
        )
        == 0
    )


def test_the_29_february_anniversary_falls_on_the_28th_in_a_common_year() -> None:
    assert anniversary(date(2004, 2, 29), 2027) == date(2027, 2, 28)
    assert anniversary(date(2004, 2, 29), 2028) == date(2028, 2, 29)


def test_weekday_names_and_local_times_parse_and_typos_are_refused() -> None:
    assert parse_weekdays(["mon", "Thursday"]) == frozenset({0, 3})
    assert parse_local_time("08:30") == time(8, 30)
    for bad in (["moon"], "mon"):
        try:
            parse_weekdays(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


def _migration(name: str) -> Any:
    path = Path(f"shared/migrations/versions/{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migrations_seed_exactly_the_message_rules_the_planner_defaults_to() -> None:
    seeded = copy.deepcopy(_migration("0003_planning").MESSAGE_RULES)
    added = _migration("0007_messages")
    for rule in seeded:
        if rule["name"] == added.RULE:
            rule["params"].setdefault(added.PARAM, added.DEFAULT)
    assert seeded == MESSAGE_RULES
