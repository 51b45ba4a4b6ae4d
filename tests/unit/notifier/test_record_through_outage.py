"""A provider's answer is written once the database is back, not lost with the outage.

The waits are taken on a test clock (`Pauses`): nothing patches `time` for the process.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from services.notifier import delivery
from services.notifier.delivery import Outcome, record_through_outage
from tests.unit.notifier.pause_clock import PauseClock


def outage() -> OperationalError:
    return OperationalError("UPDATE notifications …", {}, ConnectionRefusedError("refused"))


def test_the_answer_is_written_when_the_database_answers_again() -> None:
    clock = PauseClock()
    calls = []

    def record() -> Outcome:
        calls.append(1)
        if len(calls) < 3:
            raise outage()
        return Outcome("sent")

    assert record_through_outage(record, 7, pauses=clock.pauses) == Outcome("sent")
    assert len(calls) == 3 and clock.slept == [0.2, 0.4]


def test_an_error_that_is_not_an_outage_is_raised_at_once() -> None:
    clock = PauseClock()

    def record() -> Outcome:
        raise IntegrityError("INSERT …", {}, ValueError("duplicate"))

    with pytest.raises(IntegrityError):
        record_through_outage(record, 7, pauses=clock.pauses)
    assert clock.slept == []


def test_an_outage_longer_than_the_claim_lives_is_raised_in_the_end() -> None:
    clock = PauseClock()

    def record() -> Outcome:
        raise outage()

    with pytest.raises(OperationalError):
        record_through_outage(record, 7, pauses=clock.pauses)
    assert len(clock.slept) >= 3  # it did wait, doubling, before giving up
    assert clock.slept[:3] == [0.2, 0.4, 0.8]
    assert clock.now <= delivery.RECORD_PATIENCE.wait_s < delivery.LIVE_SEND_S
