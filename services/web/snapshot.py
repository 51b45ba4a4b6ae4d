"""The figures ops look at, read once: queues, dead letters, scheduler, notifications.

The dashboard, `/metrics`, the alerts and `liaison status` all read this, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import redis
from sqlalchemy import Engine, func, select

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

    @property
    def dead_letters(self) -> int:
        return sum(q.dead for q in self.queues)

    @property
    def oldest_waiting_s(self) -> float | None:
        ages = [q.oldest_waiting_s for q in self.queues if q.oldest_waiting_s is not None]
        return max(ages) if ages else None

    def notifications_in(self, status: str) -> int:
        return sum(n.count for n in self.notifications if n.status == status)


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
    return Snapshot(
        at=now,
        queues=all_queue_figures(client, namespace, now_ms),
        scheduler=scheduler_status(
            client,
            web.scheduler_tick_key,
            web.scheduler_lease_key,
            now=now,
            stale_after_s=web.scheduler_stale_s,
        ),
        notifications=notification_counts(engine),
    )
