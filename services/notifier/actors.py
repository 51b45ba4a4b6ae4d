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
from datetime import datetime
from typing import Any

import dramatiq
from dramatiq import Broker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import compute_backoff
from dramatiq.middleware import CurrentMessage
from sqlalchemy import Engine, text

from services.notifier.batching import HANDED_ON, RELEASED, deliver_batch
from services.notifier.broker import NOTIFICATIONS_QUEUE
from services.notifier.delivery import Outcome, deliver
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
#: the batch actor's name: one message carries a list of notification ids
SEND_NOTIFICATIONS = "send_notifications"
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
    send_notifications: dramatiq.Actor[[list[int]], None]


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


def _outage_patience(wait_s: float) -> Patience:
    """How an actor waits for its database or Redis before it retries a message."""
    return Patience(wait_s, first_pause_s=0.1, max_pause_s=2.0)


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
        _send_one(runtime, actor, notification_id, outage_wait_s=outage_wait_s)

    options: dict[str, Any] = {"retry_when": _retry_when(max_retries)}
    decorate = dramatiq.actor(
        actor_name=SEND_NOTIFICATION,
        queue_name=NOTIFICATIONS_QUEUE,
        broker=broker,
        **options,
    )
    actor: dramatiq.Actor[[int], None] = decorate(send_notification)
    batch = _declare_batch_actor(broker, runtime, actor, outage_wait_s=outage_wait_s)
    return NotifierActors(send_notification=actor, send_notifications=batch)


def _send_one(
    runtime: Callable[[], Runtime],
    actor: dramatiq.Actor[[int], None],
    notification_id: int,
    *,
    outage_wait_s: float,
) -> None:
    """The single actor's body: deliver one notification; a deferral or a transient
    error becomes a new or a retried message, an outage a wait and then a retry."""
    rt = _tolerant(runtime())
    message = CurrentMessage.get_current_message()
    options: dict[str, Any] = {} if message is None else message.options
    retries = int(options.get("retries", 0))
    outages = int(options.get(OUTAGES_OPTION, 0))
    try:
        outcome = deliver(rt, notification_id, retries=max(0, retries - outages))
        if outcome.defer_until is not None:
            delay_ms = max(0, round((outcome.defer_until - rt.clock.now()).total_seconds() * 1000))
            actor.send_with_options(args=(notification_id,), delay=delay_ms)
    except Exception as exc:
        if not is_outage(exc):
            raise
        raise _outage_retry(rt, actor, exc, notification_id, options, outage_wait_s) from exc
    if outcome.retry_in_ms is not None:
        reason = outcome.detail or "transient delivery error"
        raise dramatiq.Retry(reason, delay=outcome.retry_in_ms)


def _outage_retry(
    rt: Runtime,
    actor: dramatiq.Actor[[int], None],
    exc: Exception,
    notification_id: int,
    options: dict[str, Any],
    outage_wait_s: float,
) -> dramatiq.Retry:
    """Wait (bounded) for what went away to answer again; the Retry that runs the message
    again, its outage counted in its options."""
    outages = int(options.get(OUTAGES_OPTION, 0))
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
        _outage_patience(outage_wait_s),
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
    return dramatiq.Retry(f"outage: {type(exc).__name__}", delay=int(delay))


def _declare_batch_actor(
    broker: Broker,
    runtime: Callable[[], Runtime],
    single: dramatiq.Actor[[int], None],
    *,
    outage_wait_s: float,
) -> dramatiq.Actor[[list[int]], None]:
    """The batch actor: first attempts of many notifications per message
    (`batching.deliver_batch`); every follow-up — a retry, a deferral, a run cut short —
    is a new message, so a batch message itself is never retried for one notification's
    sake. It is dead-lettered only when its run fails past the batch (dramatiq's time
    limit, a BaseException `_send_batch` does not catch, or an error sending follow-ups);
    the dead-letter tools (`services.web.ops`) list and requeue each id it carries."""

    def send_notifications(notification_ids: list[int]) -> None:
        _send_batch(runtime, single, batch, notification_ids, outage_wait_s=outage_wait_s)

    decorate = dramatiq.actor(
        actor_name=SEND_NOTIFICATIONS,
        queue_name=NOTIFICATIONS_QUEUE,
        broker=broker,
        retry_when=lambda retries, exc: is_outage(exc),
    )
    batch: dramatiq.Actor[[list[int]], None] = decorate(send_notifications)
    return batch


