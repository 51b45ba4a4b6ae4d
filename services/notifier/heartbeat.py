"""Worker liveness: a heartbeat of each `liaison worker` process in Redis.

A dramatiq middleware: when a worker process has booted it writes, every `interval_s`
seconds, one key `liaison:workers:<host>:<pid>:<nonce>` holding which queues it consumes
and when it last beat, with a TTL of three beats. A worker that dies stops beating and
its key expires; one that stops cleanly deletes it. `live_workers` reads them back for
the dashboard, `liaison status`, `/metrics` and the "no live worker" alert.

dramatiq's Redis broker keeps heartbeats of its own, but per consumer in a sorted set
keyed by broker id with no queue or host in it; these say what ops need to read.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

import dramatiq
import redis

log = logging.getLogger(__name__)

PREFIX = "liaison:workers:"
DEFAULT_INTERVAL_S = 5.0  #: seconds between beats
BEATS_TO_LIVE = 3  #: a key outlives its last beat by this many intervals


@dataclass(frozen=True)
class WorkerSeen:
    id: str  #: host:pid:nonce
    host: str
    pid: int
    queues: tuple[str, ...]
    threads: int
    started_at: datetime
    last_seen: datetime


class WorkerHeartbeat(dramatiq.Middleware):
    """Beats in Redis from `after_worker_boot` until `before_worker_shutdown`."""

    def __init__(
        self, client: Callable[[], redis.Redis], *, interval_s: float = DEFAULT_INTERVAL_S
    ) -> None:
        self.client, self.interval_s = client, interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._key = ""
        self._body: dict[str, object] = {}

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        declared = worker.consumer_whitelist or broker.get_declared_queues()
        self.start(
            sorted(q for q in declared if not q.endswith((".DQ", ".XQ"))), worker.worker_threads
        )

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.stop()

    def start(self, queues: list[str], threads: int) -> None:
        """Beat now and every `interval_s` seconds, until `stop`."""
        host, pid = socket.gethostname(), os.getpid()
        self._key = f"{PREFIX}{host}:{pid}:{uuid4().hex[:8]}"
        self._body = {
            "host": host,
            "pid": pid,
            "queues": queues,
            "threads": threads,
            "started_at": datetime.now(UTC).isoformat(),
        }
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="liaison-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and say so: the key goes at once, not when its TTL runs out."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 1)
        try:
            self.client().delete(self._key)
        except redis.RedisError:  # Redis away at shutdown: the key expires by itself
            log.warning("could not remove the worker heartbeat %s", self._key)

    def beat(self) -> None:
        body = {**self._body, "last_seen": datetime.now(UTC).isoformat()}
        ttl_ms = int(self.interval_s * BEATS_TO_LIVE * 1000)
        self.client().set(self._key, json.dumps(body), px=ttl_ms)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except redis.RedisError as exc:  # Redis away: the worker is too; beat again
                log.warning("worker heartbeat failed: %s", type(exc).__name__)
            self._stop.wait(self.interval_s)


def add_heartbeat(broker: dramatiq.Broker, client: Callable[[], redis.Redis]) -> None:
    """Give `broker` the heartbeat middleware, once."""
    if not any(isinstance(m, WorkerHeartbeat) for m in broker.middleware):
        broker.add_middleware(WorkerHeartbeat(client))


def live_workers(client: redis.Redis) -> list[WorkerSeen]:
    """Every worker process whose heartbeat has not expired, by host and pid."""
    keys = sorted(client.scan_iter(match=f"{PREFIX}*", count=500))
    if not keys:
        return []
    seen = []
    for key, raw in zip(keys, client.mget(keys), strict=True):
        if raw is None:
            continue  # expired between the scan and the read
        try:
            body = json.loads(raw)
            seen.append(
                WorkerSeen(
                    id=(key.decode() if isinstance(key, bytes) else str(key))[len(PREFIX) :],
                    host=str(body["host"]),
                    pid=int(body["pid"]),
                    queues=tuple(str(q) for q in body["queues"]),
                    threads=int(body.get("threads", 0)),
                    started_at=datetime.fromisoformat(body["started_at"]),
                    last_seen=datetime.fromisoformat(body["last_seen"]),
                )
            )
        except (ValueError, KeyError, TypeError):
            log.warning("an unreadable worker heartbeat in Redis was skipped")
    return sorted(seen, key=lambda w: (w.host, w.pid))
