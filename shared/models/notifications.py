"""The notifier's tables: the outbox, its status history, every provider attempt, opt-outs.

A notification is a row before it is a message; dramatiq carries only its id. The
address is stored in full because it is needed to send, and masked wherever it is shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime

#: every status a notification may hold, in the order of its life
NOTIFICATION_STATUSES = (
    "pending",  # created, not yet handed to the broker
    "queued",  # a message carrying its id is on the broker
    "sending",  # a worker holds it and is talking to the provider
    "sent",  # the provider accepted it
    "delivered",  # the provider reported delivery (status callback)
    "undelivered",  # the provider reported it could not be delivered
    "failed",  # a permanent error: never retried
    "suppressed",  # the address opted out
    "deferred",  # waiting for quiet hours to end (see not_before)
    "cancelled",  # nothing was left to say when its turn came
    "dead",  # transient errors outlasted every retry
)
#: statuses from which no worker moves a notification on its own
TERMINAL_STATUSES = frozenset(
    {"sent", "delivered", "undelivered", "failed", "suppressed", "cancelled", "dead"}
)
CHANNELS = ("sms", "email", "wecom")
RECIPIENT_TYPES = ("liaison", "member", "secretary", "ops")
ATTEMPT_OUTCOMES = ("sent", "transient", "permanent")


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_notifications_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    recipient_type: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    occasion: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NotificationEvent(Base):
    """One status change of a notification, timestamped."""

    __tablename__ = "notification_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(Text)


class DeliveryAttempt(Base):
    """One call to a provider, whatever came of it."""

    __tablename__ = "delivery_attempts"
    #: the alert's failure rates and the latency figures read the last window's attempts
    __table_args__ = (Index("ix_delivery_attempts_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)  #: 1 for the first call, 2 for the next…
    provider: Mapped[str] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    latency_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  #: sent | transient | permanent
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_text: Mapped[str | None] = mapped_column(Text)


class OptOut(Base):
    """An address that asked not to be messaged on a channel (TD, 退订, STOP, Twilio 21610).

    Opting back in deletes the row, so a row present means "do not send".
    """

    __tablename__ = "opt_outs"
    __table_args__ = (UniqueConstraint("address", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(16))
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(32))  #: reply | provider | operator
