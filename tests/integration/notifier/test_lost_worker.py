"""A notification a lost worker left in 'sending' is never stranded there."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from services.notifier.delivery import LIVE_SEND_S, deliver
from services.notifier.outbox import mark_queued, transition
from services.notifier.runtime import Runtime
from shared.clock import FixedClock
from shared.db import transaction
from shared.models import Notification
from tests.integration.notifier.conftest import NotificationFactory


def _claimed(engine: Engine, clock: FixedClock, make_notification: NotificationFactory) -> int:
    """A notification claimed for sending by a run that then vanished."""
    nid = make_notification()
    with transaction(engine) as session:
        mark_queued(session, [nid], now=clock.now())
        assert transition(session, nid, from_statuses=("queued",), to="sending", now=clock.now())
    return nid


def _status(engine: Engine, nid: int) -> str:
    with transaction(engine) as session:
        row = session.get(Notification, nid)
        assert row is not None
        return row.status


def test_a_duplicate_message_during_a_live_send_leaves_the_row_to_that_send(
    engine: Engine, runtime: Runtime, clock: FixedClock, make_notification: NotificationFactory
) -> None:
    nid = _claimed(engine, clock, make_notification)
    clock.advance(timedelta(seconds=LIVE_SEND_S - 1))
    outcome = deliver(runtime, nid)
    assert (outcome.status, outcome.defer_until) == ("skipped", None)
    assert _status(engine, nid) == "sending"


def test_a_redelivered_message_finding_an_old_claim_looks_again_when_it_is_stale(
    engine: Engine, runtime: Runtime, clock: FixedClock, make_notification: NotificationFactory
) -> None:
    nid = _claimed(engine, clock, make_notification)
    claimed_at = clock.now()
    clock.advance(timedelta(seconds=90))  # dramatiq redelivers after a minute of silence
    outcome = deliver(runtime, nid)
    assert outcome.status == "skipped"
    assert outcome.defer_until == claimed_at + timedelta(seconds=runtime.stale_sending_s)
    assert _status(engine, nid) == "sending"
    clock.instant = outcome.defer_until
    again = deliver(runtime, nid)
    assert again.status == "dead"
    assert _status(engine, nid) == "dead"
