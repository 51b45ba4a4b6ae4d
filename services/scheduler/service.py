"""The scheduler service: a loop that reconciles on every tick, under a lease.

Each tick, if this replica holds the lease, plans everything whose send time has come and
is not yet planned (a scheduler back after two days catches up what still matters, see
`schedules.py`), sweeps the outbox (below), logs the tick's counts and records the last
successful tick in Redis for monitoring. A replica without the lease stands by; the one
holding it keeps it alive while a long tick runs. SIGTERM lets the current tick finish,
then the loop exits and releases the lease.

The sweep finds the notifications nothing will move on any more, whatever failed:

- `pending` for `STALE_PENDING`: a planner committed them and died before handing them
  over: they are enqueued;
- `queued` or `deferred`, untouched and due for `lost_after`, with no message waiting in
  Redis, found so on two sweeps in a row (a worker's prefetched message is not waiting
  either, but its row moves on before the next sweep): their message was lost (a flushed
  or restored Redis, a retry that could not be enqueued while Redis was away, a message
  orphaned by a connection cut): they are enqueued again (harmless if a message did
  survive: the actor's compare-and-set);
- `sending` for `stale_sending_s`: the run that claimed them is gone, and whether the
  provider took the message is unknown: they are dead-lettered with that reason, for a
  person to retry (`liaison deliveries retry --dead`), never sent again blindly.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine, select

from services.notifier.actors import SEND_NOTIFICATION
from services.notifier.broker import NOTIFICATIONS_QUEUE
from services.notifier.enqueuing import enqueue
from services.notifier.outbox import WAITING_STATUSES, dead_letter_stale_sending, waiting_since
from services.notifier.recovery import waiting_message_args
from services.notifier.runtime import DEFAULT_STALE_SENDING_S
from services.scheduler.lease import RedisLease
from services.scheduler.planner import PlanReport, ShardRunner
from services.scheduler.reconcile import reconcile
from services.scheduler.schedules import local_date
from services.scheduler.shards import DEFAULT_SHARD_DEPTH
from services.scheduler.workdays import calendar_gaps
from shared.clock import Clock
from shared.db import transaction
from shared.models import Notification
from shared.settings import DEFAULT_TIMEZONE

log = logging.getLogger(__name__)

LAST_TICK_KEY = "liaison:scheduler:last_tick"  #: JSON of the last successful tick
CALENDAR_KEY = "liaison:scheduler:calendar_gaps"  #: JSON list of years, for a dashboard
DEFAULT_TICK_S = 30.0  #: seconds between ticks
#: a notification still pending this long after it was created was left by a crash
STALE_PENDING = timedelta(minutes=5)
#: a queued notification untouched and due this long, with no message waiting, lost it
#: (or sooner, when `stale_sending_s` is shorter: the drills shorten it)
STALE_QUEUED = timedelta(minutes=5)


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
    #: notifications the last sweep found waiting with no message, and when each was
    #: last touched: lost if the next sweep finds them so again, untouched
    suspects: dict[int, datetime] = field(default_factory=dict)

    @property
    def lost_after(self) -> timedelta:
        return min(STALE_QUEUED, timedelta(seconds=self.stale_sending_s))

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
        report.enqueued += self.sweep(now)
        self.acted += 1
        summary = report.as_dict()
        self.client.set(LAST_TICK_KEY, json.dumps({**summary, "at": now.isoformat()}))
        self.client.set(CALENDAR_KEY, json.dumps(report.calendar_gaps))
        log.info("tick at %s: %s", now.isoformat(), json.dumps(summary, ensure_ascii=False))
        return report

    def sweep_pending(self, now: datetime) -> int:
        """Enqueue notifications a crashed planner committed but never handed over."""
        with transaction(self.engine) as session:
            ids = list(
                session.scalars(
                    select(Notification.id).where(
                        Notification.status == "pending",
                        Notification.created_at < now - STALE_PENDING,
                    )
                )
            )
        if not ids:
            return 0
        log.warning("enqueuing %d notification(s) left pending", len(ids))
        return len(enqueue(self.engine, self.broker, ids, now=now))

    def sweep(self, now: datetime) -> int:
        """The whole sweep (see the module's docstring); how many notifications it enqueued."""
        enqueued = self.sweep_pending(now)
        enqueued += self.sweep_lost_messages(now)
        self.sweep_stale_sending(now)
        return enqueued

    def sweep_lost_messages(self, now: datetime) -> int:
        """Enqueue again the queued or deferred notifications whose message was lost."""
        with transaction(self.engine) as session:
            candidates = waiting_since(session, now - self.lost_after)
        if not candidates:
            self.suspects = {}
            return 0
        waiting = waiting_message_args(self.broker, NOTIFICATIONS_QUEUE, SEND_NOTIFICATION)
        unseen = {i: at for i, at in candidates.items() if i not in waiting}
        lost = [i for i, at in unseen.items() if self.suspects.get(i) == at]
        self.suspects = {i: at for i, at in unseen.items() if self.suspects.get(i) != at}
        if not lost:
            return 0
        log.warning("enqueuing again %d notification(s) whose message was lost", len(lost))
        return len(
            enqueue(
                self.engine,
                self.broker,
                lost,
                now=now,
                from_statuses=WAITING_STATUSES,
                detail="enqueued again: its message was lost",
            )
        )

    def sweep_stale_sending(self, now: datetime) -> int:
        """Dead-letter the notifications whose claim for sending outlived its run."""
        with transaction(self.engine) as session:
            dead = dead_letter_stale_sending(
                session, now - timedelta(seconds=self.stale_sending_s), now=now
            )
        if dead:
            log.warning(
                "dead-lettered %d notification(s) left in sending by a lost worker", len(dead)
            )
        return len(dead)

    def warn_calendar(self) -> None:
        gaps = calendar_gaps(local_date(self.clock.now(), DEFAULT_TIMEZONE))
        if gaps:
            log.warning(
                "the official adjusted working days of %s are not known yet: digests use"
                " weekends, the known public holidays and organizations' own overrides",
                ", ".join(map(str, gaps)),
            )

    def run(self, max_ticks: int | None = None) -> None:
        """Tick until stopped (SIGTERM) or `max_ticks` ticks; release the lease on the way out."""
        self.warn_calendar()
        try:
            while not self.stop.is_set():
                try:
                    self.tick()
                except Exception:
                    # A database or Redis outage must not kill the service: the next tick
                    # reconciles whatever this one missed.
                    log.exception("tick failed; retrying at the next tick")
                self.ticks += 1
                if self.after_tick is not None:
                    self.after_tick()
                if max_ticks is not None and self.ticks >= max_ticks:
                    break
                self.stop.wait(self.tick_s)
        finally:
            self.lease.release()
            log.info("scheduler stopped after %d tick(s), %d acted", self.ticks, self.acted)
