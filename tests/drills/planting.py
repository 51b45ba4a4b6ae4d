"""Planting a run's worth of notifications, one distinct address each, and enqueuing them.

One address per notification lets the loopback servers count provider requests per
notification, which is how the drills count duplicates. They are branch escalations, the
one kind the workers send as planned: a digest, a reminder or a greeting is re-read from
the ledger at send time (its refresher), and these rows have no ledger behind them.
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

KIND = "branch_escalation"  #: a kind without a refresher (see above)


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
                    kind=KIND,
                    channel=channel,
                    recipient_type="secretary",
                    recipient_id=f"S{i:07d}",
                    address=phone(i) if channel == "sms" else email(i),
                    locale="en",
                    timezone=zone,
                    data={
                        "secretary_name": f"Secretary {i}",
                        "org_name": "Hongqi Branch",
                        "as_of": now.date().isoformat(),
                        "overdue_threshold_days": 14,
                        "unassigned": [{"member_id": "M0000001", "member_name": "Wang Fang"}],
                        "overdue": [],
                        "certificates_due": [],
                    },
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
