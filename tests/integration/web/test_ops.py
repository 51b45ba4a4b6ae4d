"""Queues, dead letters, metrics, readiness and alerts against the real Redis broker."""

from __future__ import annotations

from datetime import timedelta

import redis
from dramatiq import Message
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from services.notifier.enqueuing import notification_message
from services.notifier.heartbeat import WorkerHeartbeat
from services.web.alert_loop import check_alerts
from shared.clock import FixedClock
from shared.db import transaction
from shared.models import Notification, NotificationEvent
from shared.status_keys import LAST_TICK_KEY, status_record
from tests.integration.web.conftest import Tokens, bearer
from tests.integration.web.ledger import send_digest

NS = "liaison"


def dead_letter(client: TestClient, notification_id: int, reason: str) -> None:
    """Put a send_notification message on the dead-letter queue as dramatiq's nack does."""
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    message = notification_message(notification_id).copy(
        options={"redis_message_id": "dead-1", "traceback": f"Traceback...\n{reason}"}
    )
    r: redis.Redis = ctx.redis
    r.zadd(f"{NS}:notifications.XQ", {"dead-1": 1_700_000_000_000})
    r.hset(f"{NS}:notifications.XQ.msgs", "dead-1", message.encode())


def make_dead(engine: Engine) -> int:
    send_digest(engine, "LA")
    with transaction(engine) as s:
        # Every notification so far: the digest just sent, and any requeued before.
        s.execute(update(Notification).values(status="dead", last_error="SMTP 451 try later"))
    return 1


def queue(client: TestClient, token: str) -> dict[str, object]:
    rows = client.get("/api/v1/queues", headers=bearer(token)).json()
    return next(q for q in rows if q["name"] == "notifications")


def test_a_dead_letter_is_listed_with_its_reason_and_requeued(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    nid = make_dead(ledger)
    dead_letter(client, nid, "OperationalError: database is locked")
    assert queue(client, tokens.ops)["dead"] == 1 and queue(client, tokens.ops)["waiting"] == 0
    letters = client.get("/api/v1/dead-letters", headers=bearer(tokens.ops)).json()
    assert len(letters) == 1
    letter = letters[0]
    assert letter["reason"] == "OperationalError: database is locked"
    assert letter["recipient"] == "+86 138****0001"
    response = client.post(
        "/api/v1/dead-letters/requeue",
        json={"source": letter["source"], "ref": letter["ref"]},
        headers=bearer(tokens.ops),
    )
    assert response.json() == {"requeued": True}
    figures = queue(client, tokens.ops)
    assert (figures["dead"], figures["waiting"]) == (0, 1)
    with transaction(ledger) as s:
        assert s.get(Notification, nid).status == "queued"  # type: ignore[union-attr]
    again = client.post(
        "/api/v1/dead-letters/requeue",
        json={"source": letter["source"], "ref": letter["ref"]},
        headers=bearer(tokens.ops),
    )
    assert again.json() == {"requeued": False}


def test_a_notification_dead_in_the_outbox_is_listed_and_requeued(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    nid = make_dead(ledger)
    letters = client.get("/api/v1/dead-letters", headers=bearer(tokens.admin)).json()
    assert [(d["source"], d["ref"], d["reason"]) for d in letters] == [
        ("outbox", str(nid), "SMTP 451 try later")
    ]
    client.post(
        "/api/v1/dead-letters/requeue",
        json={"source": "outbox", "ref": str(nid)},
        headers=bearer(tokens.admin),
    )
    assert queue(client, tokens.admin)["waiting"] == 1
    assert client.get("/api/v1/dead-letters", headers=bearer(tokens.admin)).json() == []
    admin_id = client.get("/api/v1/me", headers=bearer(tokens.admin)).json()["token_id"]
    with Session(ledger) as s:
        detail = s.scalars(
            select(NotificationEvent.detail)
            .where(NotificationEvent.notification_id == nid)
            .order_by(NotificationEvent.id.desc())
        ).first()
    assert detail == f"requeued by admin token #{admin_id}"


def test_only_a_dead_notification_is_requeued_one_by_one_as_on_the_dashboard(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    # A permanent failure (a number that does not exist) would only fail again: the one
    # requeue path takes dead notifications, the same on every page and command.
    nid = make_dead(ledger)
    with transaction(ledger) as s:
        s.execute(update(Notification).values(status="failed", last_error="21211 invalid To"))
    answer = client.post(
        "/api/v1/dead-letters/requeue",
        json={"source": "outbox", "ref": str(nid)},
        headers=bearer(tokens.ops),
    )
    assert answer.json() == {"requeued": False}
    with Session(ledger) as s:
        assert s.get_one(Notification, nid).status == "failed"
    assert queue(client, tokens.ops)["waiting"] == 0


def test_metrics_show_queue_depth_oldest_age_notifications_and_latency(
    client: TestClient, ledger: Engine, clock: FixedClock
) -> None:
    send_digest(ledger, "LA")
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    message = Message(
        queue_name="notifications",
        actor_name="send_notification",
        args=(1,),
        kwargs={},
        options={},
        message_timestamp=int((clock.now() - timedelta(seconds=90)).timestamp() * 1000),
    )
    ctx.broker.enqueue(message)
    text = client.get("/metrics").text
    assert 'liaison_queue_messages{queue="notifications"} 1.0' in text
    assert 'liaison_queue_oldest_message_age_seconds{queue="notifications"} 90.0' in text
    assert 'liaison_notifications{channel="sms",kind="liaison_digest",status="sent"} 1.0' in text
    assert "liaison_scheduler_last_tick_timestamp_seconds 0.0" in text


def test_readyz_names_the_scheduler_until_it_ticks(
    client: TestClient, redis_client: redis.Redis, clock: FixedClock
) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["missing"] == ["scheduler"]
    redis_client.set(LAST_TICK_KEY, status_record(clock.now() - timedelta(seconds=30)))
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["scheduler"]["tick_age_s"] == 30.0
    assert client.get("/healthz").json() == {"status": "ok"}


def test_each_alert_is_mailed_once_per_incident(
    client: TestClient,
    ledger: Engine,
    redis_client: redis.Redis,
    clock: FixedClock,
    tokens: Tokens,
) -> None:
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    mails: list[str] = []

    def mailer(subject: str, text: str) -> None:
        mails.append(subject)

    redis_client.set(LAST_TICK_KEY, status_record(clock.now()))
    worker = WorkerHeartbeat(lambda: redis_client)
    worker.start(["notifications", "planning"], 8)
    try:
        check_alerts(ctx, mailer)
        assert mails == []
        make_dead(ledger)
        check_alerts(ctx, mailer)
        check_alerts(ctx, mailer)
        assert mails == ["[liaison] 1 条通知发送失败已放弃（阈值 1，24 小时内）"]
        clock.advance(timedelta(minutes=10))  # the scheduler stopped ticking
        check_alerts(ctx, mailer)
        check_alerts(ctx, mailer)
        assert len(mails) == 2 and "调度器最近一次运行：600 秒前" in mails[1]
        # Requeued: the dead incident ends; a notification dying again is a new incident.
        requeued = client.post(
            "/api/v1/dead/requeue", json={"scope": "all"}, headers=bearer(tokens.ops)
        )
        assert requeued.json() == {"requeued": 1}
        check_alerts(ctx, mailer)
        assert len(mails) == 2
        with transaction(ledger) as s:
            s.execute(update(Notification).values(status="dead"))
        check_alerts(ctx, mailer)
        assert len(mails) == 3 and "1 条通知发送失败已放弃" in mails[2]
    finally:
        worker.stop()
