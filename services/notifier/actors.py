"""The notifier's dramatiq actors, thin: they take an id and call the delivery use case.

Actors are declared on a broker handed in (never on an import-time global), so the worker
entry module, the tests and the benchmark each bind them to the broker they built.

The database or Redis being unreachable is an outage, not a delivery error: it says
nothing about the notification, so it must neither spend the retries a provider's
transient errors are allowed (`deliver`'s budget) nor exhaust dramatiq's, which would
leave the row `queued` with no message left (the PostgreSQL drill lost rows that way
before this). The actor waits, in the worker thread, for what went away to answer again
(bounded), then has the message run again; outages are counted apart, in the message's
own options, so that they never bring a notification closer to being given up.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq import Broker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import compute_backoff
from dramatiq.middleware import CurrentMessage
from sqlalchemy import Engine, text

from services.notifier.broker import NOTIFICATIONS_QUEUE
from services.notifier.delivery import deliver
from services.notifier.outages import (
    REDIS_OUTAGE_ERRORS,
    OutageTolerantLimiter,
    Patience,
    is_outage,
    wait_until_back,
)
from services.notifier.runtime import Runtime

log = logging.getLogger(__name__)

SEND_NOTIFICATION = "send_notification"  #: the actor's name, which producers address
#: the message option counting the runs an outage cut short (dramatiq counts them as
#: retries too; `deliver` is given the difference)
OUTAGES_OPTION = "liaison_outages"
#: how long one run waits in its thread for the database or Redis to answer again
OUTAGE_WAIT_S = 30.0
#: the longest delay before a message cut short by an outage that has not ended runs again
MAX_OUTAGE_BACKOFF_MS = 60_000


@dataclass(frozen=True)
class NotifierActors:
    send_notification: dramatiq.Actor[[int], None]


def _retry_when(max_retries: int) -> Callable[[int, BaseException], bool]:
    def retry_when(retries: int, exc: BaseException) -> bool:
        # A Retry we raise carries a delivery decision that `deliver` already bounded by
        # the retry limit (it marks the notification dead itself), or an outage, which
        # never ends a notification; anything else — a bug — gets dramatiq's own limit.
        return isinstance(exc, dramatiq.Retry) or retries < max_retries

    return retry_when


def _database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def _redis_answers(broker: Broker) -> bool:
    if not isinstance(broker, RedisBroker):
        return True
    try:
        return bool(broker.client.ping())
    except Exception:
        return False


def _tolerant(rt: Runtime) -> Runtime:
    """The runtime with its limiters wrapped to ride out a Redis restart (a cheap copy,
    made per message so that a test changing its runtime is always seen)."""
    if not rt.limiters:
        return rt
    limiters = {
        channel: limiter
        if isinstance(limiter, OutageTolerantLimiter)
        else OutageTolerantLimiter(limiter)
        for channel, limiter in rt.limiters.items()
    }
    return dataclasses.replace(rt, limiters=limiters)


def declare_actors(
    broker: Broker,
    runtime: Callable[[], Runtime],
    *,
    max_retries: int,
    outage_wait_s: float = OUTAGE_WAIT_S,
) -> NotifierActors:
    """Declare the notifier's actors on `broker`; `runtime` is asked for on each message,
    so that nothing is built before a worker actually runs."""

    def send_notification(notification_id: int) -> None:
        rt = _tolerant(runtime())
        message = CurrentMessage.get_current_message()
        options: dict[str, Any] = {} if message is None else message.options
        retries = int(options.get("retries", 0))
        outages = int(options.get(OUTAGES_OPTION, 0))
        try:
            outcome = deliver(rt, notification_id, retries=max(0, retries - outages))
            if outcome.defer_until is not None:
                delay_ms = max(
                    0, round((outcome.defer_until - rt.clock.now()).total_seconds() * 1000)
                )
                actor.send_with_options(args=(notification_id,), delay=delay_ms)
        except Exception as exc:
            if not is_outage(exc):
                raise
            redis_away = isinstance(exc, REDIS_OUTAGE_ERRORS)
            log.warning(
                "notification %s: %s unreachable (%s: %s); waiting for it",
                notification_id,
                "Redis" if redis_away else "the database",
                type(exc).__name__,
                str(exc).splitlines()[0] if str(exc) else "",
            )
            back = wait_until_back(
                (lambda: _redis_answers(actor.broker))
                if redis_away
                else (lambda: _database_answers(rt.engine)),
                Patience(outage_wait_s, first_pause_s=0.1, max_pause_s=2.0),
            )
            # Counted before the Retry, whose middleware re-enqueues these very options.
            options[OUTAGES_OPTION] = outages + 1
            # Back: soon, with jitter so the runs that waited do not all arrive at once.
            # Still away: later and later, up to a minute.
            _, delay = compute_backoff(
                0 if back else outages,
                factor=min(rt.min_backoff_ms, 1_000) if back else rt.min_backoff_ms,
                max_backoff=min(rt.max_backoff_ms, MAX_OUTAGE_BACKOFF_MS),
            )
            raise dramatiq.Retry(f"outage: {type(exc).__name__}", delay=int(delay)) from exc
        if outcome.retry_in_ms is not None:
            raise dramatiq.Retry(
                outcome.detail or "transient delivery error", delay=outcome.retry_in_ms
            )

    options: dict[str, Any] = {"retry_when": _retry_when(max_retries)}
    decorate = dramatiq.actor(
        actor_name=SEND_NOTIFICATION,
        queue_name=NOTIFICATIONS_QUEUE,
        broker=broker,
        **options,
    )
    actor: dramatiq.Actor[[int], None] = decorate(send_notification)
    return NotifierActors(send_notification=actor)
