"""The outbox's sweeps: finding the notifications nothing will move on any more.

Whatever failed, a notification must not sit forever. The scheduler's tick calls
`OutboxSweeper.sweep` (one call into the notifier's public surface); the knowledge of
statuses, messages and claims stays here, with the notifier that owns them.

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

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine, select

from services.notifier.broker import NOTIFICATIONS_QUEUE
from services.notifier.enqueuing import enqueue
from services.notifier.outbox import WAITING_STATUSES, dead_letter_stale_sending, waiting_since
from services.notifier.runtime import DEFAULT_STALE_SENDING_S
from services.notifier.waiting import waiting_notification_ids
from shared.db import transaction
from shared.models import Notification

log = logging.getLogger(__name__)

#: a notification still pending this long after it was created was left by a crash
STALE_PENDING = timedelta(minutes=5)
#: a queued notification untouched and due this long, with no message waiting, lost it
#: (or sooner, when `stale_sending_s` is shorter: the drills shorten it)
STALE_QUEUED = timedelta(minutes=5)


@dataclass
class OutboxSweeper:
    engine: Engine
    broker: RedisBroker
    #: seconds after which a claim for sending is taken as abandoned: the workers' setting
    #: (LIAISON_STALE_SENDING_S)
    stale_sending_s: int = DEFAULT_STALE_SENDING_S
    #: notifications the last sweep found waiting with no message, and when each was
    #: last touched: lost if the next sweep finds them so again, untouched
    suspects: dict[int, datetime] = field(default_factory=dict)

    @property
    def lost_after(self) -> timedelta:
        return min(STALE_QUEUED, timedelta(seconds=self.stale_sending_s))

    def sweep(self, now: datetime) -> int:
        """The whole sweep (see the module's docstring); how many notifications it enqueued."""
        enqueued = self.sweep_pending(now)
        enqueued += self.sweep_lost_messages(now)
        self.sweep_stale_sending(now)
        return enqueued

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

    def sweep_lost_messages(self, now: datetime) -> int:
        """Enqueue again the queued or deferred notifications whose message was lost."""
        with transaction(self.engine) as session:
            candidates = waiting_since(session, now - self.lost_after)
        if not candidates:
            self.suspects = {}
            return 0
        waiting = waiting_notification_ids(self.broker, NOTIFICATIONS_QUEUE)
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
