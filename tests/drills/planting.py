"""Planting a run's worth of notifications, one distinct address each, and enqueuing them.

One address per notification lets the loopback servers count provider requests per
notification, which is how the drills count duplicates.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from services.notifier.broker import build_broker
from services.notifier.enqueuing import enqueue
from services.notifier.outbox import create_notification
from shared.db import transaction
from shared.settings import load_settings
from tests.drills.processes import daytime_zone


def phone(i: int) -> str:
    return f"+86138{i:08d}"


def email(i: int) -> str:
    return f"member{i}@example.org"


def plant(engine: Engine, count: int, *, channel: str = "sms", start: int = 0) -> list[int]:
    now = datetime.now(UTC)
    zone = daytime_zone(now)
    ids = []
    with transaction(engine) as session:
        for i in range(start, start + count):
            ids.append(
                create_notification(
                    session,
                    kind="political_birthday",
                    channel=channel,
                    recipient_type="member",
                    recipient_id=f"M{i:07d}",
                    address=phone(i) if channel == "sms" else email(i),
                    locale="en",
                    timezone=zone,
                    data={"member_name": f"Member {i}", "years": 10, "org_name": "Hongqi Branch"},
                    occasion=f"drill:{now:%Y-%m-%d}",
                    now=now,
                ).id
            )
    return ids


def enqueue_all(engine: Engine, redis_url: str, ids: list[int]) -> None:
    broker = build_broker(redis_url, load_settings({}))
    try:
        enqueue(engine, broker, ids, now=datetime.now(UTC))
    finally:
        broker.close()
