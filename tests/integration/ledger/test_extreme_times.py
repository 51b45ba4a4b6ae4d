"""An event time that exists in its organization's wall time but not in UTC is a problem
line, not a crash: 9999-12-31 23:00 in UTC−8 is 10000-01-01 07:00 UTC."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from shared.errors import ImportRejected
from shared.ledger.importer import import_files


def _write(folder: Path, starts_at: str, timezone: str) -> list[Path]:
    folder.mkdir()
    (folder / "organizations.csv").write_text(
        f"code,name,timezone\r\nLA,Los Angeles branch,{timezone}\r\n", encoding="utf-8"
    )
    (folder / "events.csv").write_text(
        f"event_id,org,type,starts_at\r\nE1,LA,theme_day,{starts_at}\r\n", encoding="utf-8"
    )
    return [folder / "organizations.csv", folder / "events.csv"]


@pytest.mark.parametrize(
    ("starts_at", "timezone"),
    [("9999-12-31 23:00", "America/Los_Angeles"), ("0001-01-01 00:30", "Asia/Shanghai")],
)
def test_an_event_time_beyond_the_utc_calendar_is_a_problem_line(
    engine: Engine, tmp_path: Path, starts_at: str, timezone: str
) -> None:
    with pytest.raises(ImportRejected) as rejected:
        import_files(engine, _write(tmp_path / "in", starts_at, timezone))
    assert rejected.value.problems == [
        f"events.csv:2: starts_at: {starts_at}: out of range once converted to UTC"
    ]
