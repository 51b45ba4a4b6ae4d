"""Returning a dead worker's messages to their queue on a clock, not by chance.

dramatiq's Redis broker gives back the messages a dead worker had fetched but not
acknowledged only during "maintenance", which runs on about one broker command in a
thousand. On a quiet queue that is many minutes after the worker died; the worker-kill
drill lost thirteen notifications that way (their messages were still held by the
killed worker when the drill gave up). This middleware runs that same maintenance in
every worker process every `interval_s` seconds, through the broker's own dispatch
script, so recovery takes the heartbeat timeout (60 s) plus at most one interval.

Each run also refreshes the worker's own heartbeat, so a worker whose threads are all
busy with slow sends is not taken for dead just because its consumers did not fetch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from dramatiq import Broker, Middleware, Worker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis, dq_name

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 15.0


def requeue_lost_messages(broker: RedisBroker, queue_names: Sequence[str]) -> None:
    """Run the broker's maintenance on each queue and its delay queue, once, now."""
    dispatch = broker.scripts["dispatch"]
    for name in queue_names:
        for queue in (name, dq_name(name)):
            dispatch(
                keys=[broker.namespace],
                args=[
                    "qsize",  # a read-only command; the maintenance flag does the work
                    current_millis(),
                    queue,
                    broker.broker_id,
                    broker.heartbeat_timeout,
                    broker.dead_message_ttl,
                    1,  # do_maintenance
                    broker._max_unpack_size(),  # type: ignore[no-untyped-call]
                ],
            )


class RequeueLostMessages(Middleware):
    """In each worker process, a daemon thread that runs `requeue_lost_messages`."""

    def __init__(self, queue_names: Sequence[str], *, interval_s: float = DEFAULT_INTERVAL_S):
        self.queue_names = tuple(queue_names)
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: Broker, worker: Worker) -> None:
        if not isinstance(broker, RedisBroker):
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(broker,), name="liaison-requeue-lost", daemon=True
        )
        self._thread.start()

    def before_worker_shutdown(self, broker: Broker, worker: Worker) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _loop(self, broker: RedisBroker) -> None:
        # Not an outage-retry loop: it runs every interval for the worker's whole life,
        # whether Redis answered last time or not.
        while not self._stop.wait(self.interval_s):
            try:
                requeue_lost_messages(broker, self.queue_names)
            except Exception:
                # Redis away: the consumers report it too; try again next interval.
                log.warning("could not run queue maintenance; retrying", exc_info=True)
