"""The batch path's SQL: reading, claiming and recording many notifications per statement.

The same compare-and-set as `outbox.transition` (a row moves only from the statuses named,
and every move leaves an event), but in SQLAlchemy Core on a plain connection and for many
ids at once: one `UPDATE … WHERE id IN (…) AND status IN (…) RETURNING id` and one
multi-row event insert, instead of two ORM statements per notification. The ORM's
session and identity map were a third of a worker's time per message (issue 18). On
PostgreSQL the claim, the record and their events are one statement each, on arrays
(`claims_postgres`); the statements here are the SQLite path.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    bindparam,
    case,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from services.notifier import claims_postgres
from shared.models import DeliveryAttempt, Notification, NotificationEvent, OptOut

_N = cast(Table, Notification.__table__)
_EVENTS = cast(Table, NotificationEvent.__table__)
_ATTEMPTS = cast(Table, DeliveryAttempt.__table__)
_OPT_OUTS = cast(Table, OptOut.__table__)


@dataclass(frozen=True)
class Row:
    """What the batch path reads of a notification."""

    id: int
    kind: str
    channel: str
    recipient_type: str
    recipient_id: str
    occasion: str
    address: str
    locale: str
    timezone: str
    data: Mapping[str, Any]
    status: str
    not_before: datetime | None
    attempts: int
    updated_at: datetime
    refreshed: bool = False  #: `data` is what a refresher gave at send time


_ROW_COLUMNS = (
    _N.c.id,
    _N.c.kind,
    _N.c.channel,
    _N.c.recipient_type,
    _N.c.recipient_id,
    _N.c.occasion,
    _N.c.address,
    _N.c.locale,
    _N.c.timezone,
    _N.c.data,
    _N.c.status,
    _N.c.not_before,
    _N.c.attempts,
    _N.c.updated_at,
)


def read_rows(conn: Connection, ids: Collection[int]) -> dict[int, Row]:
    """The notifications among `ids` that exist, by id (one SELECT)."""
    if not ids:
        return {}
    result = conn.execute(select(*_ROW_COLUMNS).where(_N.c.id.in_(list(ids))))
    return {int(r.id): Row(**r._mapping) for r in result}


def opted_out(conn: Connection, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (address, channel) pairs among `pairs` that opted out (one SELECT)."""
    wanted = list(set(pairs))
    if not wanted:
        return set()
    if _on_postgresql(conn):
        return claims_postgres.opted_out(conn, wanted)
    result = conn.execute(
        select(_OPT_OUTS.c.address, _OPT_OUTS.c.channel).where(
            tuple_(_OPT_OUTS.c.address, _OPT_OUTS.c.channel).in_(wanted)
        )
    )
    return {(str(a), str(c)) for a, c in result}


def move(
    conn: Connection,
    ids: Collection[int],
    *,
    from_statuses: Collection[str],
    to: str,
    now: datetime,
    detail: str | None,
    **values: Any,
) -> list[int]:
    """Move the notifications among `ids` that hold one of `from_statuses` to `to`, with
    an event each; the ids that moved (the others were taken by another run)."""
    if not ids:
        return []
    moved = [
        int(i)
        for i in conn.scalars(
            update(_N)
            .where(_N.c.id.in_(list(ids)), _N.c.status.in_(list(from_statuses)))
            .values(status=to, updated_at=now, **values)
            .returning(_N.c.id)
        )
    ]
    _events(conn, [(i, detail) for i in moved], to, now)
    return moved


def claim(conn: Connection, ids: Collection[int], *, from_statuses: Collection[str],
          now: datetime) -> dict[int, int]:  # fmt: skip
    """Claim the notifications among `ids` for sending (status `sending`, one more attempt);
    the attempt number of each one claimed, by id."""
    if not ids:
        return {}
    if _on_postgresql(conn):
        return claims_postgres.claim(conn, ids, from_statuses=from_statuses, now=now)
    claimed = {
        int(i): int(attempts)
        for i, attempts in conn.execute(
            update(_N)
            .where(_N.c.id.in_(list(ids)), _N.c.status.in_(list(from_statuses)))
            .values(status="sending", updated_at=now, attempts=_N.c.attempts + 1, not_before=None)
            .returning(_N.c.id, _N.c.attempts)
        )
    }
    if claimed:
        conn.execute(
            insert(_EVENTS),
            [
                {"notification_id": i, "status": "sending", "at": now, "detail": f"attempt {a}"}
                for i, a in claimed.items()
            ],
        )
    return claimed


def mark_sent(
    conn: Connection, sent: Mapping[int, str | None], *, provider_of: Mapping[int, str],
    now: datetime,
) -> list[int]:  # fmt: skip
    """Move the claimed notifications in `sent` (id -> the provider's message id) to sent."""
    if not sent:
        return []
    if _on_postgresql(conn):
        details = {i: f"accepted by {provider_of[i]}" for i in sent}
        return claims_postgres.mark_sent(conn, sent, details, now)
    ids = list(sent)
    message_id = case({i: sent[i] for i in ids}, value=_N.c.id, else_=None)
    moved = [
        int(i)
        for i in conn.scalars(
            update(_N)
            .where(_N.c.id.in_(ids), _N.c.status == "sending")
            .values(status="sent", updated_at=now, last_error=None, provider_message_id=message_id)
            .returning(_N.c.id)
        )
    ]
    _events(conn, [(i, f"accepted by {provider_of[i]}") for i in moved], "sent", now)
    return moved


def log_attempts(conn: Connection, attempts: Sequence[Mapping[str, Any]]) -> None:
    """Insert delivery_attempts rows (one statement for all)."""
    if attempts and _on_postgresql(conn):
        claims_postgres.log_attempts(conn, attempts)
    elif attempts:
        conn.execute(insert(_ATTEMPTS), list(attempts))


def _on_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _events(
    conn: Connection, moved: Sequence[tuple[int, str | None]], status: str, now: datetime
) -> None:
    if moved:
        conn.execute(
            insert(_EVENTS),
            [
                {"notification_id": i, "status": status, "at": now, "detail": detail}
                for i, detail in moved
            ],
        )


def add_opt_out(conn: Connection, address: str, channel: str, *, source: str,
                now: datetime) -> None:  # fmt: skip
    """As `opt_outs.record_opt_out`, on a Core connection."""
    module: Any = postgresql if _on_postgresql(conn) else sqlite
    conn.execute(
        module.insert(_OPT_OUTS)
        .values(address=address, channel=channel, opted_out_at=now, source=source)
        .on_conflict_do_nothing(index_elements=["address", "channel"])
    )


def release(conn: Connection, ids: Collection[int], *, now: datetime, detail: str) -> list[int]:
    """Give back claims taken and not used: `sending` to `queued`, the attempt not made
    taken off the count again."""
    return move(
        conn, ids, from_statuses=("sending",), to="queued", now=now, detail=detail,
        attempts=_N.c.attempts - 1,
    )  # fmt: skip


def store_data(conn: Connection, data: Mapping[int, Mapping[str, Any]],
               *, from_statuses: Collection[str]) -> None:  # fmt: skip
    """Keep the data a refresher gave (what is rendered is what is kept), on the rows
    still holding one of `from_statuses` (one statement, executed for many rows)."""
    if not data:
        return
    # executemany takes no expanding IN list: the statuses (our own constants) are
    # compared one by one instead.
    holds = or_(*(_N.c.status == literal(s) for s in from_statuses))
    conn.execute(
        update(_N).where(_N.c.id == bindparam("b_id"), holds).values(data=bindparam("b_data")),
        [{"b_id": i, "b_data": dict(d)} for i, d in data.items()],
    )