def _send_batch(
    runtime: Callable[[], Runtime],
    single: dramatiq.Actor[[int], None],
    batch: dramatiq.Actor[[list[int]], None],
    notification_ids: list[int],
    *,
    outage_wait_s: float,
) -> None:
    """The batch actor's body: deliver the batch, then send every follow-up on."""
    rt = _tolerant(runtime())
    ids = [int(i) for i in dict.fromkeys(notification_ids)]
    done: dict[int, Outcome] = {}
    try:
        deliver_batch(
            rt,
            ids,
            on_done=done.__setitem__,
            fallback=lambda i: deliver(rt, i, retries=0),
        )
    except Exception as exc:
        _follow_up(rt, single, batch, done)
        remaining = [i for i in ids if i not in done]
        if not is_outage(exc):
            # A bug: the notifications left go through the single actor, whose retry
            # budget and dead letter make it visible without holding up the others.
            log.exception("a batch of %d notifications failed; sending singly", len(ids))
            for i in remaining:
                single.send(i)
            return
        _after_outage(rt, batch, exc, remaining, outage_wait_s=outage_wait_s)
        return
    _follow_up(rt, single, batch, done)


def _follow_up(
    rt: Runtime,
    single: dramatiq.Actor[[int], None],
    batch: dramatiq.Actor[[list[int]], None],
    done: dict[int, Outcome],
) -> None:
    """Send on what the batch left to do: deferrals as batches, retries as singles, rows
    given back or handed on as a new batch."""
    later: dict[datetime, list[int]] = {}
    again: list[int] = []
    for i, outcome in done.items():
        if outcome.defer_until is not None:
            later.setdefault(outcome.defer_until, []).append(i)
        elif outcome.retry_in_ms is not None:
            # A second attempt goes through the single actor, counting its retries.
            single.send_with_options(args=(i,), delay=outcome.retry_in_ms, retries=1)
        elif outcome.detail in (RELEASED, HANDED_ON):
            again.append(i)
    for at, group in later.items():
        delay_ms = max(0, round((at - rt.clock.now()).total_seconds() * 1000))
        batch.send_with_options(args=(group,), delay=delay_ms)
    if again:
        batch.send(again)
    done.clear()


def _after_outage(
    rt: Runtime,
    batch: dramatiq.Actor[[list[int]], None],
    exc: Exception,
    remaining: list[int],
    *,
    outage_wait_s: float,
) -> None:
    """Wait (bounded) for what went away, then send the batch's remaining ids on."""
    redis_away = isinstance(exc, REDIS_OUTAGE_ERRORS)
    log.warning(
        "a batch of %d notifications: %s unreachable (%s); waiting for it",
        len(remaining),
        "Redis" if redis_away else "the database",
        type(exc).__name__,
    )
    answers = (
        (lambda: _redis_answers(batch.broker))
        if redis_away
        else (lambda: _database_answers(rt.engine))
    )
    back = wait_until_back(answers, _outage_patience(outage_wait_s))
    _, delay = compute_backoff(
        0, factor=min(rt.min_backoff_ms, 1_000) if back else rt.min_backoff_ms,
        max_backoff=min(rt.max_backoff_ms, MAX_OUTAGE_BACKOFF_MS),
    )  # fmt: skip
    if remaining:
        # If Redis is still away this raises, and dramatiq keeps the whole message:
        # the notifications already finished are then skipped by their status.
        batch.send_with_options(args=(remaining,), delay=int(delay))
