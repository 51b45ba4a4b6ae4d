"""Quiet hours at their boundaries, across midnight, in other zones and across DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.quiet_hours import in_quiet_hours, release_time
from shared.errors import ConfigurationError

SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"


def local(zone: str, y: int, mo: int, d: int, h: int, mi: int, *, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(zone), fold=fold)


def utc(y: int, mo: int, d: int, h: int, mi: int) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def test_a_message_at_20_59_local_leaves_at_once() -> None:
    at = local(SHANGHAI, 2025, 3, 10, 20, 59)
    assert not in_quiet_hours(at, SHANGHAI)
    assert release_time(at, SHANGHAI) is at


def test_a_message_at_21_00_local_waits_for_08_00_the_next_morning() -> None:
    at = local(SHANGHAI, 2025, 3, 10, 21, 0)
    assert in_quiet_hours(at, SHANGHAI)
    assert release_time(at, SHANGHAI) == utc(2025, 3, 11, 0, 0)  # 08:00 in UTC+8


def test_a_message_at_07_59_local_waits_for_08_00_the_same_morning() -> None:
    at = local(SHANGHAI, 2025, 3, 11, 7, 59)
    assert in_quiet_hours(at, SHANGHAI)
    assert release_time(at, SHANGHAI) == utc(2025, 3, 11, 0, 0)


def test_a_message_at_08_00_local_leaves_at_once() -> None:
    at = local(SHANGHAI, 2025, 3, 11, 8, 0)
    assert not in_quiet_hours(at, SHANGHAI)
    assert release_time(at, SHANGHAI) == at


def test_messages_either_side_of_midnight_are_released_the_same_morning() -> None:
    before = local(SHANGHAI, 2025, 12, 31, 23, 30)
    after = local(SHANGHAI, 2026, 1, 1, 0, 30)
    assert release_time(before, SHANGHAI) == utc(2026, 1, 1, 0, 0)
    assert release_time(after, SHANGHAI) == utc(2026, 1, 1, 0, 0)


def test_the_release_is_an_aware_utc_instant_whatever_zone_at_was_given_in() -> None:
    same_instant = [utc(2025, 3, 10, 14, 0), local(NEW_YORK, 2025, 3, 10, 10, 0)]
    releases = {release_time(at, SHANGHAI) for at in same_instant}
    assert releases == {utc(2025, 3, 11, 0, 0)}
    assert next(iter(releases)).tzinfo is UTC


def test_the_window_is_read_on_the_recipients_wall_clock_not_shanghais() -> None:
    at = utc(2025, 6, 2, 2, 0)  # 10:00 in Shanghai, 22:00 the evening before in New York
    assert not in_quiet_hours(at, SHANGHAI)
    assert in_quiet_hours(at, NEW_YORK)
    assert release_time(at, NEW_YORK) == utc(2025, 6, 2, 12, 0)  # 08:00 EDT


def test_a_window_that_does_not_cross_midnight_holds_only_its_own_hours() -> None:
    window = {"quiet_start": time(12, 0), "quiet_end": time(13, 0)}
    assert not in_quiet_hours(local(SHANGHAI, 2025, 3, 10, 11, 59), SHANGHAI, **window)
    assert in_quiet_hours(local(SHANGHAI, 2025, 3, 10, 12, 0), SHANGHAI, **window)
    assert not in_quiet_hours(local(SHANGHAI, 2025, 3, 10, 13, 0), SHANGHAI, **window)
    assert not in_quiet_hours(local(SHANGHAI, 2025, 3, 10, 22, 0), SHANGHAI, **window)
    at = local(SHANGHAI, 2025, 3, 10, 12, 59)
    assert release_time(at, SHANGHAI, **window) == utc(2025, 3, 10, 5, 0)  # 13:00 UTC+8


def test_equal_start_and_end_mean_no_quiet_hours() -> None:
    window = {"quiet_start": time(0, 0), "quiet_end": time(0, 0)}
    for hour in range(24):
        at = local(SHANGHAI, 2025, 3, 10, hour, 0)
        assert not in_quiet_hours(at, SHANGHAI, **window)
        assert release_time(at, SHANGHAI, **window) == at


def test_a_night_that_springs_forward_releases_at_08_00_daylight_time() -> None:
    at = local(NEW_YORK, 2025, 3, 8, 22, 0)  # EST; clocks jump 02:00 → 03:00 that night
    released = release_time(at, NEW_YORK)
    assert released == utc(2025, 3, 9, 12, 0)  # 08:00 EDT (UTC-4), not 13:00
    assert released - at == timedelta(hours=9)


def test_a_night_that_falls_back_releases_at_08_00_standard_time() -> None:
    at = local(NEW_YORK, 2025, 11, 1, 22, 0)  # EDT; clocks fall back 02:00 → 01:00
    released = release_time(at, NEW_YORK)
    assert released == utc(2025, 11, 2, 13, 0)  # 08:00 EST (UTC-5)
    assert released - at == timedelta(hours=11)


def test_a_window_ending_in_the_repeated_hour_ends_after_the_message_not_before() -> None:
    window = {"quiet_start": time(22, 0), "quiet_end": time(1, 30)}
    at = local(NEW_YORK, 2025, 11, 2, 1, 10, fold=1)  # second 01:10, EST
    assert in_quiet_hours(at, NEW_YORK, **window)
    assert release_time(at, NEW_YORK, **window) == utc(2025, 11, 2, 6, 30)  # second 01:30


def test_a_window_ending_in_the_skipped_hour_ends_as_soon_as_the_clock_passes_it() -> None:
    window = {"quiet_start": time(22, 0), "quiet_end": time(2, 30)}
    at = local(NEW_YORK, 2025, 3, 9, 1, 0)  # EST, an hour before the jump
    assert release_time(at, NEW_YORK, **window) == utc(2025, 3, 9, 7, 30)  # 03:30 EDT


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        release_time(datetime(2025, 3, 10, 22, 0), SHANGHAI)


def test_an_unknown_time_zone_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="Mars/Olympus"):
        in_quiet_hours(utc(2025, 3, 10, 22, 0), "Mars/Olympus")


@given(
    at=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    zone=st.sampled_from([SHANGHAI, NEW_YORK, "Europe/London", "Australia/Lord_Howe"]),
)
def test_a_released_message_is_never_early_never_quiet_and_waits_under_a_day(
    at: datetime, zone: str
) -> None:
    released = release_time(at, zone)
    assert at <= released <= at + timedelta(hours=12)
    assert not in_quiet_hours(released, zone)
    assert (released == at) == (not in_quiet_hours(at, zone))
