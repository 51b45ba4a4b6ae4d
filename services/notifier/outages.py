"""Riding out a database or Redis that goes away for a moment (a restart, a failover).

One loop, `through_outage`, tries something again with a doubling pause while it fails
because a server cannot be reached, for as long as its `Patience` lasts; every place
that waits for a server uses it: a send waiting for its rate limiter's Redis
(`OutageTolerantLimiter`), a run writing what the provider answered
(`delivery.record_through_outage`), and the actor waiting for the server before it
retries a message (`wait_until_back`). The pauses are taken on a `Pauses` clock, which a
test replaces (it never patches `time` for the whole process).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TypeVar

import redis
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from services.notifier.rate_limit import Limiter

log = logging.getLogger(__name__)

T = TypeVar("T")

#: errors that say Redis could not be reached (or answered too late), not that a call is wrong
REDIS_OUTAGE_ERRORS: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database or Redis could not be reached."""
    if isinstance(exc, (*REDIS_OUTAGE_ERRORS, PoolTimeoutError)):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError))
    return False


@dataclass(frozen=True)
class Pauses:
    """The clock the loop waits on: the real one, or a test's."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


REAL_PAUSES = Pauses()


@dataclass(frozen=True)
class Patience:
    """How long to keep trying, and the pauses between tries (doubling up to a cap)."""

    wait_s: float
    first_pause_s: float
    max_pause_s: float


def through_outage(
    attempt: Callable[[], T],
    patience: Patience,
    *,
    is_away: Callable[[Exception], bool] = is_outage,
    on_retry: Callable[[Exception, float], None] | None = None,
    pauses: Pauses = REAL_PAUSES,
) -> T:
    """`attempt()`'s result, trying again while it raises an error `is_away` recognises.

    A pause that would end after `patience.wait_s` is not taken: the last error is
    raised instead, as is at once any error that is not an outage. `on_retry(error,
    pause)` is told before each pause (to log it).
    """
    deadline = pauses.monotonic() + patience.wait_s
    pause = patience.first_pause_s
    while True:
        try:
            return attempt()
        except Exception as exc:
            if not is_away(exc) or pauses.monotonic() + pause > deadline:
                raise
            if on_retry is not None:
                on_retry(exc, pause)
            pauses.sleep(pause)
            pause = min(pause * 2, patience.max_pause_s)


class _StillAway(Exception):
    """`wait_until_back`'s server did not answer yet."""


def wait_until_back(
    answers: Callable[[], bool], patience: Patience, *, pauses: Pauses = REAL_PAUSES
) -> bool:
    """Ask `answers` until it says yes (True) or `patience` runs out (False)."""

    def ask() -> None:
        if not answers():
            raise _StillAway

    try:
        through_outage(ask, patience, is_away=lambda e: isinstance(e, _StillAway), pauses=pauses)
    except _StillAway:
        return False
    return True


#: how long a send waits for the rate limiter's Redis to come back: less than the time
#: (`delivery.LIVE_SEND_S`, 30 s) within which another run takes the claim for a live one
LIMITER_PATIENCE = Patience(wait_s=20.0, first_pause_s=0.05, max_pause_s=1.0)


class OutageTolerantLimiter:
    """A limiter on Redis whose Redis may go away for a moment (a restart).

    Before a send, a slot that cannot be had because Redis is unreachable is asked for
    again until Redis answers, within `patience` (the claim is already taken, so failing
    here would strand the notification in `sending` with nothing sent). After a send,
    failing to give the slot back is logged and ignored: the slot's lease frees it by
    itself, and the send's result must still be recorded.
    """

    def __init__(
        self,
        inner: Limiter,
        *,
        patience: Patience = LIMITER_PATIENCE,
        pauses: Pauses = REAL_PAUSES,
    ) -> None:
        self.inner = inner
        self.patience = patience
        self.pauses = pauses

    def slot(self) -> AbstractContextManager[None]:
        return self._slot()

    @contextmanager
    def _slot(self) -> Iterator[None]:
        held = through_outage(
            self._enter,
            self.patience,
            is_away=lambda e: isinstance(e, REDIS_OUTAGE_ERRORS),
            on_retry=lambda e, _pause: log.warning(
                "rate limiter's Redis unreachable (%s); waiting for it", e
            ),
            pauses=self.pauses,
        )
        try:
            yield
        finally:
            try:
                held.__exit__(None, None, None)
            except REDIS_OUTAGE_ERRORS as exc:
                log.warning("could not give a rate-limit slot back (%s); its lease frees it", exc)

    def _enter(self) -> AbstractContextManager[None]:
        held = self.inner.slot()
        held.__enter__()
        return held
