"""A rehearsal: `liaison scheduler` and `liaison worker` processes, as deployed, on real
PostgreSQL and Redis, living through simulated time that the test moves.

Every process reads the same rehearsal clock (`LIAISON_CLOCK_FILE`, a file holding one
instant): the test sets an instant, waits for the scheduler to tick at it, then for the
workers to send what it enqueued, and moves on. Nothing is wired by hand: the processes
are the production commands, wired by the one bootstrap.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import Engine, and_, exists, not_, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from shared.clock import FileClock
from shared.models import Liaison, Member, Mute, Notification
from shared.status_keys import LAST_TICK_KEY
from tests.drills.processes import LIAISON, liaison_env, start, stop, wait_until

TICK_S = 0.2  #: real seconds between the scheduler's ticks
TICK_TIMEOUT_S = 120.0  #: the longest one simulated instant may take to plan
DRAIN_TIMEOUT_S = 180.0  #: … and to send


def local(day: date, hh: int, mm: int = 0) -> datetime:
    """Shanghai wall-clock time as a UTC instant."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC) - timedelta(hours=8)


@dataclass
class Rehearsal:
    engine: Engine
    client: redis.Redis
    env: dict[str, str]
    logs: Path
    clock: Path
    scheduler: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    schedulers_started: int = 0

    @classmethod
    def start(
        cls,
        engine: Engine,
        client: redis.Redis,
        *,
        database_url: str,
        redis_url: str,
        home: Path,
        at: datetime,
        workers: int = 1,
        extra_env: dict[str, str] | None = None,
    ) -> Rehearsal:
        """`extra_env`: settings added for every process (a provider's, say)."""
        home.mkdir(parents=True, exist_ok=True)
        clock = home / "clock"
        FileClock.write(clock, at)
        env = liaison_env(
            LIAISON_DATABASE_URL=database_url,
            LIAISON_REDIS_URL=redis_url,
            LIAISON_HOME=str(home),
            LIAISON_CLOCK_FILE=str(clock),
            LIAISON_LOG_LEVEL="INFO",
            **(extra_env or {}),
        )
        rehearsal = cls(engine, client, env, home, clock)
        rehearsal.workers = [
            start(
                [LIAISON, "worker", "--processes", "1", "--threads", "8"],
                env,
                home / f"worker-{i}.log",
            )
            for i in range(workers)
        ]
        rehearsal.start_scheduler()
        return rehearsal

    def start_scheduler(self) -> None:
        self.schedulers_started += 1
        self.scheduler = start(
            [LIAISON, "scheduler", "--tick-seconds", str(TICK_S)],
            self.env,
            self.logs / f"scheduler-{self.schedulers_started}.log",
        )

    def stop_scheduler(self) -> None:
        """SIGTERM, as systemd stops it: the tick ends and the lease is released."""
        if self.scheduler is not None:
            assert stop(self.scheduler) == 0
            self.scheduler = None

    def last_tick(self) -> str | None:
        raw = self.client.get(LAST_TICK_KEY)
        return None if raw is None else str(json.loads(raw)["at"])

    def tick_at(self, instant: datetime) -> None:
        """Move every process's clock to `instant`; wait for a tick at it, then for the
        workers to have sent whatever that tick enqueued."""
        FileClock.write(self.clock, instant)
        if self.scheduler is None:
            return
        ticked = wait_until(lambda: self.last_tick() == instant.isoformat(), TICK_TIMEOUT_S, 0.05)
        assert ticked, self.log("scheduler")
        drained = wait_until(lambda: unsent(self.engine) == 0, DRAIN_TIMEOUT_S, 0.05)
        assert drained, self.log("worker")

    def run(self, begin: datetime, end: datetime, step: timedelta) -> None:
        instant = begin
        while instant < end:
            self.tick_at(instant)
            instant += step

    def log(self, name: str) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in self.logs.glob(f"{name}*.log")
        )

    def stop(self) -> None:
        for process in [*([self.scheduler] if self.scheduler else []), *self.workers]:
            stop(process)


def unsent(engine: Engine) -> int:
    """Notifications planned and not yet settled, deferred ones aside."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM notifications"
                    " WHERE status IN ('pending', 'queued', 'sending')"
                )
            ).scalar_one()
        )


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

    def in_scope(on: date) -> ColumnElement[bool]:
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
