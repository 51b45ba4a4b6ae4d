"""The one outage loop: a rate limiter's Redis and a server's answer waited for on a test
clock, and given up on when patience runs out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
import redis

from services.notifier.outages import OutageTolerantLimiter, Patience, wait_until_back
from tests.unit.notifier.pause_clock import PauseClock

PATIENCE = Patience(wait_s=1.0, first_pause_s=0.1, max_pause_s=0.4)


class FlakyLimiter:
    """A limiter whose Redis refuses the first `refusals` slots, and counts what it gave."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.entered = 0
        self.left = 0

    def slot(self) -> AbstractContextManager[None]:
        return self._slot()

    @contextmanager
    def _slot(self) -> Iterator[None]:
        if self.refusals:
            self.refusals -= 1
            raise redis.ConnectionError("Connection refused")
        self.entered += 1
        yield
        self.left += 1


def test_a_send_waits_for_its_limiter_s_redis_and_gives_the_slot_back() -> None:
    clock, inner = PauseClock(), FlakyLimiter(refusals=3)
    limiter = OutageTolerantLimiter(inner, patience=PATIENCE, pauses=clock.pauses)
    with limiter.slot():
        assert inner.entered == 1
    assert inner.left == 1
    assert clock.slept == [0.1, 0.2, 0.4]


def test_a_limiter_s_redis_away_longer_than_the_patience_fails_the_send() -> None:
    clock, inner = PauseClock(), FlakyLimiter(refusals=100)
    limiter = OutageTolerantLimiter(inner, patience=PATIENCE, pauses=clock.pauses)
    with pytest.raises(redis.ConnectionError), limiter.slot():
        pytest.fail("a slot was given")
    assert clock.slept  # it waited before giving up
    assert clock.now <= PATIENCE.wait_s and inner.entered == 0


def test_waiting_for_a_server_says_whether_it_came_back_in_time() -> None:
    clock = PauseClock()
    answers = iter([False, False, True])
    assert wait_until_back(lambda: next(answers), PATIENCE, pauses=clock.pauses) is True
    assert clock.slept == [0.1, 0.2]
    never = PauseClock()
    assert wait_until_back(lambda: False, PATIENCE, pauses=never.pauses) is False
    assert never.slept and never.now <= PATIENCE.wait_s
