"""Handing notifications to the broker, by id, many at a time.

dramatiq's `send()` is one Redis round trip per message. Here the messages are built as
dramatiq builds them and pushed through a Redis pipeline, each one through the broker's
own `dispatch.lua` "enqueue" command, so the queue holds exactly what `send()` would have
put there (a hash entry and a list push per message) at a fraction of the round trips.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis
from sqlalchemy import Engine, select

from services.notifier.actors import SEND_NOTIFICATION, SEND_NOTIFICATIONS
from services.notifier.broker import NOTIFICATIONS_QUEUE
from services.notifier.outbox import mark_queued
from shared.db import transaction
from shared.models import Notification

DEFAULT_CHUNK = 1_000  #: messages per pipeline round trip
#: notification ids per `send_notifications` message: one worker thread sends them one
#: after another, each paced by its provider's limit, so a batch is a few seconds of a
#: limit of 10/s and never holds more than one claim chunk of rows (`chunk_sending.chunk_size`)
BATCH_SIZE = 50
#: ids per SQL statement (PostgreSQL allows 65,535 bind parameters, SQLite 32,766)
SQL_CHUNK = 5_000


def enqueue(
    engine: Engine,
    broker: RedisBroker,
    notification_ids: Iterable[int],
    *,
    now: datetime,
    from_statuses: Sequence[str] = ("pending",),
    detail: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> list[int]:
    """Mark the notifications queued and put them on the broker, `batch_size` ids a message.

    Ids already queued are sent again (their message may have been lost with a flushed
    Redis); the actor's compare-and-set makes a duplicate harmless. Returns the ids sent.
    """
    ids = list(dict.fromkeys(notification_ids))
    to_send: list[int] = []
    for start in range(0, len(ids), SQL_CHUNK):
        chunk = ids[start : start + SQL_CHUNK]
        # Committed before any message leaves, so that no worker finds the row pending.
        with transaction(engine) as session:
            mark_queued(session, chunk, now=now, from_statuses=from_statuses, detail=detail)
            queued = set(
                session.scalars(
                    select(Notification.id).where(
                        Notification.id.in_(chunk), Notification.status == "queued"
                    )
                )
            )
        to_send.extend(i for i in chunk if i in queued)
    push_messages(
        broker,
        [
            batch_message(to_send[start : start + batch_size])
            for start in range(0, len(to_send), batch_size)
        ],
    )
    return to_send


def batch_message(notification_ids: Sequence[int]) -> Message[None]:
    """The message `send_notifications.send(notification_ids)` would build."""
    return Message(
        queue_name=NOTIFICATIONS_QUEUE,
        actor_name=SEND_NOTIFICATIONS,
        args=(list(notification_ids),),
        kwargs={},
        options={},
    )


def notification_message(notification_id: int) -> Message[None]:
    """The message `send_notification.send(notification_id)` would build."""
    return Message(
        queue_name=NOTIFICATIONS_QUEUE,
        actor_name=SEND_NOTIFICATION,
        args=(notification_id,),
        kwargs={},
        options={},
    )


def message_notification_ids(actor_name: str, args: Sequence[Any]) -> list[int]:
    """The notification ids a message of either actor carries, in order, once each: the
    reverse of `notification_message` and `batch_message`. Empty for another actor's
    message; what is not an id (a message dead-lettered for its bad arguments) is left out."""
    if not args:
        return []
    if actor_name == SEND_NOTIFICATION:
        carried = [args[0]]
    elif actor_name == SEND_NOTIFICATIONS and isinstance(args[0], list):
        carried = args[0]
    else:
        return []
    return list(dict.fromkeys(i for i in map(_as_id, carried) if i is not None))


def _as_id(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def push_messages(
    broker: RedisBroker, messages: Sequence[Message[None]], *, chunk: int = DEFAULT_CHUNK
) -> None:
    """Enqueue `messages` (without delay) in pipelined round trips of `chunk` messages."""
    dispatch = broker.scripts["dispatch"]
    for queue_name in {m.queue_name for m in messages}:
        broker.declare_queue(queue_name)
    for start in range(0, len(messages), chunk):
        batch = [
            # As RedisBroker.enqueue does: a fresh redis id per enqueued copy.
            m.copy(options={"redis_message_id": str(uuid4())})
            for m in messages[start : start + chunk]
        ]
        pipe = broker.client.pipeline(transaction=False)
        for message in batch:
            broker.emit_before("enqueue", message, None)
            dispatch(
                keys=[broker.namespace],
                args=[
                    "enqueue",
                    current_millis(),
                    message.queue_name,
                    broker.broker_id,
                    broker.heartbeat_timeout,
                    broker.dead_message_ttl,
                    0,  # no maintenance from a producer's batch
                    broker._max_unpack_size(),  # type: ignore[no-untyped-call]
                    message.options["redis_message_id"],
                    message.encode(),
                ],
                client=pipe,
            )
        pipe.execute()
        for message in batch:
            broker.emit_after("enqueue", message, None)
