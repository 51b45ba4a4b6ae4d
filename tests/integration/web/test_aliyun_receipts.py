"""Alibaba Cloud SMS delivery receipts (SmsReport pushes) on both databases: only the
configured secret URL is accepted, and a report moves its notification once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.notifier.outbox import create_notification, transition
from services.web.app import create_app
from services.web.settings import WebSettings
from shared.clock import FixedClock
from shared.db import transaction
from shared.models import Notification, NotificationEvent
from shared.settings import load_settings
from tests.integration.web.conftest import PUBLIC_URL

SECRET = "receipts-3c1f9a0e7b"
REPORTS = f"/webhooks/aliyun/sms-report/{SECRET}"
BIZ_ID = "900619746936498440^0"


def app_client(
    database_url: str, redis_server_url: str, clock: FixedClock, home: Any, secret: str
) -> Iterator[TestClient]:
    settings = load_settings(
        {
            "LIAISON_DATABASE_URL": database_url,
            "LIAISON_REDIS_URL": redis_server_url,
            "LIAISON_HOME": str(home),
            "LIAISON_ALIYUN_RECEIPT_SECRET": secret,
        }
    )
    app = create_app(settings, WebSettings(public_url=PUBLIC_URL), clock=clock)
    with TestClient(app) as c:
        yield c
    app.state.ctx.close()


@pytest.fixture
def receipts(
    engine: Engine,
    database_url: str,
    redis_server_url: str,
    redis_client: redis.Redis,
    clock: FixedClock,
    tmp_path: Any,
) -> Iterator[TestClient]:
    yield from app_client(database_url, redis_server_url, clock, tmp_path, SECRET)


@pytest.fixture
def sent_id(engine: Engine, clock: FixedClock) -> int:
    """A notification Alibaba Cloud accepted as BIZ_ID."""
    with transaction(engine) as session:
        made = create_notification(
            session,
            kind="political_birthday",
            channel="sms",
            recipient_type="member",
            recipient_id="M1",
            address="+8613812345678",
            locale="zh-CN",
            timezone="Asia/Shanghai",
            data={"member_name": "王芳", "years": 3, "org_name": "红旗村党支部"},
            occasion="birthday:2026-11-23",
            now=clock.now(),
        )
        assert transition(
            session,
            made.id,
            from_statuses=("pending",),
            to="sent",
            now=clock.now(),
            detail="accepted by aliyun",
            provider_message_id=BIZ_ID,
        )
    return made.id


def report(success: bool, code: str, biz_id: str = BIZ_ID) -> dict[str, Any]:
    return {
        "phone_number": "13812345678",
        "send_time": "2026-11-23 10:00:00",
        "report_time": "2026-11-23 10:00:05",
        "success": success,
        "err_code": code,
        "err_msg": "用户接收成功" if success else "失败",
        "sms_size": "1",
        "biz_id": biz_id,
        "out_id": "1",
    }


def status_of(engine: Engine, notification_id: int) -> tuple[str, str | None, int]:
    with Session(engine) as s:
        n = s.get(Notification, notification_id)
        assert n is not None
        events = s.scalars(
            select(NotificationEvent).where(NotificationEvent.notification_id == notification_id)
        ).all()
        return n.status, n.last_error, len(events)


def test_a_delivered_report_moves_the_notification_and_is_acknowledged_as_expected(
    receipts: TestClient, engine: Engine, sent_id: int
) -> None:
    response = receipts.post(REPORTS, json=[report(True, "DELIVERED")])
    assert response.status_code == 200 and response.json() == {"code": 0, "msg": "接收成功"}
    assert status_of(engine, sent_id)[0] == "delivered"


def test_a_repeated_or_contradicting_report_changes_nothing(
    receipts: TestClient, engine: Engine, sent_id: int
) -> None:
    receipts.post(REPORTS, json=[report(False, "MN:0001")])
    after_first = status_of(engine, sent_id)
    assert after_first[:2] == ("undelivered", "provider error MN:0001")
    receipts.post(REPORTS, json=[report(False, "MN:0001")])
    receipts.post(REPORTS, json=[report(True, "DELIVERED")])
    assert status_of(engine, sent_id) == after_first


def test_a_wrong_secret_is_not_found_and_changes_nothing(
    receipts: TestClient, engine: Engine, sent_id: int
) -> None:
    for path in ("/webhooks/aliyun/sms-report/guess", f"{REPORTS}x", REPORTS[:-1]):
        assert receipts.post(path, json=[report(True, "DELIVERED")]).status_code == 404
    assert status_of(engine, sent_id)[0] == "sent"


def test_without_a_configured_secret_the_route_accepts_nothing(
    engine: Engine,
    database_url: str,
    redis_server_url: str,
    redis_client: redis.Redis,
    clock: FixedClock,
    tmp_path: Any,
    sent_id: int,
) -> None:
    clients = 0
    for client in app_client(database_url, redis_server_url, clock, tmp_path, ""):
        assert client.post("/webhooks/aliyun/sms-report/", json=[]).status_code == 404
        assert client.post("/webhooks/aliyun/sms-report/x", json=[]).status_code == 404
        clients += 1
    assert clients == 1
    assert status_of(engine, sent_id)[0] == "sent"


def test_reports_for_unknown_messages_are_acknowledged_and_ignored(
    receipts: TestClient, engine: Engine, sent_id: int
) -> None:
    batch = [report(True, "DELIVERED", "000^0"), report(True, "DELIVERED")]
    assert receipts.post(REPORTS, json=batch).json()["code"] == 0
    assert status_of(engine, sent_id)[0] == "delivered"


def test_a_body_that_is_not_reports_is_a_400(receipts: TestClient) -> None:
    assert receipts.post(REPORTS, content=b"not json").status_code == 400
    assert receipts.post(REPORTS, json=["x"]).status_code == 400


def test_a_deeply_nested_body_is_a_400_not_a_server_error(receipts: TestClient) -> None:
    assert receipts.post(REPORTS, content=b"[" * 30_000 + b"]" * 30_000).status_code == 400
