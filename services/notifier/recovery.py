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

Also here, for riding out a Redis that goes away and comes back (a restart):
`waiting_message_args` tells the scheduler's sweeper which notifications still have a
message waiting in Redis, and `OutageTolerantLimiter` keeps a rate limiter's Redis calls
from failing a send (waiting for Redis before it, never hiding its result after it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

import redis
from dramatiq import Broker, Message, Middleware, Worker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis, dq_name
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from services.notifier.rate_limit import Limiter

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 15.0
#: errors that say Redis could not be reached (or answered too late), not that a call is wrong
REDIS_OUTAGE_ERRORS: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)
#: how long a send waits for the rate limiter's Redis to come back: less than the time
#: (`delivery.LIVE_SEND_S`, 30 s) within which another run takes the claim for a live one
DEFAULT_LIMITER_WAIT_S = 20.0
SCAN_CHUNK = 1_000  #: message ids read per round trip by `waiting_message_args`


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database or Redis could not be reached."""
    if isinstance(exc, (*REDIS_OUTAGE_ERRORS, PoolTimeoutError)):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError))
    return False


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
        while not self._stop.wait(self.interval_s):
            try:
                requeue_lost_messages(broker, self.queue_names)
            except Exception:
                # Redis away: the consumers report it too; try again next interval.
                log.warning("could not run queue maintenance; retrying", exc_info=True)


def waiting_message_args(
    broker: RedisBroker, queue_name: str, actor_name: str, *, chunk: int = SCAN_CHUNK
) -> set[int]:
    """The first argument of every `actor_name` message waiting in `queue_name` or its
    delay queue: enqueued and not yet fetched by a worker.

    A message a worker holds (fetched, not acknowledged) is not counted: it is being
    worked on, waits in a worker's memory for its eta, or was orphaned by a connection
    lost at the wrong moment; the caller decides by the notification's age which it is.
    Messages taken by workers while this reads may be missed; a caller that re-enqueues
    on that basis sends a harmless duplicate (the actor's compare-and-set).
    """
    client = broker.client
    found: set[int] = set()
    for name in (queue_name, dq_name(queue_name)):
        key = f"{broker.namespace}:{name}"
        start = 0
        while True:
            ids = client.lrange(key, start, start + chunk - 1)
            if not ids:
                break
            start += len(ids)
            for data in client.hmget(f"{key}.msgs", ids):
                if not isinstance(data, bytes):
                    continue
                message = Message.decode(data)
                if message.actor_name == actor_name and message.args:
                    found.add(int(message.args[0]))
    return found


class OutageTolerantLimiter:
    """A limiter on Redis whose Redis may go away for a moment (a restart).

    Before a send, a slot that cannot be had because Redis is unreachable is asked for
    again until Redis answers, for up to `wait_s` (the claim is already taken, so failing
    here would strand the notification in `sending` with nothing sent). After a send,
    failing to give the slot back is logged and ignored: the slot's lease frees it by
    itself, and the send's result must still be recorded.
    """

    def __init__(
        self,
        inner: Limiter,
        *,
        wait_s: float = DEFAULT_LIMITER_WAIT_S,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.wait_s = wait_s
        self._sleep = sleep
        self._monotonic = monotonic

    def slot(self) -> AbstractContextManager[None]:
        return self._slot()

    @contextmanager
    def _slot(self) -> Iterator[None]:
        held = self._enter()
        try:
            yield
        finally:
            try:
                held.__exit__(None, None, None)
            except REDIS_OUTAGE_ERRORS as exc:
                log.warning("could not give a rate-limit slot back (%s); its lease frees it", exc)

    def _enter(self) -> AbstractContextManager[None]:
        deadline = self._monotonic() + self.wait_s
        pause = 0.05
        while True:
            held = self.inner.slot()
            try:
                held.__enter__()
                return held
            except REDIS_OUTAGE_ERRORS as exc:
                if self._monotonic() + pause > deadline:
                    raise
                log.warning("rate limiter's Redis unreachable (%s); waiting for it", exc)
                self._sleep(pause)
                pause = min(pause * 2, 1.0)
