"""Delivering through the provider an organization chose, on both databases: the attempt
is logged under that provider, Alibaba Cloud's blacklist code records an opt-out, its
throttling is retried, and WeCom messages are rendered as text cards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.notifier.delivery import deliver
from services.notifier.outbox import mark_queued
from services.notifier.runtime import Runtime
from services.notifier.senders.aliyun_sms import AliyunSmsSender
from services.notifier.senders.wecom_app import WeComAppSender
from services.notifier.testing.aliyun_server import (
    TEST_ACCESS_KEY_ID,
    TEST_ACCESS_KEY_SECRET,
    AliyunSmsTestServer,
)
from services.notifier.testing.twilio_server import TwilioTestServer
from services.notifier.testing.wecom_server import (
    TEST_AGENT_ID,
    TEST_CORP_ID,
    TEST_SECRET,
    WeComTestServer,
)
from shared.clock import FixedClock
from shared.db import transaction
from shared.models import DeliveryAttempt, Notification, OptOut
from tests.integration.notifier.conftest import PHONE, NotificationFactory

ALIYUN_ROUTE = {"provider": "aliyun", "template_codes": {"political_birthday": "SMS_BIRTHDAY"}}
BIRTHDAY = {"member_name": "王芳", "years": 12, "org_name": "红旗村党支部"}


@pytest.fixture(scope="module")
def aliyun_server() -> Iterator[AliyunSmsTestServer]:
    with AliyunSmsTestServer(templates={"SMS_BIRTHDAY": ("name", "day", "years", "org")}) as server:
        yield server


@pytest.fixture
def aliyun(aliyun_server: AliyunSmsTestServer) -> AliyunSmsTestServer:
    with aliyun_server._lock:
        aliyun_server.requests.clear()
        aliyun_server._script.clear()
    return aliyun_server


@pytest.fixture
def routed(runtime: Runtime, aliyun: AliyunSmsTestServer, wecom: WeComTestServer) -> Runtime:
    """The conftest runtime (Twilio the SMS default) with Alibaba Cloud and WeCom added."""
    aliyun_sender = AliyunSmsSender(
        access_key_id=TEST_ACCESS_KEY_ID,
        access_key_secret=TEST_ACCESS_KEY_SECRET,
        sign_name="流动党员联络",
        endpoint=f"http://{aliyun.endpoint}",
        timeout_s=2.0,
    )
    wecom_sender = WeComAppSender(
        corp_id=TEST_CORP_ID,
        secret=TEST_SECRET,
        agent_id=TEST_AGENT_ID,
        card_url="https://liaison.example.org/",
        base_url=wecom.base_url,
    )
    senders = {**runtime.senders, "sms:aliyun": aliyun_sender, "wecom": wecom_sender}
    return replace(runtime, senders=senders)


@pytest.fixture
def queued(
    engine: Engine, clock: FixedClock, make_notification: NotificationFactory
) -> NotificationFactory:
    """Make a notification and mark it queued, as enqueuing does before a worker runs it."""

    def make(**values: object) -> int:
        nid = make_notification(**values)
        with transaction(engine) as session:
            mark_queued(session, [nid], now=clock.now())
        return nid

    return make


def attempts(engine: Engine, notification_id: int) -> list[DeliveryAttempt]:
    with Session(engine) as s:
        return list(
            s.scalars(
                select(DeliveryAttempt).where(DeliveryAttempt.notification_id == notification_id)
            )
        )


def status(engine: Engine, notification_id: int) -> str:
    with Session(engine) as s:
        n = s.get(Notification, notification_id)
        assert n is not None
        return n.status


def test_an_organization_on_aliyun_is_sent_through_aliyun_and_logged_so(
    routed: Runtime,
    engine: Engine,
    queued: NotificationFactory,
    aliyun: AliyunSmsTestServer,
    twilio: TwilioTestServer,
) -> None:
    nid = queued(data={**BIRTHDAY, "sms_route": ALIYUN_ROUTE}, locale="zh-CN")
    assert deliver(routed, nid).status == "sent"
    [request] = aliyun.sent()
    assert twilio.requests == []
    [attempt] = attempts(engine, nid)
    assert attempt.provider == "aliyun" and attempt.provider_message_id == request.biz_id


def test_an_organization_without_a_route_stays_on_the_default_provider(
    routed: Runtime,
    queued: NotificationFactory,
    aliyun: AliyunSmsTestServer,
    twilio: TwilioTestServer,
) -> None:
    nid = queued(data=BIRTHDAY)
    assert deliver(routed, nid).status == "sent"
    assert len(twilio.sent()) == 1 and aliyun.requests == []


def test_the_blacklist_code_fails_the_message_and_opts_the_number_out(
    routed: Runtime,
    engine: Engine,
    queued: NotificationFactory,
    aliyun: AliyunSmsTestServer,
) -> None:
    aliyun.fail_next(code="isv.BLACK_KEY_CONTROL_LIMIT")
    first = queued(data={**BIRTHDAY, "sms_route": ALIYUN_ROUTE})
    assert deliver(routed, first).status == "failed"
    with Session(engine) as s:
        [opt_out] = s.scalars(select(OptOut)).all()
        assert (opt_out.address, opt_out.channel, opt_out.source) == (PHONE, "sms", "provider")
    second = queued(data={**BIRTHDAY, "sms_route": ALIYUN_ROUTE})
    assert deliver(routed, second).status == "suppressed"
    assert len(aliyun.requests) == 1


def test_throttling_is_retried_with_the_providers_wait_and_then_sent(
    routed: Runtime,
    engine: Engine,
    queued: NotificationFactory,
    aliyun: AliyunSmsTestServer,
) -> None:
    aliyun.fail_next(code="Throttling.User", status=400, retry_after_ms=3000)
    nid = queued(data={**BIRTHDAY, "sms_route": ALIYUN_ROUTE})
    outcome = deliver(routed, nid)
    assert outcome.status == "queued" and outcome.retry_in_ms is not None
    assert outcome.retry_in_ms >= 3000
    assert deliver(routed, nid, retries=1).status == "sent"
    assert [a.outcome for a in attempts(engine, nid)] == ["transient", "sent"]


def test_a_wecom_notification_is_rendered_as_a_text_card_and_sent(
    routed: Runtime,
    engine: Engine,
    queued: NotificationFactory,
    wecom: WeComTestServer,
) -> None:
    nid = queued(channel="wecom", address="zhangsan", locale="zh-CN", data=BIRTHDAY)
    assert deliver(routed, nid).status == "sent"
    [message] = wecom.messages()
    assert message.body["textcard"]["title"] == "政治生日快乐"
    assert "入党12周年" in message.body["textcard"]["description"]
    [attempt] = attempts(engine, nid)
    assert attempt.provider == "wecom"
