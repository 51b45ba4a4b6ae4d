"""The send_notification actor on a real Redis broker, talking to the loopback Twilio server."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from services.notifier.actors import NotifierActors
from services.notifier.broker import NOTIFICATIONS_QUEUE
from services.notifier.enqueuing import enqueue
from services.notifier.refreshers import register_refresher, unregister_refresher
from services.notifier.runtime import Runtime
from services.notifier.testing.twilio_server import TwilioTestServer
from shared.clock import FixedClock
from shared.models import DeliveryAttempt, Notification, NotificationEvent, OptOut
from tests.integration.notifier.conftest import PHONE, NotificationFactory

JOIN_TIMEOUT_MS = 20_000


def run(broker: RedisBroker, worker: dramatiq.Worker, engine: Engine) -> None:
    """Wait until no notification waits for a run (queued or sending), then for the
    worker to go idle. `broker.join` sees only messages not yet fetched, `worker.join`
    only those handed to its threads: a message between the two (or a follow-up on its
    way through the delay queue) let the old `join`-only wait return early, about one
    run in six of the retry test before the batch path and more often after it."""
    deadline = time.monotonic() + JOIN_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        with Session(engine) as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.status.in_(("queued", "sending")))
            )
        if not waiting:
            break
        time.sleep(0.05)
    broker.join(NOTIFICATIONS_QUEUE, timeout=JOIN_TIMEOUT_MS)
    worker.join()


def state(engine: Engine, notification_id: int) -> tuple[Notification, list[DeliveryAttempt]]:
    with Session(engine) as session:
        n = session.get(Notification, notification_id)
        assert n is not None
        attempts = list(
            session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.notification_id == notification_id)
                .order_by(DeliveryAttempt.attempt)
            )
        )
        return n, attempts


def test_a_notification_goes_out_through_the_twilio_sdk_and_is_logged_as_sent(
    engine: Engine,
    broker: RedisBroker,
    worker: dramatiq.Worker,
    twilio: TwilioTestServer,
    runtime: Runtime,
    make_notification: NotificationFactory,
) -> None:
    nid = make_notification()
    enqueue(engine, broker, [nid], now=runtime.clock.now())
    run(broker, worker, engine)

    n, attempts = state(engine, nid)
    [request] = twilio.sent()
    assert request.form["To"] == PHONE
    assert request.form["From"] == "+15005550006"
    assert request.form["StatusCallback"] == "https://liaison.example.org/twilio/status"
    assert "Wang Fang" in request.form["Body"]
    assert n.status == "sent" and n.attempts == 1
    assert n.provider_message_id is not None and n.provider_message_id.startswith("SM")
    assert [(a.attempt, a.provider, a.outcome) for a in attempts] == [(1, "twilio", "sent")]
    assert attempts[0].provider_message_id == n.provider_message_id


#: (what the provider does, its calls, the notification's status, each attempt's outcome
#: and error code, what its last error begins with)
PROVIDER_ERRORS = [
    pytest.param(
        lambda t: t.fail_for(PHONE, status=400, code=21211),
        1,
        "failed",
        [("permanent", "21211")],
        "21211: ",
        id="a permanent error is attempted exactly once",
    ),
    pytest.param(
        lambda t: t.fail_next(status=503, code=None),
        2,
        "sent",
        [("transient", "503"), ("sent", None)],
        None,
        id="a transient error is retried and then succeeds, both attempts logged",
    ),
    pytest.param(
        lambda t: t.fail_next(10, status=500),
        4,  # the first attempt and max_retries (3) more
        "dead",
        [("transient", "500")] * 4,
        "gave up after 4 attempts",
        id="a transient error that outlasts every retry leaves the notification dead",
    ),
]


@pytest.mark.parametrize(("fail", "calls", "status", "attempted", "last_error"), PROVIDER_ERRORS)
def test_a_provider_error_is_retried_or_not_as_its_kind_says(
    engine: Engine,
    broker: RedisBroker,
    worker: dramatiq.Worker,
    twilio: TwilioTestServer,
    runtime: Runtime,
    make_notification: NotificationFactory,
    fail: Callable[[TwilioTestServer], None],
    calls: int,
    status: str,
    attempted: list[tuple[str, str | None]],
    last_error: str | None,
) -> None:
    fail(twilio)
    nid = make_notification()
    enqueue(engine, broker, [nid], now=runtime.clock.now())
    run(broker, worker, engine)

    n, attempts = state(engine, nid)
    assert len(twilio.requests) == calls
    assert n.status == status and n.attempts == calls
    assert [(a.attempt, a.outcome, a.error_code) for a in attempts] == [
        (i, outcome, code) for i, (outcome, code) in enumerate(attempted, start=1)
    ]
    if last_error is None:
        assert n.last_error is None
    else:
        assert n.last_error is not None and n.last_error.startswith(last_error)
        assert PHONE not in n.last_error  # masked wherever it is kept
    if status == "failed":
        assert "138****5678" in str(n.last_error)


def test_enqueuing_the_same_notification_twice_sends_it_once(
    engine: Engine,
    broker: RedisBroker,
    worker: dramatiq.Worker,
    twilio: TwilioTestServer,
    runtime: Runtime,
    make_notification: NotificationFactory,
) -> None:
    nid = make_notification()
    now = runtime.clock.now()
    enqueue(engine, broker, [nid], now=now)
    # Already queued: enqueued again on purpose, as after a lost message.
    enqueue(engine, broker, [nid, nid], now=now, from_statuses=("pending", "queued"))
    run(broker, worker, engine)

    assert len(twilio.sent()) == 1
    assert state(engine, nid)[0].status == "sent"


def test_running_the_actor_twice_for_the_same_id_sends_once(
    engine: Engine,
    actors: NotifierActors,
    twilio: TwilioTestServer,
    runtime: Runtime,
    make_notification: NotificationFactory,
    broker: RedisBroker,
) -> None:
    nid = make_notification()
    enqueue(engine, broker, [nid], now=runtime.clock.now())
    broker.flush_all()
    # A redelivery after SIGKILL runs the same message body again.
    actors.send_notification.fn(nid)
    actors.send_notification.fn(nid)

    assert len(twilio.requests) == 1
    n, attempts = state(engine, nid)
    assert n.status == "sent" and len(attempts) == 1


def test_an_opt_out_stops_later_sms_to_that_number(
    engine: Engine,
    broker: RedisBroker,
    worker: dramatiq.Worker,
    twilio: TwilioTestServer,
    runtime: Runtime,
    make_notification: NotificationFactory,
) -> None:
    twilio.fail_for(PHONE, status=400, code=21610)
    first = make_notification()
    enqueue(engine, broker, [first], now=runtime.clock.now())
    run(broker, worker, engine)
    later = make_notification(occasion="birthday:2027-11-23")
    enqueue(engine, broker, [later], now=runtime.clock.now())
    run(broker, worker, engine)

    assert len(twilio.requests) == 1
    assert state(engine, first)[0].status == "failed"
    n, attempts = state(engine, later)
    assert n.status == "suppressed" and attempts == []
    with Session(engine) as session:
        [opt_out] = session.scalars(select(OptOut))
    assert (opt_out.address, opt_out.channel, opt_out.source) == (PHONE, "sms", "provider")


def test_a_message_in_quiet_hours_is_deferred_and_leaves_at_eight_local(
    engine: Engine,
    broker: RedisBroker,
    worker: dramatiq.Worker,
    twilio: TwilioTestServer,
    runtime: Runtime,
    make_notification: NotificationFactory,
    clock: FixedClock,
    redis_client: redis.Redis,
    actors: NotifierActors,
) -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    clock.instant = datetime(2026, 11, 23, 22, 30, tzinfo=shanghai).astimezone(UTC)
    eight = datetime(2026, 11, 24, 8, 0, tzinfo=shanghai)
    nid = make_notification()
    # A worker of its own: the deferred message waits in its memory until the ETA, which
    # would make `worker.join()` wait ten hours; this one is stopped before moving on.
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    enqueue(engine, broker, [nid], now=clock.now())
    # The first run defers; the message it leaves waits on the delay queue.
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while state(engine, nid)[0].status != "deferred" and datetime.now(UTC) < deadline:
        time.sleep(0.05)

    n, _ = state(engine, nid)
    assert n.status == "deferred" and n.not_before == eight
    assert twilio.requests == []
    [raw] = redis_client.hvals(f"{broker.namespace}:{NOTIFICATIONS_QUEUE}.DQ.msgs")
    eta_ms = dramatiq.Message.decode(raw).options["eta"]
    delay_s = eta_ms / 1000 - datetime.now(UTC).timestamp()
    assert abs(delay_s - (eight - clock.now()).total_seconds()) < 5

    worker.stop()
    # At 07:59 a run (an early redelivery) defers again; at 08:00 it leaves.
    broker.flush_all()
    clock.instant = eight.astimezone(UTC) - timedelta(minutes=1)
    actors.send_notification.fn(nid)
    assert twilio.requests == [] and state(engine, nid)[0].status == "deferred"
    broker.flush_all()
    clock.instant = eight.astimezone(UTC)
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        enqueue(engine, broker, [nid], now=clock.now(), from_statuses=("deferred",))
        run(broker, worker, engine)
    finally:
        worker.stop()

    n, attempts = state(engine, nid)
    assert n.status == "sent" and len(twilio.sent()) == 1
    assert attempts[0].started_at.astimezone(shanghai) == eight
    with Session(engine) as session:
        history = list(
            session.scalars(
                select(NotificationEvent.status)
                .where(NotificationEvent.notification_id == nid)
                .order_by(NotificationEvent.id)
            )
        )
    assert history[:3] == ["pending", "queued", "deferred"] and history[-2:] == ["sending", "sent"]


def test_a_refresher_returning_none_cancels_the_notification(
    engine: Engine,
    broker: RedisBroker,
    worker: dramatiq.Worker,
    twilio: TwilioTestServer,
    runtime: Runtime,
    make_notification: NotificationFactory,
) -> None:
    register_refresher("political_birthday", lambda session, n: None)
    try:
        nid = make_notification()
        enqueue(engine, broker, [nid], now=runtime.clock.now())
        run(broker, worker, engine)
    finally:
        unregister_refresher("political_birthday")

    assert twilio.requests == []
    assert state(engine, nid)[0].status == "cancelled"


def test_a_refresher_returning_data_is_what_gets_rendered_and_kept(
    engine: Engine,
    broker: RedisBroker,
    worker: dramatiq.Worker,
    twilio: TwilioTestServer,
    runtime: Runtime,
    make_notification: NotificationFactory,
) -> None:
    fresh = {"member_name": "Li Lei", "years": 30, "org_name": "Hongqi Branch"}
    register_refresher("political_birthday", lambda session, n: fresh)
    try:
        nid = make_notification()
        enqueue(engine, broker, [nid], now=runtime.clock.now())
        run(broker, worker, engine)
    finally:
        unregister_refresher("political_birthday")

    [request] = twilio.sent()
    assert "Li Lei" in request.form["Body"] and "Wang Fang" not in request.form["Body"]
    assert state(engine, nid)[0].data == fresh
