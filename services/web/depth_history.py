"""Queue depth over time: each alert check leaves one sample in Redis, the chart reads them.

A sorted set scored by the sample's instant (ms); samples older than `KEEP` are dropped
as new ones come, so the set stays small (a week at one sample a minute is 10,080).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis

from services.web.snapshot import Snapshot

HISTORY_KEY = "liaison:web:queue_depth"
KEEP = timedelta(days=7)
MAX_SAMPLES = 20_000  #: a bound whatever the check interval


@dataclass(frozen=True)
class DepthSample:
    at: datetime
    depth: dict[str, int]  #: queue → waiting + delayed


def record_depth(client: redis.Redis, snapshot: Snapshot) -> None:
    at_ms = int(snapshot.at.timestamp() * 1000)
    body = json.dumps(
        {"at": at_ms, "depth": {q.name: q.waiting + q.delayed for q in snapshot.queues}},
        sort_keys=True,
    )
    pipe = client.pipeline(transaction=False)
    pipe.zadd(HISTORY_KEY, {body: at_ms})
    pipe.zremrangebyscore(HISTORY_KEY, "-inf", at_ms - int(KEEP.total_seconds() * 1000))
    pipe.zremrangebyrank(HISTORY_KEY, 0, -MAX_SAMPLES - 1)
    pipe.execute()


def depth_history(client: redis.Redis, *, since: datetime) -> list[DepthSample]:
    raws = client.zrangebyscore(HISTORY_KEY, int(since.timestamp() * 1000), "+inf")
    samples = []
    for raw in raws:
        try:
            body = json.loads(raw)  # type: ignore[arg-type]
            samples.append(
                DepthSample(
                    datetime.fromtimestamp(int(body["at"]) / 1000, UTC),
                    {str(k): int(v) for k, v in body["depth"].items()},
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a sample we cannot read is one point less, not a broken page
    return samples
