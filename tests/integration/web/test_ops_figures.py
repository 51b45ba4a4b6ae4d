"""The figures behind the ops charts and the alerts that no browser test reaches: volumes
per local hour and day (counted by each database), latency percentiles, the queue depth
history, a planning timeout as an incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from services.notifier.heartbeat import WorkerHeartbeat
from services.web.alert_loop import check_alerts
from services.web.depth_history import depth_history, record_depth
from services.web.snapshot import take_snapshot
from services.web.volumes import latencies, volumes
from shared.clock import FixedClock
from shared.db import transaction
from shared.models import DeliveryAttempt, Notification
from shared.status_keys import LAST_TICK_KEY, PLANNING_TIMEOUTS_KEY, status_record

SHANGHAI = "Asia/Shanghai"


def notifications(engine: Engine, created: list[tuple[datetime, str, str]]) -> list[int]:
    # fmt: off
    rows = [
        {
            "kind": kind, "channel": channel, "recipient_type": "member",
            "recipient_id": f"M{i}", "address": f"m{i}@example.org", "locale": "zh-CN",
            "timezone": SHANGHAI, "data": {}, "occasion": "x", "idempotency_key": f"v-{i}",
            "status": "sent", "attempts": 1, "created_at": at, "updated_at": at,
        }
        for i, (at, kind, channel) in enumerate(created)
    ]
    # fmt: on
    with transaction(engine) as s:
        s.execute(insert(Notification), rows)
        return [n.id for n in s.query(Notification).order_by(Notification.id)]


def test_volumes_are_counted_per_local_hour_and_day_by_kind_and_channel(engine: Engine) -> None:
    now = datetime(2026, 12, 3, 8, 30, tzinfo=UTC)  # 16:30 in Shanghai
    notifications(
        engine,
        [
            (datetime(2026, 12, 3, 8, 5, tzinfo=UTC), "digest", "sms"),  # 16:05 today
            (datetime(2026, 12, 3, 8, 59, tzinfo=UTC), "digest", "sms"),  # 16:59 today
            (datetime(2026, 12, 3, 7, 0, tzinfo=UTC), "digest", "email"),  # 15:00 today
            (datetime(2026, 12, 2, 16, 30, tzinfo=UTC), "birthday", "sms"),  # 00:30 today
            (datetime(2026, 12, 2, 15, 59, tzinfo=UTC), "birthday", "sms"),  # 23:59 yesterday
        ],
    )
    hourly = volumes(engine, now=now, tz=SHANGHAI, per="hour", count=3)
    assert [b.strftime("%H:%M") for b in hourly.buckets] == ["14:00", "15:00", "16:00"]
    assert hourly.series == {("digest", "email"): [0, 1, 0], ("digest", "sms"): [0, 0, 2]}
    daily = volumes(engine, now=now, tz=SHANGHAI, per="day", count=2)
    assert [b.strftime("%m-%d") for b in daily.buckets] == ["12-02", "12-03"]
    assert daily.series == {
        ("birthday", "sms"): [1, 1],
        ("digest", "email"): [0, 1],
        ("digest", "sms"): [0, 2],
    }


def test_latency_percentiles_per_provider_leave_out_older_calls(engine: Engine) -> None:
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    ids = notifications(engine, [(now, "digest", "sms")] * 1)
    rows = [
        {"notification_id": ids[0], "attempt": i + 1, "provider": "aliyun",
         "started_at": now - timedelta(minutes=1), "latency_ms": ms, "outcome": "sent"}
        for i, ms in enumerate([10, 20, 30, 40, 50, 60, 70, 80, 90, 1000])
    ]  # fmt: skip
    rows.append({"notification_id": ids[0], "attempt": 11, "provider": "aliyun",
                 "started_at": now - timedelta(days=2), "latency_ms": 99_999,
                 "outcome": "sent"})  # fmt: skip
    with transaction(engine) as s:
        s.execute(insert(DeliveryAttempt), rows)
    [aliyun] = latencies(engine, since=now - timedelta(hours=24))
    assert (aliyun.provider, aliyun.calls) == ("aliyun", 10)
    assert (aliyun.p50_ms, aliyun.p95_ms, aliyun.max_ms) == (50, 1000, 1000)


def test_each_alert_check_leaves_a_queue_depth_sample_for_the_chart(
    client: TestClient, redis_client: redis.Redis, clock: FixedClock
) -> None:
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    check_alerts(ctx, None)
    clock.advance(timedelta(minutes=1))
    check_alerts(ctx, None)
    samples = depth_history(redis_client, since=clock.now() - timedelta(hours=1))
    assert [s.at for s in samples] == [clock.now() - timedelta(minutes=1), clock.now()]
    assert samples[0].depth == {"notifications": 0, "planning": 0}
    snap = take_snapshot(ctx.engine, ctx.redis, ctx.namespace, ctx.web, now=clock.now())
    record_depth(redis_client, snap)  # the same instant again: one sample, not two
    assert len(depth_history(redis_client, since=clock.now() - timedelta(hours=1))) == 2


def test_a_planning_timeout_is_an_incident_sent_once_that_ends_after_its_window(
    client: TestClient, redis_client: redis.Redis, clock: FixedClock
) -> None:
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    sent: list[str] = []
    redis_client.set(PLANNING_TIMEOUTS_KEY, 4)  # from before anyone watched: history
    worker = WorkerHeartbeat(lambda: redis_client)
    worker.start(["notifications", "planning"], 1)
    try:
        redis_client.set(LAST_TICK_KEY, status_record(clock.now()))
        check_alerts(ctx, lambda subject, text: sent.append(subject))
        assert sent == []
        redis_client.incr(PLANNING_TIMEOUTS_KEY)
        check_alerts(ctx, lambda subject, text: sent.append(subject))
        check_alerts(ctx, lambda subject, text: sent.append(subject))
        assert sent == ["[liaison] 调度器等待 worker 规划分片超时（累计 5 次）"]
        clock.advance(timedelta(seconds=ctx.web.planning_window_s + 1))
        redis_client.set(LAST_TICK_KEY, status_record(clock.now()))
        check_alerts(ctx, lambda subject, text: sent.append(subject))
        alerts = client.get("/api/v1/alerts")
        assert alerts.status_code == 401  # ops only; the book itself says it ended:
        assert redis_client.hget("liaison:web:alerts:incidents", "planning_timeout") is None
        assert len(sent) == 1
    finally:
        worker.stop()
