"""The figures ops look at, read once: queues, dead notifications, failures per provider,
workers, the scheduler, notifications by status.

The dashboard (its queue table, badge and scheduler card), `/metrics`, the alerts and
`liaison status` all read this, so they agree. Dead notifications are counted in the
delivery log (`services.notifier.dead_count`), never in the broker's dead-letter queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from services.notifier import (
    NOTIFICATIONS_QUEUE,
    ProviderFailures,
    WorkerSeen,
    dead_count,
    failures_by_provider,
    live_workers,
)
from services.web.queues import QueueFigures, all_queue_figures
from services.web.scheduler_status import SchedulerStatus, scheduler_status
from services.web.settings import WebSettings
from shared.models import Notification


@dataclass(frozen=True)
class NotificationCount:
    kind: str
    channel: str
    status: str
    count: int


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    queues: list[QueueFigures]
    scheduler: SchedulerStatus
    notifications: list[NotificationCount]
    dead: int = 0  #: notifications dead now (the delivery log): the one dead count
    dead_recent: int = 0  #: of those, the ones that died within the alert window
    failures: tuple[ProviderFailures, ...] = ()  #: per provider, within the alert window
    workers: tuple[WorkerSeen, ...] = ()  #: worker processes beating now

    @property
    def oldest_waiting_s(self) -> float | None:
        ages = [q.oldest_waiting_s for q in self.queues if q.oldest_waiting_s is not None]
        return max(ages) if ages else None

    def dead_in(self, queue: str) -> int:
        """The dead figure of a queue's row: for the notifications queue the dead
        notifications; for another queue (planning shards, which have no rows) the
        messages dramatiq dead-lettered."""
        if queue == NOTIFICATIONS_QUEUE:
            return self.dead
        return next((q.dead for q in self.queues if q.name == queue), 0)

    def notifications_in(self, status: str) -> int:
        return sum(n.count for n in self.notifications if n.status == status)

    def workers_on(self, queue: str) -> int:
        return sum(1 for w in self.workers if queue in w.queues)


def notification_counts(engine: Engine) -> list[NotificationCount]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Notification.kind, Notification.channel, Notification.status, func.count()
            ).group_by(Notification.kind, Notification.channel, Notification.status)
        ).all()
    return [NotificationCount(r[0], r[1], r[2], int(r[3])) for r in sorted(rows, key=tuple)]


def take_snapshot(
    engine: Engine, client: redis.Redis, namespace: str, web: WebSettings, *, now: datetime
) -> Snapshot:
    now_ms = int(now.timestamp() * 1000)
    with Session(engine) as session:
        dead = dead_count(session)
        dead_recent = dead_count(session, since=now - timedelta(seconds=web.dead_window_s))
        failures = failures_by_provider(
            session, since=now - timedelta(seconds=web.failure_window_s)
        )
    return Snapshot(
        at=now,
        queues=all_queue_figures(client, namespace, now_ms),
        scheduler=scheduler_status(
            client,
            now=now,
            stale_after_s=web.scheduler_stale_s,
        ),
        notifications=notification_counts(engine),
        dead=dead,
        dead_recent=dead_recent,
        failures=tuple(failures),
        workers=tuple(live_workers(client)),
    )
