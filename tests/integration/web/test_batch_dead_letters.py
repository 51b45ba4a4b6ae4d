"""A dead `send_notifications` letter (up to 50 notification ids, as the notifier now
enqueues them) through `/api/v1/dead-letters` and its requeue, on the real Redis broker."""

from __future__ import annotations

from collections import Counter

import redis
from dramatiq import Message
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from services.notifier.enqueuing import batch_message
from shared.db import transaction
from shared.models import Notification, NotificationEvent
from tests.integration.web.conftest import Tokens, bearer
from tests.integration.web.ledger import NOW

NS = "liaison"
QUEUE = f"{NS}:notifications"


def plant(engine: Engine, statuses: list[str]) -> list[int]:
    """One email per status, to m<i>@example.org, as the outbox holds them."""
    rows: list[dict[str, object]] = [
        {
            "kind": "event_reminder" if i % 2 == 0 else "birthday_greeting",
            "channel": "email",
            "recipient_type": "member",
            "recipient_id": f"M{i:05d}",
            "address": f"m{i}@example.org",
            "locale": "zh-CN",
            "timezone": "Asia/Shanghai",
            "data": {},
            "occasion": "x",
            "idempotency_key": f"batch-{i}",
            "status": status,
            "attempts": 0 if status == "queued" else 1,
            "last_error": "SMTP 451 try later" if status == "dead" else None,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i, status in enumerate(statuses)
    ]
    with transaction(engine) as s:
        s.execute(insert(Notification), rows)
        return list(
            s.scalars(
                select(Notification.id)
                .where(Notification.idempotency_key.like("batch-%"))
                .order_by(Notification.id)
            )
        )


def dead_batch_letter(client: TestClient, ids: list[int], reason: str) -> None:
    """Put a send_notifications message on the dead-letter queue as dramatiq's nack does."""
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    message = batch_message(ids).copy(
        options={"redis_message_id": "dead-batch", "traceback": f"Traceback...\n{reason}"}
    )
    r: redis.Redis = ctx.redis
    r.zadd(f"{QUEUE}.XQ", {"dead-batch": 1_700_000_000_000})
    r.hset(f"{QUEUE}.XQ.msgs", "dead-batch", message.encode())


def waiting_ids(client: TestClient) -> Counter[int]:
    """How many times each notification id is carried by the messages waiting in Redis."""
    r: redis.Redis = client.app.state.ctx.redis  # type: ignore[attr-defined]
    counts: Counter[int] = Counter()
    for raw in r.hvals(f"{QUEUE}.msgs"):
        message = Message.decode(raw)  # type: ignore[arg-type]
        arg = message.args[0]
        counts.update(arg if isinstance(arg, list) else [arg])
    return counts


def test_a_dead_batch_letter_lists_every_notification_it_carries_with_recipient_and_kind(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    ids = plant(ledger, ["queued", "dead", "queued"])
    dead_batch_letter(client, ids, "TimeLimitExceeded")
    letters = client.get("/api/v1/dead-letters", headers=bearer(tokens.ops)).json()
    # One letter, and the dead notification it carries is not listed a second time.
    assert [(d["source"], d["reason"]) for d in letters] == [("broker", "TimeLimitExceeded")]
    assert letters[0]["notifications"] == [
        {"notification_id": ids[0], "recipient": "m***@example.org", "kind": "event_reminder"},
        {"notification_id": ids[1], "recipient": "m***@example.org", "kind": "birthday_greeting"},
        {"notification_id": ids[2], "recipient": "m***@example.org", "kind": "event_reminder"},
    ]


def test_a_single_dead_letter_lists_its_one_notification_the_same_way(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    [nid] = plant(ledger, ["dead"])
    dead_batch_letter(client, [nid], "TimeLimitExceeded")
    [letter] = client.get("/api/v1/dead-letters", headers=bearer(tokens.ops)).json()
    assert (letter["notification_id"], letter["kind"]) == (nid, "event_reminder")
    assert [n["notification_id"] for n in letter["notifications"]] == [nid]


def test_requeueing_a_dead_batch_letter_queues_each_of_its_notifications_exactly_once(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    queued, dead, sent = plant(ledger, ["queued", "dead", "sent"])
    # A duplicate id in the letter is still requeued once.
    dead_batch_letter(client, [queued, dead, sent, dead], "TimeLimitExceeded")
    [letter] = client.get("/api/v1/dead-letters", headers=bearer(tokens.ops)).json()
    body = {"source": letter["source"], "ref": letter["ref"]}
    answer = client.post("/api/v1/dead-letters/requeue", json=body, headers=bearer(tokens.ops))
    assert answer.json() == {"requeued": True}
    # The one already sent is not sent again; the others wait once each.
    assert waiting_ids(client) == Counter({queued: 1, dead: 1})
    ops_id = client.get("/api/v1/me", headers=bearer(tokens.ops)).json()["token_id"]
    with Session(ledger) as s:
        statuses = dict(s.execute(select(Notification.id, Notification.status)).all())
        assert (statuses[queued], statuses[dead], statuses[sent]) == ("queued", "queued", "sent")
        details = s.scalars(
            select(NotificationEvent.detail).where(NotificationEvent.notification_id == dead)
        ).all()
        assert f"requeued by ops token #{ops_id}" in details
    assert client.get("/api/v1/dead-letters", headers=bearer(tokens.ops)).json() == []
    # The letter is gone: a second press (another operator) requeues nothing.
    again = client.post("/api/v1/dead-letters/requeue", json=body, headers=bearer(tokens.ops))
    assert again.json() == {"requeued": False}
    assert waiting_ids(client) == Counter({queued: 1, dead: 1})
