"""Pacing across every worker process: a Redis token bucket that waits, and a concurrency cap.

dramatiq's own limiters reject a message when the limit is reached, and a rejection burns
a retry. Here a worker asks Redis for the next free slot of the rate, is told how long to
wait for it, sleeps that long, and sends: the rate holds and no retry is spent.

The bucket is kept as the instant the next token falls due (as in GCRA): one atomic
script reserves a token by pushing that instant one interval forward and returns the
wait. Redis's own clock is used, so workers on several machines agree.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis

#: reserve one token; KEYS[1] = bucket, ARGV = interval_us, burst; returns the wait in µs
_RESERVE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local earliest = now - (burst - 1) * interval
if next_free < earliest then next_free = earliest end
redis.call('SET', KEYS[1], string.format('%.0f', next_free + interval),
           'PX', math.ceil((next_free + interval - now) / 1000) + 1000)
local wait = next_free - now
if wait < 0 then wait = 0 end
return wait
"""

#: take a concurrency slot; KEYS[1] = zset of holders, ARGV = holder, limit, lease_ms
_ACQUIRE_SLOT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
  return 1
end
return 0
"""

DEFAULT_SLOT_LEASE_MS = 60_000  #: a slot held longer than this (a killed worker) is freed
DEFAULT_SLOT_POLL_S = 0.005  #: how often a worker waiting for a free slot asks again
KEY_PREFIX = "liaison:rate"


class Limiter(Protocol):
    def slot(self) -> AbstractContextManager[None]:
        """Wait until a request may start under the limits; hold it until the block ends."""
        ...


class Unlimited:
    def slot(self) -> AbstractContextManager[None]:
        return nullcontext()


@dataclass
class RedisLimiter:
    """At most `rate_per_s` requests a second and `concurrency` in flight, for one `name`,
    across every process sharing the Redis server."""

    client: redis.Redis
    name: str
    rate_per_s: float
    concurrency: int
    burst: int = 1  #: tokens that may be spent at once after an idle spell
    lease_ms: int = DEFAULT_SLOT_LEASE_MS
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.concurrency <= 0 or self.burst <= 0:
            raise ValueError("rate, concurrency and burst must be positive")
        self._reserve = self.client.register_script(_RESERVE_SCRIPT)
        self._acquire = self.client.register_script(_ACQUIRE_SLOT_SCRIPT)
        self._bucket_key = f"{KEY_PREFIX}:{self.name}:bucket"
        self._slots_key = f"{KEY_PREFIX}:{self.name}:slots"

    def reserve_token(self) -> float:
        """Reserve the next token; the seconds to wait before using it."""
        interval_us = 1_000_000 / self.rate_per_s
        wait_us: Any = self._reserve(
            keys=[self._bucket_key], args=[f"{interval_us:.3f}", self.burst]
        )
        return float(wait_us) / 1_000_000

    def acquire_slot(self) -> str:
        holder = uuid.uuid4().hex
        while not self._acquire(
            keys=[self._slots_key], args=[holder, self.concurrency, self.lease_ms]
        ):
            self.sleep(DEFAULT_SLOT_POLL_S)
        return holder

    def release_slot(self, holder: str) -> None:
        self.client.zrem(self._slots_key, holder)

    @contextmanager
    def _slot(self) -> Iterator[None]:
        holder = self.acquire_slot()
        try:
            wait_s = self.reserve_token()
            if wait_s > 0:
                self.sleep(wait_s)
            yield
        finally:
            self.release_slot(holder)

    def slot(self) -> AbstractContextManager[None]:
        return self._slot()
