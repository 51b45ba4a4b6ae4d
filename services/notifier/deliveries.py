"""The delivery log as a person reads it: filtered, newest first, addresses masked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.masking import mask_address, mask_text
from shared.models import Notification

COLUMNS = (
    "id", "created_at", "kind", "channel", "recipient", "status", "attempts",
    "not_before", "provider_message_id", "last_error",
)  # fmt: skip


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    created_at: datetime
    kind: str
    channel: str
    recipient: str  #: masked address
    status: str
    attempts: int
    not_before: datetime | None
    provider_message_id: str | None
    last_error: str | None  #: masked

    def as_strings(self) -> list[str]:
        return [
            str(self.id), self.created_at.isoformat(timespec="seconds"), self.kind,
            self.channel, self.recipient, self.status, str(self.attempts),
            self.not_before.isoformat(timespec="seconds") if self.not_before else "",
            self.provider_message_id or "", self.last_error or "",
        ]  # fmt: skip


def list_deliveries(
    session: Session,
    *,
    statuses: Sequence[str] = (),
    channel: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[DeliveryRow]:
    """Notifications matching every filter given, newest first; `until` is exclusive."""
    query = select(Notification).order_by(Notification.created_at.desc(), Notification.id.desc())
    if statuses:
        query = query.where(Notification.status.in_(statuses))
    if channel:
        query = query.where(Notification.channel == channel)
    if kind:
        query = query.where(Notification.kind == kind)
    if since:
        query = query.where(Notification.created_at >= since)
    if until:
        query = query.where(Notification.created_at < until)
    if limit:
        query = query.limit(limit)
    return [
        DeliveryRow(
            id=n.id,
            created_at=n.created_at,
            kind=n.kind,
            channel=n.channel,
            recipient=mask_address(n.address, n.channel),
            status=n.status,
            attempts=n.attempts,
            not_before=n.not_before,
            provider_message_id=n.provider_message_id,
            last_error=mask_text(n.last_error) if n.last_error else None,
        )
        for n in session.scalars(query)
    ]


def dead_ids(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(Notification.id).where(Notification.status == "dead").order_by(Notification.id)
        )
    )
