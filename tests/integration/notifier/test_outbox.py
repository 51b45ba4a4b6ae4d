"""The outbox on both databases: idempotent creation, status callbacks, the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.notifier.outbox import (
    CREATE_CHUNK,
    NewNotification,
    apply_status_callback,
    create_notifications,
    mark_queued,
    transition,
)
from shared.db import transaction
from shared.models import Notification, NotificationEvent
from tests.integration.notifier.conftest import NotificationFactory

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_creating_the_same_notification_twice_is_a_no_op(
    engine: Engine, make_notification: NotificationFactory
) -> None:
    first = make_notification(recipient_id="L1", occasion="digest:2026-11-23")
    again = make_notification(recipient_id="L1", occasion="digest:2026-11-23")
    other_channel = make_notification(
        recipient_id="L1", occasion="digest:2026-11-23", channel="email", address="l1@example.org"
    )
    assert first == again != other_channel
    with Session(engine) as session:
        assert len(session.scalars(select(Notification)).all()) == 2
        assert session.scalars(select(NotificationEvent.status)).all() == ["pending", "pending"]


def new(i: int, occasion: str = "digest:2026-11-23") -> NewNotification:
    return NewNotification(
        kind="liaison_digest",
        channel="sms",
        recipient_type="liaison",
        recipient_id=f"L{i}",
        address=f"+86138{i:08d}",
        locale="zh-CN",
        timezone="Asia/Shanghai",
        data={"n": i},
        occasion=occasion,
    )


def test_creating_many_at_once_skips_existing_and_repeated_keys_and_keeps_the_order(
    engine: Engine,
) -> None:
    with transaction(engine) as session:
        before = create_notifications(session, [new(i) for i in (1, 2)], now=NOW)
    # Across a chunk boundary, with keys already stored and a key repeated in the batch.
    batch = [new(i) for i in range(CREATE_CHUNK + 5)] + [new(7)]
    with transaction(engine) as session:
        made = create_notifications(session, batch, now=NOW)
    assert [m.created for m in before] == [True, True]
    assert len(made) == len(batch)
    assert made[1] == (before[0].id, False) and made[2] == (before[1].id, False)
    assert made[-1] == (made[7].id, False) and made[7].created
    assert sum(m.created for m in made) == CREATE_CHUNK + 5 - 2
    with Session(engine) as session:
        rows = {n.recipient_id: n for n in session.scalars(select(Notification))}
        events = session.scalars(select(NotificationEvent.notification_id)).all()
    assert len(rows) == CREATE_CHUNK + 5
    assert sorted(events) == sorted(n.id for n in rows.values())
    assert all(rows[f"L{i}"].id == made[i].id for i in range(CREATE_CHUNK + 5))
    assert rows["L9"].data == {"n": 9} and rows["L9"].status == "pending"


def sent_notification(engine: Engine, make_notification: NotificationFactory) -> int:
    nid = make_notification()
    with transaction(engine) as session:
        mark_queued(session, [nid], now=NOW)
        transition(session, nid, from_statuses=("queued",), to="sending", now=NOW)
        transition(
            session,
            nid,
            from_statuses=("sending",),
            to="sent",
            now=NOW,
            provider_message_id="SM123",
        )
    return nid


def test_status_callbacks_are_idempotent(
    engine: Engine, make_notification: NotificationFactory
) -> None:
    nid = sent_notification(engine, make_notification)
    later = NOW + timedelta(minutes=1)
    with transaction(engine) as session:
        assert apply_status_callback(session, "SM123", "sent", None, now=later) is False
        assert apply_status_callback(session, "SM123", "undelivered", "30003", now=later)
        assert not apply_status_callback(session, "SM123", "undelivered", "30003", now=later)
        assert not apply_status_callback(session, "SM123", "delivered", None, now=later)
        assert not apply_status_callback(session, "SM-unknown", "delivered", None, now=later)
    with Session(engine) as session:
        n = session.get(Notification, nid)
        assert (
            n is not None and n.status == "undelivered" and n.last_error == "provider error 30003"
        )
        history = session.scalars(
            select(NotificationEvent.status)
            .where(NotificationEvent.notification_id == nid)
            .order_by(NotificationEvent.id)
        ).all()
    assert history == ["pending", "queued", "sending", "sent", "undelivered"]


def test_a_delivered_callback_moves_a_sent_notification_to_delivered(
    engine: Engine, make_notification: NotificationFactory
) -> None:
    nid = sent_notification(engine, make_notification)
    with transaction(engine) as session:
        assert apply_status_callback(session, "SM123", "delivered", "", now=NOW)
    with Session(engine) as session:
        n = session.get(Notification, nid)
        assert n is not None and n.status == "delivered" and n.last_error is None


def test_a_transition_from_a_status_the_row_does_not_hold_changes_nothing(
    engine: Engine, make_notification: NotificationFactory
) -> None:
    nid = make_notification()
    with transaction(engine) as session:
        assert not transition(session, nid, from_statuses=("queued",), to="sending", now=NOW)
        assert mark_queued(session, [nid, nid], now=NOW) == [nid]
        assert mark_queued(session, [nid], now=NOW) == []
