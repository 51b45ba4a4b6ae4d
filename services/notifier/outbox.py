"""The outbox: notifications as rows, and every change of their status as a compare-and-set.

A worker may run the same message twice (a redelivery after SIGKILL, a notification
enqueued twice); each transition is an `UPDATE … WHERE status IN (…)` that only one run
can win, so the second run finds nothing to do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.models import DeliveryAttempt, Notification, NotificationEvent
from shared.models.notifications import CHANNELS, RECIPIENT_TYPES

#: statuses from which a worker may take a notification and try to send it
CLAIMABLE_STATUSES = ("queued", "deferred")
#: how a provider's status callback maps onto ours; other provider statuses change nothing
CALLBACK_STATUSES = {"delivered": "delivered", "undelivered": "undelivered", "failed": "failed"}
#: statuses a status callback may move on from (sending: the callback beat our commit)
CALLBACK_FROM_STATUSES = ("sending", "sent")
#: statuses whose row waits for a broker message (a lost message leaves it waiting forever)
WAITING_STATUSES = ("queued", "deferred")
#: the dead letter's reason when a claim outlived any run that could still finish it
LOST_WHILE_SENDING = "a worker was lost while sending; whether the provider took it is unknown"


class CreatedNotification(NamedTuple):
    id: int
    created: bool  #: False when a notification with the same idempotency key existed


@dataclass(frozen=True)
class AttemptRecord:
    """What one call to a provider came to."""

    attempt: int
    provider: str
    started_at: datetime
    latency_ms: int
    outcome: str  #: sent | transient | permanent
    provider_message_id: str | None = None
    error_code: str | None = None
    error_text: str | None = None


def idempotency_key(
    kind: str, recipient_type: str, recipient_id: str, occasion: str, channel: str
) -> str:
    """The key that makes (kind, recipient, occasion, channel) one notification at most."""
    raw = "\x1f".join((kind, recipient_type, recipient_id, occasion, channel))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewNotification:
    """What a notification is made of before it has a row."""

    kind: str
    channel: str
    recipient_type: str
    recipient_id: str
    address: str
    locale: str
    timezone: str
    data: Mapping[str, Any]
    occasion: str


#: rows per INSERT: 1,000 × 14 columns stays under SQLite's 32,766 bound parameters
CREATE_CHUNK = 1_000


def create_notification(
    session: Session,
    *,
    kind: str,
    channel: str,
    recipient_type: str,
    recipient_id: str,
    address: str,
    locale: str,
    timezone: str,
    data: Mapping[str, Any],
    occasion: str,
    now: datetime,
) -> CreatedNotification:
    """Add a pending notification unless the same one exists; say which id holds it."""
    new = NewNotification(
        kind, channel, recipient_type, recipient_id, address, locale, timezone, data, occasion
    )
    [made] = create_notifications(session, [new], now=now)
    return made


def create_notifications(
    session: Session, notifications: Iterable[NewNotification], *, now: datetime
) -> list[CreatedNotification]:
    """Add pending notifications, skipping those whose idempotency key exists (in the
    database or earlier in `notifications`); say, in order, which id holds each.

    A planning run creates hundreds of thousands: one multi-row `INSERT … ON CONFLICT DO
    NOTHING RETURNING` per chunk instead of two round trips per notification.
    """
    made: list[CreatedNotification] = []
    chunk: list[NewNotification] = []
    for n in notifications:
        chunk.append(n)
        if len(chunk) == CREATE_CHUNK:
            made.extend(_create_chunk(session, chunk, now))
            chunk = []
    if chunk:
        made.extend(_create_chunk(session, chunk, now))
    return made


def _create_chunk(
    session: Session, chunk: list[NewNotification], now: datetime
) -> list[CreatedNotification]:
    keys = []
    rows: dict[str, dict[str, Any]] = {}
    for n in chunk:
        if n.channel not in CHANNELS:
            raise ValueError(f"unknown channel {n.channel!r}")
        if n.recipient_type not in RECIPIENT_TYPES:
            raise ValueError(f"unknown recipient type {n.recipient_type!r}")
        key = idempotency_key(n.kind, n.recipient_type, n.recipient_id, n.occasion, n.channel)
        keys.append(key)
        # A key repeated in the chunk is the same notification: the first one stands.
        rows.setdefault(key, _new_row(n, key, now))
    created = _insert_new(session, list(rows.values()))
    if created:
        session.execute(
            insert(NotificationEvent),
            [{"notification_id": i, "status": "pending", "at": now} for i in created.values()],
        )
    ids = dict(created)
    existing = [k for k in rows if k not in created]
    if existing:
        found = session.execute(
            select(Notification.idempotency_key, Notification.id).where(
                Notification.idempotency_key.in_(existing)
            )
        )
        ids.update({key: int(i) for key, i in found})
    made = []
    first: set[str] = set()
    for key in keys:
        is_new = key in created and key not in first
        first.add(key)
        made.append(CreatedNotification(ids[key], is_new))
    return made


def _new_row(n: NewNotification, key: str, now: datetime) -> dict[str, Any]:
    """The outbox row of a new notification, pending, keyed by `key`."""
    return {
        "kind": n.kind,
        "channel": n.channel,
        "recipient_type": n.recipient_type,
        "recipient_id": n.recipient_id,
        "address": n.address,
        "locale": n.locale,
        "timezone": n.timezone,
        "data": dict(n.data),
        "occasion": n.occasion,
        "idempotency_key": key,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert the rows whose idempotency key is new; their ids by key."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(Notification).values(rows)
    elif dialect == "sqlite":
        stmt = sqlite.insert(Notification).values(rows)
    else:  # pragma: no cover - liaison runs on these two only
        raise NotImplementedError(dialect)
    stmt = stmt.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(
        Notification.id, Notification.idempotency_key
    )
    return {key: int(i) for i, key in session.execute(stmt)}


def transition(
    session: Session,
    notification_id: int,
    *,
    from_statuses: Collection[str],
    to: str,
    now: datetime,
    detail: str | None = None,
    **values: Any,
) -> bool:
    """Move one notification to `to` if it holds one of `from_statuses`; True if it moved.

    `values` sets other columns in the same statement (last_error, not_before…).
    """
    result = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status.in_(from_statuses))
        .values(status=to, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.execute(
        insert(NotificationEvent).values(
            notification_id=notification_id, status=to, at=now, detail=detail
        )
    )
    return True


def mark_queued(
    session: Session,
    notification_ids: Iterable[int],
    *,
    now: datetime,
    from_statuses: Collection[str] = ("pending",),
    detail: str | None = None,
) -> list[int]:
    """Move the given notifications to queued; the ids that moved, in the order given."""
    ids = list(dict.fromkeys(notification_ids))
    if not ids:
        return []
    moved = list(
        session.scalars(
            update(Notification)
            .where(Notification.id.in_(ids), Notification.status.in_(from_statuses))
            .values(status="queued", updated_at=now, not_before=None)
            .returning(Notification.id)
            .execution_options(synchronize_session=False)
        )
    )
    if moved:
        session.execute(
            insert(NotificationEvent),
            [
                {"notification_id": i, "status": "queued", "at": now, "detail": detail}
                for i in moved
            ],
        )
    moved_set = set(moved)
    return [i for i in ids if i in moved_set]


def waiting_since(
    session: Session, cutoff: datetime, *, limit: int = 10_000
) -> dict[int, datetime]:
    """Queued or deferred notifications untouched since `cutoff` and due since then too,
    with when each was last touched: their message should have run long ago (the
    sweeper checks whether it still waits)."""
    rows = session.execute(
        select(Notification.id, Notification.updated_at)
        .where(
            Notification.status.in_(WAITING_STATUSES),
            Notification.updated_at < cutoff,
            or_(Notification.not_before.is_(None), Notification.not_before < cutoff),
        )
        .order_by(Notification.id)
        .limit(limit)
    )
    return {int(i): at for i, at in rows}


def dead_letter_stale_sending(
    session: Session, cutoff: datetime, *, now: datetime, limit: int = 10_000
) -> list[int]:
    """Move notifications claimed for sending before `cutoff` to dead, with the reason that
    the run which claimed them was lost; the ids moved.

    Whether the provider took the message is unknown, so it is not sent again here: a
    person decides (`liaison deliveries retry --dead`), which bounds duplicates.
    """
    ids = list(
        session.scalars(
            select(Notification.id)
            .where(Notification.status == "sending", Notification.updated_at < cutoff)
            .order_by(Notification.id)
            .limit(limit)
        )
    )
    return [
        i
        for i in ids
        if transition(
            session,
            i,
            from_statuses=("sending",),
            to="dead",
            now=now,
            detail=LOST_WHILE_SENDING,
            last_error=LOST_WHILE_SENDING,
        )
    ]


def record_attempt(session: Session, notification_id: int, record: AttemptRecord) -> None:
    """Log one provider call, whatever its outcome."""
    session.execute(
        insert(DeliveryAttempt).values(
            notification_id=notification_id,
            attempt=record.attempt,
            provider=record.provider,
            provider_message_id=record.provider_message_id,
            started_at=record.started_at,
            latency_ms=record.latency_ms,
            outcome=record.outcome,
            error_code=record.error_code,
            error_text=record.error_text,
        )
    )


def apply_status_callback(
    session: Session,
    provider_message_id: str,
    status: str,
    error_code: str | int | None = None,
    *,
    now: datetime,
) -> bool:
    """Record a provider's delivery report (Twilio's MessageStatus); True if it changed a row.

    Idempotent: a report repeated, or arriving after a final one, changes nothing.
    Provider statuses short of final (queued, sending, sent) are ignored.
    """
    ours = CALLBACK_STATUSES.get(status)
    if ours is None:
        return False
    notification_id = session.execute(
        select(Notification.id).where(Notification.provider_message_id == provider_message_id)
    ).scalar_one_or_none()
    if notification_id is None:
        return False
    code = None if error_code in (None, "") else str(error_code)
    detail = f"provider status {status}" + (f", error {code}" if code else "")
    extra: dict[str, Any] = {"last_error": f"provider error {code}"} if code else {}
    return transition(
        session,
        notification_id,
        from_statuses=CALLBACK_FROM_STATUSES,
        to=ours,
        now=now,
        detail=detail,
        **extra,
    )
