"""What the API gives ops besides the queues: the dead letters of `/api/v1/dead-letters`
(the broker's and the outbox's, one by one) and their requeue, and the delivery log.
A broker letter of the notifier carries one notification id (`send_notification`) or a
batch of them (`send_notifications`): it is listed with each of them, and its requeue
queues each of them again once.
Addresses are always masked here. The dashboard's dead notifications, grouped by reason,
are `services.notifier.dead_by_reason`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dramatiq import Message
from sqlalchemy import ColumnElement, Connection, Engine, Row, select
from sqlalchemy.orm import Session

from services.notifier import enqueue, list_deliveries, message_notification_ids, requeue_dead
from services.web.context import WebContext
from services.web.queues import DeadLetter, dead_letters, queue_names, take_dead_letter
from shared.masking import mask_address, mask_text
from shared.models import Notification

#: statuses that count as reaching the person, and as not reaching them
DELIVERED = ("sent", "delivered")
NOT_DELIVERED = ("undelivered", "failed", "dead")
REQUEUE_FROM = ("pending", "dead", "failed", "undelivered")

#: the largest id a notification row can have (an INTEGER column: PostgreSQL's is 32 bits)
MAX_NOTIFICATION_ID = 2**31 - 1
#: notification ids per SQL statement when reading the rows letters carry
ID_CHUNK = 5_000


@dataclass(frozen=True)
class DeadNotification:
    """One notification a dead letter carries."""

    notification_id: int
    recipient: str  #: masked; empty when the row is gone
    kind: str  #: empty when the row is gone


@dataclass(frozen=True)
class DeadItem:
    """A dead letter as ops see it: the broker's (`source` broker) or the outbox's."""

    source: str  #: broker | outbox
    ref: str  #: broker: "<queue>/<redis id>"; outbox: the notification id
    notification_id: int | None  #: when the letter carries exactly one notification
    recipient: str  #: masked; of that one notification
    kind: str  #: of that one notification, else the actor's name
    reason: str
    died_at: str
    #: every notification the letter carries (a batch letter: up to 50), in its order
    notifications: tuple[DeadNotification, ...] = ()


def dead_items(ctx: WebContext, *, limit: int = 50) -> list[DeadItem]:
    """The broker's dead letters, then the newest dead notifications not among them."""
    letters = [
        d
        for q in queue_names(ctx.redis, ctx.namespace)
        for d in dead_letters(ctx.redis, ctx.namespace, q)
    ]
    with ctx.engine.connect() as conn:
        items = _broker_items(conn, letters)
        # A notification a broker letter carries is listed there, not a second time.
        shown = {n.notification_id for i in items for n in i.notifications}
        items += [i for i in _dead_notifications(conn, limit) if i.notification_id not in shown]
    return items[:limit]


def _broker_items(conn: Connection, letters: list[DeadLetter]) -> list[DeadItem]:
    carried = {d.redis_id: message_notification_ids(d.actor, d.args) for d in letters}
    ids = sorted({i for group in carried.values() for i in group})
    rows: dict[int, Row[int, str, str, str, str | None]] = {}
    # In chunks: a page of 50 batch letters is up to 2,500 ids (SQLite allows 32,766).
    for start in range(0, len(ids), ID_CHUNK):
        rows.update(
            (r.id, r)
            for r in conn.execute(
                select(
                    Notification.id,
                    Notification.kind,
                    Notification.channel,
                    Notification.address,
                    Notification.last_error,
                ).where(Notification.id.in_(ids[start : start + ID_CHUNK]))
            )
        )
    items = []
    for d in letters:
        notifications = tuple(
            DeadNotification(
                notification_id=i,
                recipient=mask_address(rows[i].address, rows[i].channel) if i in rows else "",
                kind=rows[i].kind if i in rows else "",
            )
            for i in carried[d.redis_id]
        )
        nid = notifications[0].notification_id if len(notifications) == 1 else None
        row = rows.get(nid) if nid is not None else None
        items.append(
            DeadItem(
                source="broker",
                ref=f"{d.queue}/{d.redis_id}",
                notification_id=nid,
                recipient=mask_address(row.address, row.channel) if row else "",
                kind=row.kind if row else d.actor,
                reason=mask_text(
                    d.reason
                    if d.reason != "no traceback kept" or row is None
                    else (row.last_error or d.reason)
                ),
                died_at=datetime.fromtimestamp(d.died_at_ms / 1000)
                .astimezone()
                .isoformat(timespec="seconds"),
                notifications=notifications,
            )
        )
    return items


