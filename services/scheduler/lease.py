"""Only one scheduler acts at a time: a lease in Redis, taken with SET NX PX and renewed
with a compare-and-set script, so a replica can only renew or release its own lease.

A replica whose renewal fails (the lease expired while it was stalled, and another took
it) has lost the lease and must stop acting until it wins it again.

A tick can outlast the lease's TTL (a county planned in many shards takes longer than
the ten seconds a short tick's lease lives): `kept_alive` renews it from a thread while
the tick runs, so that a live replica keeps it and only a dead or stalled one loses it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import redis

from shared.status_keys import LEASE_KEY

log = logging.getLogger(__name__)

DEFAULT_LEASE_KEY = LEASE_KEY
DEFAULT_LEASE_TTL_MS = 30_000  #: milliseconds a lease lives without renewal

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


@dataclass
class RedisLease:
    client: redis.Redis
    key: str = DEFAULT_LEASE_KEY
    ttl_ms: int = DEFAULT_LEASE_TTL_MS
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    held: bool = False

    def __post_init__(self) -> None:
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    def ensure(self) -> bool:
        """Renew the lease if held, else try to take it; whether this replica holds it."""
        if self.held and self.renew():
            return True
        self.held = bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))
        return self.held

    def renew(self) -> bool:
        """Extend our lease; False (and no longer held) if it is not ours any more."""
        self.held = bool(self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))
        return self.held

    @contextmanager
    def kept_alive(self) -> Iterator[None]:
        """Renew the lease every third of its TTL while the block runs; a renewal refused
        (the lease is not ours any more) ends the renewals and leaves `held` False."""
        stop = threading.Event()

        def renew_until_stopped() -> None:
            while not stop.wait(self.ttl_ms / 3000):
                try:
                    if not self.renew():
                        log.error("lost the scheduler lease while a tick was running")
                        return
                except redis.RedisError as exc:
                    # Redis away for a moment: the lease lives on until its TTL.
                    log.warning("could not renew the scheduler lease (%s); trying again", exc)

        thread = threading.Thread(target=renew_until_stopped, name="liaison-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    def release(self) -> None:
        if self.held:
            self._release(keys=[self.key], args=[self.token])
        self.held = False
