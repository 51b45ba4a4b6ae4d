"""When things are due: pure functions of a schedule, a calendar and the time now.

The scheduler reconciles rather than fires: at any instant it asks "which occasion's send
time has come and still matters?", so a tick that is late, or a scheduler that was down,
finds the same answer as a punctual one. What still matters (the catch-up horizon):

- a periodic send (digest, escalation): only the latest occasion whose send time has come,
  and only within `CATCH_UP_HORIZON` of it; older ones are superseded, since each is
  computed from the state at sending time;
- an event reminder: from its send time until the next reminder of the same occurrence
  is due (the morning one), or until the event starts; never after;
- a political-birthday greeting: within the horizon of its send time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.notifier import in_quiet_hours, release_time
from services.scheduler.planning.message_policy import Schedule

#: how long a missed periodic send or greeting is still worth sending
CATCH_UP_HORIZON = timedelta(days=3)
#: a day off that moves a send may push it this far; origins this much older are looked at
_SHIFT_SLACK_DAYS = 14
#: a same-day reminder for an event starting before its usual send time goes this early
_EARLY_EVENT_LEAD = timedelta(hours=1)


def wall_instant(day: date, at: time, timezone: str) -> datetime:
    """The UTC instant of the wall-clock time `at` on `day` in `timezone`."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def local_date(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def is_quiet(now: datetime, timezone: str, start: time, end: time) -> bool:
    return in_quiet_hours(now, timezone, quiet_start=start, quiet_end=end)


def send_time(day: date, at: time, timezone: str, quiet_start: time, quiet_end: time) -> datetime:
    """When a send set for `at` on `day` may go: then, or when quiet hours end."""
    return release_time(
        wall_instant(day, at, timezone), timezone, quiet_start=quiet_start, quiet_end=quiet_end
    )


def occasion_days(
    schedule: Schedule, first: date, last: date, is_working_day: Callable[[date], bool]
) -> Iterator[date]:
    """The days in [first, last] on which `schedule` sends, each once, in order.

    An origin (a Monday, the 1st) falling on a day off moves to the next working day when
    `skip_holidays`; "the first working day of the month" moves so by its nature.
    """
    seen: set[date] = set()
    origin = first - timedelta(days=_SHIFT_SLACK_DAYS)
    while origin <= last:
        by_weekday = origin.weekday() in schedule.weekdays
        by_month = schedule.first_working_day and origin.day == 1
        if by_weekday or by_month:
            day = origin
            if by_month or schedule.skip_holidays:
                while not is_working_day(day) and day - origin < timedelta(days=31):
                    day += timedelta(days=1)
            if first <= day <= last and day not in seen:
                seen.add(day)
        origin += timedelta(days=1)
    yield from sorted(seen)


def periodic_occasion(
    schedule: Schedule,
    now: datetime,
    timezone: str,
    is_working_day: Callable[[date], bool],
    quiet: tuple[time, time],
    horizon: timedelta = CATCH_UP_HORIZON,
) -> date | None:
    """The local date of the latest occasion of `schedule` whose send time has come within
    `horizon`, or None."""
    if not schedule.enabled:
        return None
    today = local_date(now, timezone)
    first = today - timedelta(days=horizon.days + 1)
    best: date | None = None
    for day in occasion_days(schedule, first, today, is_working_day):
        at = send_time(day, schedule.local_time, timezone, *quiet)
        if at <= now and now - at <= horizon:
            best = day
    return best


def reminder_offset_due(
    starts_at: datetime,
    days_before: tuple[int, ...],
    at: time,
    timezone: str,
    now: datetime,
    quiet: tuple[time, time],
) -> int | None:
    """Which of an occurrence's reminders (`days_before`, descending) is due now, if any.

    Each is due from its send time until the next one's send time; the last until the event
    starts. A reminder whose time has passed unsent is therefore superseded by the next,
    and nothing is sent for an event that has begun.
    """
    if now >= starts_at:
        return None
    zone = ZoneInfo(timezone)
    start_day = starts_at.astimezone(zone).date()
    sends = []
    for days in days_before:
        instant = send_time(start_day - timedelta(days=days), at, timezone, *quiet)
        if instant >= starts_at:
            instant = starts_at - _EARLY_EVENT_LEAD
        sends.append((days, instant))
    for index, (days, instant) in enumerate(sends):
        until = sends[index + 1][1] if index + 1 < len(sends) else starts_at
        if instant <= now < until:
            return days
    return None


def anniversary(joined: date, year: int) -> date:
    """The anniversary of `joined` in `year` (29 February falls on the 28th otherwise)."""
    try:
        return joined.replace(year=year)
    except ValueError:
        return date(year, 2, 28)
