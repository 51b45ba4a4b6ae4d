"""A provider's answer is written once the database is back, not lost with the outage."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from services.notifier import delivery
from services.notifier.delivery import Outcome, _through_outage


def outage() -> OperationalError:
    return OperationalError("UPDATE notifications …", {}, ConnectionRefusedError("refused"))


def test_the_answer_is_written_when_the_database_answers_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(delivery.monotonic, "sleep", slept.append)
    calls = []

    def record() -> Outcome:
        calls.append(1)
        if len(calls) < 3:
            raise outage()
        return Outcome("sent")

    assert _through_outage(record, 7) == Outcome("sent")
    assert len(calls) == 3 and slept == [0.2, 0.4]


def test_an_error_that_is_not_an_outage_is_raised_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delivery.monotonic, "sleep", lambda s: pytest.fail("slept"))

    def record() -> Outcome:
        raise IntegrityError("INSERT …", {}, ValueError("duplicate"))

    with pytest.raises(IntegrityError):
        _through_outage(record, 7)


def test_an_outage_longer_than_the_claim_lives_is_raised_in_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [0.0]
    monkeypatch.setattr(delivery.monotonic, "monotonic", lambda: clock[0])
    monkeypatch.setattr(delivery.monotonic, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))

    def record() -> Outcome:
        raise outage()

    with pytest.raises(OperationalError):
        _through_outage(record, 7)
    assert clock[0] <= delivery.RECORD_RETRY_S < delivery.LIVE_SEND_S
