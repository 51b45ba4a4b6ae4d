"""Is the scheduler alive? Its last successful tick and its lease, as it leaves them in Redis.

The scheduler writes the tick key after every tick that succeeded and the failure key
after one that failed (`shared.status_keys.status_record`, read back here by
`read_status_record`: one format), and holds the lease key (with a TTL) while it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import redis

from shared.status_keys import (
    LAST_FAILURE_KEY,
    LAST_TICK_KEY,
    LEASE_KEY,
    PLANNING_TIMEOUTS_KEY,
    read_status_record,
    status_instant,
)


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


def scheduler_status(client: redis.Redis, *, now: datetime, stale_after_s: int) -> SchedulerStatus:
    pipe = client.pipeline(transaction=False)
    pipe.get(LAST_TICK_KEY)
    pipe.pttl(LEASE_KEY)
    pipe.get(PLANNING_TIMEOUTS_KEY)
    pipe.get(LAST_FAILURE_KEY)
    raw_tick, pttl, raw_timeouts, raw_failure = pipe.execute()
    tick = status_instant(read_status_record(raw_tick))
    age = None if tick is None else max(0.0, (now - tick).total_seconds())
    held = pttl is not None and int(pttl) != -2  # -2: no such key; -1: held without TTL
    ttl = int(pttl) / 1000 if held and int(pttl) >= 0 else None
    failure = read_status_record(raw_failure)
    return SchedulerStatus(
        tick,
        age,
        held,
        ttl,
        stale_after_s,
        planning_timeouts=int(raw_timeouts or 0),
        last_failure_at=status_instant(failure),
        last_failure=None if failure is None else str(failure.get("error", "")),
    )
