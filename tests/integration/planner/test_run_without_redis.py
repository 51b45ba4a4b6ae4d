"""`liaison run` with Redis down: one line that says what was planned and how it recovers,
and the scheduler's sweep then enqueues every notification the run could not hand over.

The planner writes notifications to the database before their message goes to Redis, so
a run cut off there leaves them waiting with no message. The error line counts them; the
test then brings Redis in and shows that two sweeps (the second confirms what the first
suspected) enqueue exactly those, with a message for each in Redis.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy import Engine, func, select

import services.cli as cli
from services.notifier import NOTIFICATIONS_QUEUE, OutboxSweeper, build_broker
from services.notifier.waiting import waiting_notification_ids
from shared.models import Notification
from shared.settings import load_settings
from tests.integration.planner.ledger import load_synthetic

AS_OF = date(2026, 11, 30)  # a Monday: digests are due at 09:00
RUN_AT = datetime(2026, 11, 30, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
NOBODY_LISTENS = "redis://127.0.0.1:9/0"  # the discard port: connection refused


def waiting(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(
            Notification.status.in_(("pending", "queued", "deferred"))
        )
        return int(conn.execute(query).scalar_one())


def test_a_run_with_redis_down_says_how_many_wait_and_the_sweep_enqueues_them(
    engine: Engine,
    tmp_path: Path,
    liaison_env: dict[str, str],
    redis_server_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load_synthetic(engine, tmp_path / "ledger", members=60, as_of=AS_OF)
    monkeypatch.setenv("LIAISON_REDIS_URL", NOBODY_LISTENS)
    monkeypatch.setattr(cli, "configure_logging", lambda level: None)
    monkeypatch.setattr(sys, "argv", ["liaison", "run", "--as-of", RUN_AT.isoformat()])
    with pytest.raises(SystemExit) as ended:
        cli.main()
    err = capsys.readouterr().err
    planned = waiting(engine)
    assert ended.value.code == 1 and planned > 0
    assert "Traceback" not in err
    assert err.strip().startswith("liaison: Redis unreachable (")
    assert err.strip().endswith(
        f"{planned} notifications are planned and will be enqueued by the scheduler's "
        "next sweep once Redis is back"
    )

    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    broker = build_broker(redis_server_url, load_settings({}))
    try:
        sweeper = OutboxSweeper(engine, broker)  # what the scheduler's tick calls
        later = RUN_AT + timedelta(minutes=10)
        enqueued = sweeper.sweep(later) + sweeper.sweep(later + timedelta(seconds=30))
        messages = waiting_notification_ids(broker, NOTIFICATIONS_QUEUE)
    finally:
        broker.close()
    assert enqueued == planned
    assert len(messages) == planned
