"""The composition root: every liaison process is wired here, from settings, and only here.

`liaison worker`, `liaison scheduler`, `liaison run`, `liaison serve`, `liaison demo`, the
benchmarks and the tests all call `bootstrap(settings)` and take what they need from the
`Wiring` it returns: the database engine, the Redis client and dramatiq broker, the clock,
the notifier's runtime (senders, limits, renderer), the actors (sending and planning)
and the refreshers that re-read a notification's data at send time. A new capability is
wired once, here, and every process has it; a test that starts the production commands
therefore tests what is deployed.

Nothing connects when `bootstrap` returns: each part is built on first use (the embedded
redis-server, too, is started by the first thing that needs Redis). The worker entry
module (`services/worker.py`) asks for the actors at import, as dramatiq requires.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine

from services.notifier import (
    NOTIFICATIONS_QUEUE,
    NotifierActors,
    Runtime,
    add_heartbeat,
    build_broker,
    build_runtime,
    declare_actors,
    parse_quiet_hours,
    registered_kinds,
    unregister_refresher,
)
from services.scheduler.lease import RedisLease
from services.scheduler.planning.digest import register_refreshers
from services.scheduler.planning.planner import ShardRunner
from services.scheduler.planning.shards import (
    PLANNING_QUEUE,
    declare_planner_actor,
    dramatiq_runner,
)
from services.scheduler.service import SchedulerService
from shared.clock import Clock, FileClock, SystemClock
from shared.db import ensure_schema
from shared.redis_server import redis_url
from shared.settings import Settings

REDIS_TIMEOUT_S = 10  #: seconds a Redis call of ours may take before it fails
#: every queue a `liaison worker` consumes unless told otherwise (`--queues`)
WORKER_QUEUES = (NOTIFICATIONS_QUEUE, PLANNING_QUEUE)


@dataclass(frozen=True)
class Actors:
    """Every actor a worker runs, declared on one broker."""

    notifier: NotifierActors
    plan_shard: dramatiq.Actor[[str, str, str], None]


@dataclass
class Wiring:
    """What one process needs, built from settings on first use."""

    settings: Settings
    clock: Clock
    #: an engine the caller already has (a test's); else the configured database's
    given_engine: Engine | None = None
    #: a runtime the caller built (a benchmark's senders); else the configured one
    given_runtime: Runtime | None = None
    #: a broker the caller built (a test's, on its own Redis database); else the configured
    given_broker: RedisBroker | None = None
    #: whether `actors` registers the refreshers (tests of the delivery state machine on
    #: rows that no ledger backs leave them out; every process of liaison has them)
    with_refreshers: bool = True
    _registered: frozenset[str] = frozenset()
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @cached_property
    def engine(self) -> Engine:
        """The database, at the current schema (the embedded SQLite one is upgraded; a
        production database must be upgraded by `liaison db upgrade` first)."""
        return self.given_engine or ensure_schema(self.settings)

    @cached_property
    def redis_url(self) -> str:
        # The embedded server is started here, on first use, never at bootstrap.
        with self._lock:
            return redis_url(self.settings)

    @cached_property
    def redis(self) -> redis.Redis:
        # Timeouts: a Redis that stops answering must fail a call (a web request, a lease
        # renewal), not hang it; no caller of this client blocks on purpose.
        return redis.Redis.from_url(
            self.redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=2
        )

    @cached_property
    def broker(self) -> RedisBroker:
        if self.given_broker is not None:
            return self.given_broker
        with self._lock:
            return build_broker(self.redis_url, self.settings, queues=WORKER_QUEUES)

    @cached_property
    def runtime(self) -> Runtime:
        """The notifier's runtime: senders, Redis limits, renderer, clock, quiet hours."""
        if self.given_runtime is not None:
            return self.given_runtime
        quiet_start, quiet_end = parse_quiet_hours(self.settings.quiet_hours)
        runtime = build_runtime(
            self.settings, redis_client=self.redis, clock=self.clock, engine=self.engine
        )
        return dataclasses.replace(runtime, quiet_start=quiet_start, quiet_end=quiet_end)

    @cached_property
    def actors(self) -> Actors:
        """The actors, declared on this process's broker, and the refreshers registered:
        a worker that sends a digest re-reads it from the ledger first."""
        if self.with_refreshers:
            before = registered_kinds()
            register_refreshers(self.clock)
            self._registered = registered_kinds() - before
        # Worker liveness: a worker process booting on this broker beats in Redis.
        add_heartbeat(self.broker, lambda: self.redis)
        return Actors(
            notifier=declare_actors(
                self.broker, lambda: self.runtime, max_retries=self.settings.max_retries
            ),
            plan_shard=declare_planner_actor(self.broker, lambda: self.engine, lambda: self.redis),
        )

    def shard_runner(self, stop: threading.Event | None = None) -> ShardRunner:
        """Planning shards as jobs on the workers (`liaison scheduler --distribute`)."""
        return dramatiq_runner(
            self.actors.plan_shard,
            self.redis,
            wait_s=self.settings.planning_timeout_s,
            stop=stop,
        )

    def scheduler(
        self,
        *,
        tick_s: float,
        depth: int,
        distribute: bool,
        after_tick: Callable[[], None] | None = None,
    ) -> SchedulerService:
        """The scheduler service; with `distribute`, its shards are planned by workers."""
        stop = threading.Event()
        return SchedulerService(
            engine=self.engine,
            broker=self.broker,
            client=self.redis,
            lease=RedisLease(self.redis, ttl_ms=max(10_000, int(tick_s * 3000))),
            clock=self.clock,
            depth=depth,
            runner=self.shard_runner(stop) if distribute else None,
            tick_s=tick_s,
            stop=stop,
            after_tick=after_tick,
            stale_sending_s=self.settings.stale_sending_s,
        )

    def worker(self, *, threads: int) -> dramatiq.Worker:
        """An in-process worker on every queue (for `liaison demo`, which is one command);
        services run `liaison worker` processes instead."""
        _ = self.actors
        return dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=100)

    def close(self) -> None:
        """Release what was opened (nothing, if nothing was used) and the refreshers this
        wiring registered, so that a test's clock does not outlive the test."""
        for kind in self._registered:
            unregister_refresher(kind)
        if "broker" in self.__dict__ and self.given_broker is None:
            self.broker.close()
        if "redis" in self.__dict__:
            self.redis.close()


def configured_clock(settings: Settings) -> Clock:
    """The real clock, or the rehearsal clock that `LIAISON_CLOCK_FILE` names."""
    if settings.clock_file:
        return FileClock(Path(settings.clock_file))
    return SystemClock()


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    runtime: Runtime | None = None,
    broker: RedisBroker | None = None,
    refreshers: bool = True,
) -> Wiring:
    """Wire a process from `settings`; `clock`, `engine`, `runtime` and `broker` replace
    the configured ones (a simulated clock, a test's database, a benchmark's senders)."""
    return Wiring(
        settings=settings,
        clock=clock or configured_clock(settings),
        given_engine=engine,
        given_runtime=runtime,
        given_broker=broker,
        with_refreshers=refreshers,
    )