def _dead_notifications(conn: Connection, limit: int) -> list[DeadItem]:
    """The newest dead notifications, through the delivery log's one query."""
    with Session(bind=conn) as session:
        rows = list_deliveries(session, statuses=["dead"], limit=limit)
    return [
        DeadItem(
            source="outbox",
            ref=str(r.id),
            notification_id=r.id,
            recipient=r.recipient,
            kind=r.kind,
            reason=r.last_error or "retries exhausted",
            died_at=(r.updated_at or r.created_at).isoformat(timespec="seconds"),
            notifications=(DeadNotification(r.id, r.recipient, r.kind),),
        )
        for r in rows
    ]


def requeue(ctx: WebContext, source: str, ref: str, *, by: str = "ops") -> bool:
    """Put a dead letter back on its queue; False when it is gone (someone requeued it).
    `by` (who asked) goes into the notification's log, as the dashboard's requeue does."""
    now = ctx.clock.now()
    if source == "outbox":
        try:
            nid = int(ref)
        except ValueError:
            return False
        if not 0 < nid <= MAX_NOTIFICATION_ID:
            return False  # no such row; a 40-digit id would overflow the database's integer
        # The one requeue of dead notifications, as the dashboard's and the command's.
        return bool(requeue_dead(ctx.engine, ctx.broker, now=now, by=by, ids=[nid]))
    if source != "broker" or "/" not in ref:
        return False
    queue, redis_id = ref.split("/", 1)
    if queue not in queue_names(ctx.redis, ctx.namespace):
        return False
    message = take_dead_letter(ctx.redis, ctx.namespace, queue, redis_id)
    if message is None:
        return False
    args = message.get("args") or []
    ids = message_notification_ids(str(message.get("actor_name")), args)
    if ids:
        # Through the outbox, so that each row is queued again (once: the letter is
        # taken above by one caller only) and a worker may claim it; a batch letter's
        # rows go out again as batches. A row already sent is not sent again; the letter
        # is dealt with either way.
        enqueue(
            ctx.engine,
            ctx.broker,
            ids,
            now=now,
            from_statuses=REQUEUE_FROM,
            detail=f"requeued by {by}",
        )
        return True
    options = {
        k: v
        for k, v in (message.get("options") or {}).items()
        if k not in ("traceback", "retries", "redis_message_id", "eta")
    }
    ctx.broker.enqueue(
        Message(
            queue_name=str(message.get("queue_name", queue)).removesuffix(".DQ"),
            actor_name=str(message.get("actor_name")),
            args=tuple(args),
            kwargs=dict(message.get("kwargs") or {}),
            options=options,
        )
    )
    return True


def delivery_log(
    engine: Engine,
    *,
    limit: int,
    scope: ColumnElement[bool] | None = None,
    statuses: Sequence[str] | None = None,
    channel: str | None = None,
) -> list[dict[str, Any]]:
    """The latest notifications with their last attempt, newest first, addresses masked:
    `list_deliveries`, the delivery log's one query, as the API's dictionaries.

    `scope`: only the notifications it admits (None: every one)."""
    with Session(engine) as session:
        rows = list_deliveries(
            session,
            statuses=statuses or (),
            channel=channel,
            limit=limit,
            scope=scope,
            with_attempts=True,
        )
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "channel": r.channel,
            "recipient_type": r.recipient_type,
            "recipient_id": r.recipient_id,
            "address": r.recipient,
            "status": r.status,
            "attempts": r.attempts,
            "last_error": r.last_error,
            "created_at": r.created_at.isoformat(),
            "updated_at": (r.updated_at or r.created_at).isoformat(),
            "provider": r.provider,
            "latency_ms": r.latency_ms,
            "error_code": r.error_code,
        }
        for r in rows
    ]
