"""The Redis keys through which the scheduler tells monitors how it is doing, and the
one format of what it leaves under the tick and failure keys.

The scheduler writes them; `liaison status`, `/metrics`, `/readyz` and the dashboard read
them. One definition of each key and of the record's format, so that writer and readers
cannot drift apart (the keys are not settings: the scheduler always writes these).
"""

from __future__ import annotations

import json
from datetime import datetime

#: the last successful tick: `status_record(at, **its counts)`
LAST_TICK_KEY = "liaison:scheduler:last_tick"
#: held (with a TTL) by the one scheduler replica that acts
LEASE_KEY = "liaison:scheduler:lease"
#: JSON list of the years whose official adjusted working days are not known yet
CALENDAR_KEY = "liaison:scheduler:calendar_gaps"
#: the last failed tick: `status_record(at, error=one masked line)`
LAST_FAILURE_KEY = "liaison:scheduler:last_failure"
#: how many ticks gave up waiting for the workers to plan their shards (a counter)
PLANNING_TIMEOUTS_KEY = "liaison:scheduler:planning_timeouts"


def status_record(at: datetime, **fields: object) -> str:
    """What the scheduler leaves under a status key: JSON with its instant as `"at"`
    (ISO 8601 with its offset) beside `fields`."""
    if at.tzinfo is None:
        raise ValueError("a status record's instant must be timezone-aware")
    return json.dumps({**fields, "at": at.isoformat()}, ensure_ascii=False)


def read_status_record(raw: bytes | str | None) -> dict[str, object] | None:
    """A record as `status_record` wrote it; None when absent or not in that format."""
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except (ValueError, TypeError):
        return None
    if not isinstance(record, dict) or status_instant(record) is None:
        return None
    return record


def status_instant(record: dict[str, object] | None) -> datetime | None:
    """The `"at"` of a record: an aware instant, or None when it has none."""
    if record is None or not isinstance(record.get("at"), str):
        return None
    try:
        moment = datetime.fromisoformat(str(record["at"]))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
