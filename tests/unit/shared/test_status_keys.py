"""The scheduler's status records: one format, written and read by the same two functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.status_keys import read_status_record, status_instant, status_record

AT = datetime(2026, 11, 20, 10, 0, 30, tzinfo=timezone(timedelta(hours=8)))


def test_a_tick_record_reads_back_with_its_instant_and_counts() -> None:
    record = read_status_record(status_record(AT, planned=3).encode())
    assert record is not None and record["planned"] == 3
    assert status_instant(record) == AT == datetime(2026, 11, 20, 2, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        b"0",
        "1763604000",
        "2026-11-20T02:00:00+00:00",
        '{"planned": 3}',
        '{"at": "soon"}',
        '{"at": "2026-11-20T02:00:00"}',
        "[1, 2]",
        b"\xff",
    ],
)
def test_anything_but_the_one_format_is_no_record(raw: bytes | str | None) -> None:
    assert read_status_record(raw) is None


def test_a_record_without_a_time_zone_is_refused_when_written() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        status_record(datetime(2026, 11, 20, 2, 0), planned=1)
