"""Is the scheduler alive? Its last successful tick and its lease, as it leaves them in Redis.

The planner writes the tick key (a JSON summary with its "at" instant) after every tick
that succeeded, and holds the lease key (with a TTL) while it runs. Both names are
settings, so that they can follow the planner's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from shared.status_keys import LAST_FAILURE_KEY, PLANNING_TIMEOUTS_KEY


@dataclass(frozen=True)
class SchedulerStatus:
    last_tick: datetime | None
    tick_age_s: float | None
    lease_held: bool
    lease_ttl_s: float | None
    stale_after_s: int
    #: ticks that gave up waiting for the workers to plan their shards, ever
    planning_timeouts: int = 0
    #: the last failed tick: when, and what went wrong (one masked line)
    last_failure_at: datetime | None = None
    last_failure: str | None = None

    @property
    def ticking(self) -> bool:
        return self.tick_age_s is not None and self.tick_age_s <= self.stale_after_s


def parse_instant(raw: bytes | str | None) -> datetime | None:
    """The tick's instant: the planner's JSON summary (`{"at": ISO, ...}`, as
    services/scheduler/service.py writes it), or bare unix seconds or ISO-8601."""
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    if text.lstrip().startswith("{"):
        try:
            text = str(json.loads(text).get("at", ""))
        except (ValueError, AttributeError):
            return None
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def scheduler_status(
    client: redis.Redis, tick_key: str, lease_key: str, *, now: datetime, stale_after_s: int
) -> SchedulerStatus:
    pipe = client.pipeline(transaction=False)
    pipe.get(tick_key)
    pipe.pttl(lease_key)
    pipe.get(PLANNING_TIMEOUTS_KEY)
    pipe.get(LAST_FAILURE_KEY)
    raw_tick, pttl, raw_timeouts, raw_failure = pipe.execute()
    tick = parse_instant(raw_tick)
    age = None if tick is None else max(0.0, (now - tick).total_seconds())
    held = pttl is not None and int(pttl) != -2  # -2: no such key; -1: held without TTL
    ttl = int(pttl) / 1000 if held and int(pttl) >= 0 else None
    failure: dict[str, str] = {}
    if raw_failure is not None:
        try:
            failure = dict(json.loads(raw_failure))
        except (ValueError, TypeError):
            failure = {}
    return SchedulerStatus(
        tick,
        age,
        held,
        ttl,
        stale_after_s,
        planning_timeouts=int(raw_timeouts or 0),
        last_failure_at=parse_instant(failure.get("at")),
        last_failure=failure.get("error"),
    )
