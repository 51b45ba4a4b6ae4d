"""Requeuing dead notifications: all of them, those of one reason, or chosen ones.

One use case behind `liaison deliveries retry --dead [--reason R]` and the dashboard's
requeue buttons. Each requeued notification gets an event in the delivery log naming who
requeued it, so that a second sending of a message nobody knows was received is traced
to a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine

from services.notifier.deliveries import DEAD, dead_ids
from services.notifier.enqueuing import enqueue
from shared.db import transaction

MAX_BY = 80  #: characters of "who" kept in the log


def requeue_dead(
    engine: Engine,
    broker: RedisBroker,
    *,
    now: datetime,
    by: str,
    reason: str | None = None,
    ids: Sequence[int] | None = None,
) -> list[int]:
    """Queue the dead notifications again (those of `reason`, or of `ids`, or all), once
    each: a notification that is no longer dead (someone requeued it a moment ago) is
    left alone. Returns the ids requeued."""
    with transaction(engine) as session:
        chosen = dead_ids(session, reason=reason, among=ids)
    detail = f"requeued by {by[:MAX_BY]}" + (f" (reason: {reason})" if reason else "")
    # from_statuses=dead: a compare-and-set, so two operators pressing at once requeue once
    return enqueue(engine, broker, chosen, now=now, from_statuses=(DEAD,), detail=detail)
