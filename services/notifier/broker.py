"""The dramatiq broker the notifier runs on: Redis, with the middleware we rely on.

Nothing connects here: redis-py opens its first connection on the first command.
Prometheus is left out on purpose: dramatiq's middleware starts an HTTP exporter and
writes a lock file in every worker, which belongs with the web issue's metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Middleware,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from services.notifier.lost_messages import RequeueLostMessages
from shared.settings import Settings

NAMESPACE = "liaison"  #: prefix of every dramatiq key in Redis
NOTIFICATIONS_QUEUE = "notifications"
DEFAULT_TIME_LIMIT_MS = 300_000  #: a send that takes longer than this is interrupted


def notifier_middleware(
    settings: Settings, queues: Sequence[str] = (NOTIFICATIONS_QUEUE,)
) -> list[Middleware]:
    return [
        AgeLimit(),
        TimeLimit(time_limit=DEFAULT_TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(
            max_retries=settings.max_retries,
            min_backoff=settings.min_backoff_ms,
            max_backoff=settings.max_backoff_ms,
        ),
        CurrentMessage(),
        RequeueLostMessages(queues, interval_s=settings.requeue_interval_s),
    ]


def build_broker(
    url: str,
    settings: Settings,
    *,
    namespace: str = NAMESPACE,
    queues: Sequence[str] = (NOTIFICATIONS_QUEUE,),
) -> RedisBroker:
    """A RedisBroker for `url` with the notifier's middleware; it connects on first use.
    `queues`: those whose lost messages each worker process gives back on a clock."""
    return RedisBroker(  # type: ignore[no-untyped-call]
        url=url, namespace=namespace, middleware=notifier_middleware(settings, queues)
    )
