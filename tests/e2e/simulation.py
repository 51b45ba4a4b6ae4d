"""A scheduler and a worker on real PostgreSQL and Redis, driven by a simulated clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine, and_, exists, not_, or_, select
from sqlalchemy.orm import Session

from services.notifier.actors import declare_actors
from services.notifier.broker import NOTIFICATIONS_QUEUE
from services.notifier.rendering import render_message
from services.notifier.runtime import Runtime
from services.notifier.senders.outbox_file import OutboxFileSender
from services.scheduler.digest import register_refreshers
from services.scheduler.lease import RedisLease
from services.scheduler.service import SchedulerService
from shared.clock import FixedClock
from shared.models import Liaison, Member, Mute, Notification

JOIN_TIMEOUT_MS = 120_000


def local(day: date, hh: int, mm: int = 0) -> datetime:
    """Shanghai wall-clock time as a UTC instant."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC) - timedelta(hours=8)


@dataclass
class Simulation:
    engine: Engine
    broker: RedisBroker
    client: redis.Redis
    clock: FixedClock
    worker: dramatiq.Worker
    service: SchedulerService

    @classmethod
    def start(
        cls, engine: Engine, broker: RedisBroker, client: redis.Redis, outbox: Path, at: datetime
    ) -> Simulation:
        clock = FixedClock(at)
        runtime = Runtime(
            engine=engine,
            senders={"sms": OutboxFileSender(outbox), "email": OutboxFileSender(outbox)},
            render=render_message,
            clock=clock,
        )
        register_refreshers(clock)
        declare_actors(broker, lambda: runtime, max_retries=2)
        worker = dramatiq.Worker(broker, worker_threads=8, worker_timeout=50)
        worker.start()
        service = SchedulerService(
            engine=engine, broker=broker, client=client, lease=RedisLease(client), clock=clock
        )
        return cls(engine, broker, client, clock, worker, service)

    def tick_at(self, instant: datetime) -> None:
        """One scheduler tick at `instant`, then the queue drained at the same instant."""
        self.clock.instant = instant
        report = self.service.tick()
        if report is None or not report.enqueued:
            return
        self.broker.join(NOTIFICATIONS_QUEUE, timeout=JOIN_TIMEOUT_MS)
        self.worker.join()

    def run(self, start: datetime, end: datetime, step: timedelta) -> None:
        instant = start
        while instant < end:
            self.tick_at(instant)
            instant += step

    def stop(self) -> None:
        self.worker.stop()


def notifications(engine: Engine, kind: str) -> list[Notification]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Notification).where(Notification.kind == kind).order_by(Notification.id)
            )
        )


def reachable_liaisons(engine: Engine) -> set[str]:
    """Liaisons with an address for one of their channels."""
    with Session(engine) as session:
        rows = session.execute(
            select(Liaison.liaison_id, Liaison.phone, Liaison.email, Liaison.channels)
        ).all()
    return {
        r.liaison_id
        for r in rows
        if (r.phone and "sms" in r.channels) or (r.email and "email" in r.channels)
    }


def members_reminded(engine: Engine, org: str, day: date, *also: date) -> set[str]:
    """Reachable members whose home or host organization is `org`, in scope on `day` and
    on each of `also` (a reminder planned before the event day needs both)."""

    def in_scope(on: date) -> Any:
        muted = exists().where(
            Mute.member_id == Member.member_id,
            Mute.from_date <= on,
            or_(Mute.to_date.is_(None), Mute.to_date >= on),
        )
        return and_(Member.status == "active", Member.mobile_since <= on, not_(muted))

    with Session(engine) as session:
        rows = session.execute(
            select(Member.member_id, Member.phone, Member.email, Member.channels).where(
                or_(Member.home_org == org, Member.host_org == org),
                *(in_scope(on) for on in (day, *also)),
            )
        ).all()
    return {
        r.member_id
        for r in rows
        if (r.phone and "sms" in r.channels) or (r.email and "email" in r.channels)
    }
