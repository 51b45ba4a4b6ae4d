"""The scheduler service: a loop that reconciles on every tick, under a lease.

Each tick, if this replica holds the lease, plans everything whose send time has come and
is not yet planned (a scheduler back after two days catches up what still matters, see
`schedules.py`), has the notifier sweep its outbox (the `OutboxSweeper` of `services.notifier`),
logs the tick's counts and records the last successful tick in Redis for monitoring
(`shared/status_keys.py`). A replica without the lease stands by; the one holding it keeps
it alive while a long tick runs. SIGTERM sets `stop`: a tick waiting for shard jobs gives
up at once, the current tick ends, the loop exits and releases the lease.

A failed tick (the database or Redis away, shard jobs that did not finish in time) is
logged, recorded under `LAST_FAILURE_KEY` for `liaison status` and `/metrics`, and retried
at the next tick: planning is idempotent, so nothing is lost or doubled.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine

from services.notifier import DEFAULT_STALE_SENDING_S, OutboxSweeper
from services.scheduler.lease import RedisLease
from services.scheduler.planning.planner import PlanReport, ShardRunner
from services.scheduler.planning.reconcile import reconcile
from services.scheduler.planning.schedules import local_date
from services.scheduler.planning.shards import DEFAULT_SHARD_DEPTH
from services.scheduler.planning.workdays import calendar_gaps
from shared.clock import Clock
from shared.errors import LiaisonError
from shared.masking import mask_text
from shared.settings import DEFAULT_TIMEZONE
from shared.status_keys import CALENDAR_KEY, LAST_FAILURE_KEY, LAST_TICK_KEY, status_record

log = logging.getLogger(__name__)

DEFAULT_TICK_S = 30.0  #: seconds between ticks


@dataclass
class SchedulerService:
    engine: Engine
    broker: RedisBroker
    client: redis.Redis
    lease: RedisLease
    clock: Clock
    depth: int = DEFAULT_SHARD_DEPTH
    runner: ShardRunner | None = None
    tick_s: float = DEFAULT_TICK_S
    stop: threading.Event = field(default_factory=threading.Event)
    #: called after each tick (tests and the simulated clock advance time here)
    after_tick: Callable[[], None] | None = None
    ticks: int = 0
    acted: int = 0
    #: seconds after which a claim for sending is taken as abandoned: the workers' setting
    #: (LIAISON_STALE_SENDING_S), which `liaison scheduler` passes from its settings
    stale_sending_s: int = DEFAULT_STALE_SENDING_S
    sweeper: OutboxSweeper = field(init=False)

    def __post_init__(self) -> None:
        self.sweeper = OutboxSweeper(self.engine, self.broker, self.stale_sending_s)

    def tick(self) -> PlanReport | None:
        """One reconcile if this replica holds the lease; None when standing by."""
        if not self.lease.ensure():
            log.info("standing by: another scheduler holds the lease")
            return None
        now = self.clock.now()
        with self.lease.kept_alive():
            report = reconcile(
                self.engine, now, depth=self.depth, broker=self.broker, runner=self.runner
            )
        if not self.lease.renew():
            # The plan is committed and idempotent, so nothing is lost or doubled; but
            # another replica now acts, and this one must not record or sweep.
            log.error("lost the scheduler lease during a tick; standing by")
            return report
        report.enqueued += self.sweeper.sweep(now)
        self.acted += 1
        summary = report.as_dict()
        self.client.set(LAST_TICK_KEY, status_record(now, **summary))
        self.client.set(CALENDAR_KEY, json.dumps(report.calendar_gaps))
        log.info("tick at %s: %s", now.isoformat(), json.dumps(summary, ensure_ascii=False))
        return report

    def warn_calendar(self) -> None:
        gaps = calendar_gaps(local_date(self.clock.now(), DEFAULT_TIMEZONE))
        if gaps:
            log.warning(
                "the official adjusted working days of %s are not known yet: digests use"
                " weekends, the known public holidays and organizations' own overrides",
                ", ".join(map(str, gaps)),
            )

    def record_failure(self, exc: Exception) -> None:
        """Leave the failure where `liaison status` and `/metrics` read it."""
        line = mask_text(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        try:
            self.client.set(LAST_FAILURE_KEY, status_record(self.clock.now(), error=line))
        except redis.RedisError:
            log.warning("could not record the failed tick in Redis")

    def run(self, max_ticks: int | None = None) -> None:
        """Tick until stopped (SIGTERM) or `max_ticks` ticks; release the lease on the way out."""
        self.warn_calendar()
        try:
            while not self.stop.is_set():
                try:
                    self.tick()
                except LiaisonError as exc:
                    # Shard jobs that did not finish (or a stop while waiting): said in one
                    # line; the next tick waits for the same jobs again.
                    log.error("tick failed: %s; retrying at the next tick", exc)
                    self.record_failure(exc)
                except Exception as exc:
                    # A database or Redis outage must not kill the service: the next tick
                    # reconciles whatever this one missed.
                    log.exception("tick failed; retrying at the next tick")
                    self.record_failure(exc)
                self.ticks += 1
                if self.after_tick is not None:
                    self.after_tick()
                if max_ticks is not None and self.ticks >= max_ticks:
                    break
                self.stop.wait(self.tick_s)
        finally:
            try:
                self.lease.release()
            except redis.RedisError:
                log.warning("could not release the lease (Redis away); it expires by itself")
            log.info("scheduler stopped after %d tick(s), %d acted", self.ticks, self.acted)
