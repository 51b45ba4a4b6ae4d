"""What the API gives ops besides the queues: the dead letters of `/api/v1/dead-letters`
(the broker's and the outbox's, one by one) and their requeue, and the delivery log.
Addresses are always masked here. The dashboard's dead notifications, grouped by reason,
are `services.notifier.dead_by_reason`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dramatiq import Message
from sqlalchemy import ColumnElement, Connection, Engine, select
from sqlalchemy.orm import Session

from services.notifier import SEND_NOTIFICATION, enqueue, list_deliveries, requeue_dead
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


@dataclass(frozen=True)
class DeadItem:
    """A dead letter as ops see it: the broker's (`source` broker) or the outbox's."""

    source: str  #: broker | outbox
    ref: str  #: broker: "<queue>/<redis id>"; outbox: the notification id
    notification_id: int | None
    recipient: str  #: masked
    kind: str
    reason: str
    died_at: str


def dead_items(ctx: WebContext, *, limit: int = 50) -> list[DeadItem]:
    """The broker's dead letters, then the newest dead notifications not among them."""
    letters = [
        d
        for q in queue_names(ctx.redis, ctx.namespace)
        for d in dead_letters(ctx.redis, ctx.namespace, q)
    ]
    with ctx.engine.connect() as conn:
        items = _broker_items(conn, letters)
        shown = {i.notification_id for i in items}
        items += [i for i in _dead_notifications(conn, limit) if i.notification_id not in shown]
    return items[:limit]


def _notification_id(letter: DeadLetter) -> int | None:
    return int(letter.args[0]) if letter.actor == SEND_NOTIFICATION and letter.args else None


def _broker_items(conn: Connection, letters: list[DeadLetter]) -> list[DeadItem]:
    ids = [i for i in map(_notification_id, letters) if i is not None]
    rows = {
        r.id: r
        for r in conn.execute(
            select(
                Notification.id,
                Notification.kind,
                Notification.channel,
                Notification.address,
                Notification.last_error,
            ).where(Notification.id.in_(ids))
        )
    }
    items = []
    for d in letters:
        nid = _notification_id(d)
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
    if message.get("actor_name") == SEND_NOTIFICATION and args:
        # Through the outbox, so that the row is queued again and a worker may claim it.
        # A row already sent is not sent again; the letter is dealt with either way.
        enqueue(
            ctx.engine,
            ctx.broker,
            [int(args[0])],
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
