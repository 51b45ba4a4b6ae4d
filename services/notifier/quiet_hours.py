"""Quiet hours: no message reaches a person between 21:00 and 08:00 of their local time.

A message whose send time falls inside the window is deferred to the window's end, never
dropped. The window is read on the recipient organization's wall clock, so it follows
daylight-saving changes; it may cross midnight (21:00–08:00) or not (12:00–13:00), and a
window whose start equals its end means "no quiet hours".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import ConfigurationError

DEFAULT_QUIET_START = time(21, 0)  #: local wall-clock time quiet hours begin
DEFAULT_QUIET_END = time(8, 0)  #: local wall-clock time quiet hours end


def in_quiet_hours(
    at: datetime,
    timezone: str,
    *,
    quiet_start: time = DEFAULT_QUIET_START,
    quiet_end: time = DEFAULT_QUIET_END,
) -> bool:
    """Whether the aware instant `at` falls in quiet hours on `timezone`'s wall clock."""
    local = at.astimezone(_zone(at, timezone))
    return _is_quiet(local.time(), quiet_start, quiet_end)


def release_time(
    at: datetime,
    timezone: str,
    *,
    quiet_start: time = DEFAULT_QUIET_START,
    quiet_end: time = DEFAULT_QUIET_END,
) -> datetime:
    """When a message due at `at` may leave: `at` itself outside quiet hours, else the UTC
    instant at which the quiet window holding `at` ends (local `quiet_end`, same or next day).
    """
    zone = _zone(at, timezone)
    local = at.astimezone(zone)
    if not _is_quiet(local.time(), quiet_start, quiet_end):
        return at
    release_day = local.date()
    if quiet_start > quiet_end and local.time() >= quiet_start:
        # The window crosses midnight and we are in its evening half: it ends tomorrow.
        release_day += timedelta(days=1)
    return _wall_clock_instant(release_day, quiet_end, zone, after=at)


def _is_quiet(now: time, quiet_start: time, quiet_end: time) -> bool:
    if quiet_start == quiet_end:
        return False
    if quiet_start < quiet_end:
        return quiet_start <= now < quiet_end
    return now >= quiet_start or now < quiet_end


def _zone(at: datetime, timezone: str) -> ZoneInfo:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"quiet hours need an aware datetime, got naive {at.isoformat()}")
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"unknown time zone {timezone!r}") from exc


def _wall_clock_instant(day: date, wall: time, zone: ZoneInfo, *, after: datetime) -> datetime:
    """The UTC instant of `wall` on `day`, taking the occurrence after `after`.

    On a fall-back night the wall time happens twice; the first occurrence may already lie
    behind `after` (it is still quiet on the repeated hour), so then the second one counts.
    A wall time skipped by a spring-forward gap is read, per PEP 495, with the offset in
    force before the gap (02:30 on a one-hour gap becomes 03:30).
    """
    first = datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)
    if first > after:
        return first
    return datetime.combine(day, wall, tzinfo=zone).replace(fold=1).astimezone(UTC)


def parse_quiet_hours(text: str) -> tuple[time, time]:
    """`LIAISON_QUIET_HOURS`: "21:00-08:00" as (start, end); "off" as a window that starts
    when it ends, which is no window."""
    if text.strip().lower() in {"off", "none", ""}:
        return time(0), time(0)
    start, sep, end = text.partition("-")
    try:
        if not sep:
            raise ValueError(text)
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError as exc:
        raise ConfigurationError(
            f"LIAISON_QUIET_HOURS must be like 21:00-08:00 or off, got {text!r}"
        ) from exc
