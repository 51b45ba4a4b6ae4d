"""The notifier's dramatiq actors, thin: they take an id and call the delivery use case.

Actors are declared on a broker handed in (never on an import-time global), so the worker
entry module, the tests and the benchmark each bind them to the broker they built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq import Broker
from dramatiq.middleware import CurrentMessage

from services.notifier.broker import NOTIFICATIONS_QUEUE
from services.notifier.delivery import deliver
from services.notifier.runtime import Runtime

SEND_NOTIFICATION = "send_notification"  #: the actor's name, which producers address


@dataclass(frozen=True)
class NotifierActors:
    send_notification: dramatiq.Actor[[int], None]


def _retry_when(max_retries: int) -> Callable[[int, BaseException], bool]:
    def retry_when(retries: int, exc: BaseException) -> bool:
        # A Retry we raise carries a delivery decision that `deliver` already bounded by
        # the retry limit (it marks the notification dead itself); anything else — the
        # database being down, say — gets dramatiq's own limit.
        return isinstance(exc, dramatiq.Retry) or retries < max_retries

    return retry_when


def declare_actors(
    broker: Broker, runtime: Callable[[], Runtime], *, max_retries: int
) -> NotifierActors:
    """Declare the notifier's actors on `broker`; `runtime` is asked for on each message,
    so that nothing is built before a worker actually runs."""

    def send_notification(notification_id: int) -> None:
        rt = runtime()
        message = CurrentMessage.get_current_message()
        retries = 0 if message is None else int(message.options.get("retries", 0))
        outcome = deliver(rt, notification_id, retries=retries)
        if outcome.defer_until is not None:
            delay_ms = max(0, round((outcome.defer_until - rt.clock.now()).total_seconds() * 1000))
            actor.send_with_options(args=(notification_id,), delay=delay_ms)
        elif outcome.retry_in_ms is not None:
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
