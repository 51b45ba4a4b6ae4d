"""Fixtures for the notifier: loopback Twilio and SMTP servers, a real Redis broker, a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine

from services.bootstrap import bootstrap
from services.notifier.actors import NotifierActors
from services.notifier.outbox import create_notification
from services.notifier.rendering import render_message
from services.notifier.runtime import Runtime
from services.notifier.senders.smtp_email import SmtpEmailSender
from services.notifier.senders.twilio_sms import TwilioSmsSender
from services.notifier.testing.smtp_server import SmtpTestServer
from services.notifier.testing.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TwilioTestServer,
)
from services.notifier.testing.wecom_server import WeComTestServer
from shared.clock import FixedClock
from shared.db import transaction
from shared.settings import load_settings

#: 10:00 in Asia/Shanghai: outside quiet hours
DAYTIME = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PHONE = "+8613812345678"


@pytest.fixture(scope="session")
def twilio_server() -> Iterator[TwilioTestServer]:
    with TwilioTestServer() as server:
        yield server


@pytest.fixture
def twilio(twilio_server: TwilioTestServer) -> TwilioTestServer:
    twilio_server.reset()
    return twilio_server


@pytest.fixture
def wecom() -> Iterator[WeComTestServer]:
    """A loopback WeCom API that knows the user zhangsan."""
    with WeComTestServer(users={"zhangsan"}) as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def sms_sender(twilio: TwilioTestServer) -> TwilioSmsSender:
    return TwilioSmsSender(
        account_sid=TEST_ACCOUNT_SID,
        auth_token=TEST_AUTH_TOKEN,
        from_number="+15005550006",
        status_callback_url="https://liaison.example.org/twilio/status",
        base_url=twilio.base_url,
        timeout_s=2.0,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DAYTIME)


@pytest.fixture
def runtime(
    engine: Engine, sms_sender: TwilioSmsSender, smtp: SmtpTestServer, clock: FixedClock
) -> Runtime:
    email = SmtpEmailSender(
        host=smtp.host, port=smtp.port, sender="liaison@example.org", security="none"
    )
    return Runtime(
        engine=engine,
        senders={"sms": sms_sender, "email": email},
        render=render_message,
        clock=clock,
        max_retries=3,
        min_backoff_ms=10,
        max_backoff_ms=50,
    )


@pytest.fixture
def actors(broker: RedisBroker, runtime: Runtime) -> Iterator[NotifierActors]:
    """The notifier's actors as the bootstrap declares them, on the test's broker and
    runtime. These tests drive the delivery state machine on rows no ledger backs, so
    the ledger's refreshers are left out (tests that need one register it themselves)."""
    wiring = bootstrap(
        load_settings({"LIAISON_MAX_RETRIES": str(runtime.max_retries)}),
        clock=runtime.clock,
        engine=runtime.engine,
        runtime=runtime,
        broker=broker,
        refreshers=False,
    )
    yield wiring.actors.notifier
    wiring.close()


@pytest.fixture
def worker(broker: RedisBroker, actors: NotifierActors) -> Iterator[dramatiq.Worker]:
    worker = dramatiq.Worker(broker, worker_threads=4, worker_timeout=50)
    worker.start()
    yield worker
    worker.stop()


NotificationFactory = Callable[..., int]


@pytest.fixture
def make_notification(engine: Engine, clock: FixedClock) -> NotificationFactory:
    serial = iter(range(1, 1_000_000))

    def make(**overrides: Any) -> int:
        values: dict[str, Any] = {
            "kind": "political_birthday",
            "channel": "sms",
            "recipient_type": "member",
            "recipient_id": f"M{next(serial)}",
            "address": PHONE,
            "locale": "en",
            "timezone": "Asia/Shanghai",
            "data": {"member_name": "Wang Fang", "years": 12, "org_name": "Hongqi Branch"},
            "occasion": "birthday:2026-11-23",
        }
        values.update(overrides)
        with transaction(engine) as session:
            return create_notification(session, now=clock.now(), **values).id

    return make
