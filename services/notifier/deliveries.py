"""The delivery log as a person reads it, and the one source of its failure figures.

Every dead count liaison shows (the dashboard's queue table, badge and scheduler card,
`liaison status`, `/metrics`, the alerts) is `dead_count` of this module: notifications
whose status is `dead` in the database. The broker's own dead-letter queue is not a
count of dead notifications: the notifier marks a row dead itself and acknowledges its
message, so that queue stays empty while the outbox fills (issue 16 found 171 dead rows
and an alert that read the broker's empty queue).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from services.notifier.outbox import LOST_WHILE_SENDING
from shared.masking import mask_address, mask_text
from shared.models import DeliveryAttempt, Notification

DEAD = "dead"
COLUMNS = (
    "id", "created_at", "kind", "channel", "recipient", "status", "attempts",
    "not_before", "provider_message_id", "last_error",
)  # fmt: skip
#: the notifier's wording when retries ran out (delivery.py): the reason is what follows
_GAVE_UP = re.compile(r"^gave up after \d+ attempts?; last error ")
REASON_MAX = 160  #: characters of a reason kept: enough to tell reasons apart
NO_REASON = "no error recorded"


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
    updated_at: datetime | None = None
    recipient_type: str = ""
    recipient_id: str = ""
    provider: str | None = None  #: of the last attempt
    latency_ms: int | None = None  #: of the last attempt
    error_code: str | None = None  #: of the last attempt

    @property
    def reason(self) -> str:
        return reason_of(self.last_error)

    def as_strings(self) -> list[str]:
        return [
            str(self.id), self.created_at.isoformat(timespec="seconds"), self.kind,
            self.channel, self.recipient, self.status, str(self.attempts),
            self.not_before.isoformat(timespec="seconds") if self.not_before else "",
            self.provider_message_id or "", self.last_error or "",
        ]  # fmt: skip


def reason_of(last_error: str | None) -> str:
    """What a dead notification died of, without the attempt count, masked: the key by
    which dead notifications are grouped and requeued."""
    if not last_error:
        return NO_REASON
    if last_error == LOST_WHILE_SENDING:
        return LOST_WHILE_SENDING
    text = mask_text(_GAVE_UP.sub("", last_error.strip())).splitlines()
    return (text[0] if text else NO_REASON)[:REASON_MAX]


def _filters(
    statuses: Sequence[str],
    channel: str | None,
    kind: str | None,
    since: datetime | None,
    until: datetime | None,
    scope: ColumnElement[bool] | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if scope is not None:
        conditions.append(scope)
    if statuses:
        conditions.append(Notification.status.in_(statuses))
    if channel:
        conditions.append(Notification.channel == channel)
    if kind:
        conditions.append(Notification.kind == kind)
    if since:
        conditions.append(Notification.created_at >= since)
    if until:
        conditions.append(Notification.created_at < until)
    return conditions


def count_deliveries(
    session: Session,
    *,
    statuses: Sequence[str] = (),
    channel: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    scope: ColumnElement[bool] | None = None,
) -> int:
    """How many notifications `list_deliveries` would list with no limit."""
    conditions = _filters(statuses, channel, kind, since, until, scope)
    query = select(func.count()).select_from(Notification).where(*conditions)
    return int(session.scalar(query) or 0)


def list_deliveries(
    session: Session,
    *,
    statuses: Sequence[str] = (),
    channel: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    scope: ColumnElement[bool] | None = None,
    with_attempts: bool = False,
) -> list[DeliveryRow]:
    """Notifications matching every filter given, newest first; `until` is exclusive.

    The one query of the delivery log: `liaison deliveries`, the API and the dashboard
    read it. `scope` admits only some notifications (the caller's part of the ledger);
    `with_attempts` adds each row's last attempt (provider, latency, error code)."""
    query = (
        select(Notification)
        .where(*_filters(statuses, channel, kind, since, until, scope))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    if limit:
        query = query.limit(limit)
    found = list(session.scalars(query))
    last: dict[int, DeliveryAttempt] = {}
    if with_attempts and found:
        for a in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.notification_id.in_([n.id for n in found]))
            .order_by(DeliveryAttempt.attempt)
        ):
            last[a.notification_id] = a  # the last attempt wins
    rows = []
    for n in found:
        attempt = last.get(n.id)
        rows.append(
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
                updated_at=n.updated_at,
                recipient_type=n.recipient_type,
                recipient_id=n.recipient_id,
                provider=attempt.provider if attempt else None,
                latency_ms=attempt.latency_ms if attempt else None,
                error_code=attempt.error_code if attempt else None,
            )
        )
    return rows


def dead_count(session: Session, *, since: datetime | None = None) -> int:
    """Notifications dead now; with `since`, only those that died at or after it."""
    query = select(func.count()).select_from(Notification).where(Notification.status == DEAD)
    if since is not None:
        query = query.where(Notification.updated_at >= since)
    return int(session.scalar(query) or 0)


@dataclass
class DeadGroup:
    """Dead notifications that died of one reason."""

    reason: str
    count: int = 0
    channels: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    newest: datetime | None = None  #: when the latest of them died


def dead_by_reason(session: Session) -> list[DeadGroup]:
    """Dead notifications grouped by reason, the largest group first. The database groups
    by the exact error; errors that differ only in their attempt count are merged here."""
    groups: dict[str, DeadGroup] = {}
    for last_error, channel, kind, count, newest in session.execute(
        select(
            Notification.last_error,
            Notification.channel,
            Notification.kind,
            func.count(),
            func.max(Notification.updated_at),
        )
        .where(Notification.status == DEAD)
        .group_by(Notification.last_error, Notification.channel, Notification.kind)
    ):
        reason = reason_of(last_error)
        group = groups.setdefault(reason, DeadGroup(reason))
        group.count += int(count)
        group.channels[channel] = group.channels.get(channel, 0) + int(count)
        group.kinds[kind] = group.kinds.get(kind, 0) + int(count)
        if newest is not None and (group.newest is None or newest > group.newest):
            group.newest = newest
    return sorted(groups.values(), key=lambda g: (-g.count, g.reason))


def dead_ids(
    session: Session, *, reason: str | None = None, among: Sequence[int] | None = None
) -> list[int]:
    """Ids of the dead notifications, of one reason (as `reason_of` words it) if given,
    and among the ids given if any."""
    query = select(Notification.id, Notification.last_error).where(Notification.status == DEAD)
    if among is not None:
        query = query.where(Notification.id.in_(list(among)))
    rows = session.execute(query.order_by(Notification.id))
    return [i for i, error in rows if reason is None or reason_of(error) == reason]


@dataclass(frozen=True)
class ProviderFailures:
    """Attempts made through one provider of one channel since an instant."""

    channel: str
    provider: str
    attempts: int
    failures: int  #: attempts that did not reach the provider (transient or permanent)

    @property
    def rate(self) -> float:
        return self.failures / self.attempts if self.attempts else 0.0


def failures_by_provider(session: Session, *, since: datetime) -> list[ProviderFailures]:
    """Per channel and provider, the attempts since `since` and how many failed."""
    failed = func.sum(case((DeliveryAttempt.outcome != "sent", 1), else_=0))
    rows = session.execute(
        select(Notification.channel, DeliveryAttempt.provider, func.count(), failed)
        .join(Notification, Notification.id == DeliveryAttempt.notification_id)
        .where(DeliveryAttempt.started_at >= since)
        .group_by(Notification.channel, DeliveryAttempt.provider)
    )
    found = [ProviderFailures(c, p, int(n), int(f or 0)) for c, p, n, f in rows]
    return sorted(found, key=lambda f: (f.channel, f.provider))
