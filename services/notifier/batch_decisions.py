"""A batch's decisions before anything is sent: opt-outs, quiet hours, refreshers and
rendering, as `delivery._prepare` takes them one by one and in its order.

The rows that do not go out (suppressed, deferred, cancelled, unrenderable) move in one
transaction; the rest come back rendered and routed, ready to be claimed and sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from services.notifier import claims
from services.notifier.claims import Row
from services.notifier.delivery import Outcome
from services.notifier.outbox import CLAIMABLE_STATUSES
from services.notifier.rate_limit import Limiter
from services.notifier.refreshers import refresh_many, refresher_for
from services.notifier.runtime import Runtime
from services.notifier.senders.base import OutgoingMessage, Sender
from services.notifier.senders.routing import route
from shared.errors import LiaisonError
from shared.masking import mask_text
from shared.models import Notification

#: told each notification's outcome as soon as it is final for this run
OnDone = Callable[[int, Outcome], None]


@dataclass(frozen=True)
class Sendable:
    """A row decided to go out now: its rendered message, its sender and its limiter."""

    row: Row
    message: OutgoingMessage
    sender: Sender
    limiter: Limiter


@dataclass
class _Moves:
    """The rows that do not go out, gathered to be moved in one transaction."""

    suppressed: list[int] = dataclasses.field(default_factory=list)
    deferred: dict[datetime, list[int]] = dataclasses.field(default_factory=dict)
    failed: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    cancelled: list[int] = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.suppressed or self.deferred or self.failed or self.cancelled)


def decide(
    runtime: Runtime,
    engine: Any,
    rows: Sequence[Row],
    stopped: set[tuple[str, str]],
    on_done: OnDone,
) -> list[Sendable]:
    """Opt-outs, quiet hours, refreshers and rendering, as `delivery._prepare` decides them
    and in its order; the rows
    that do not go out move in one transaction; the rest, rendered, are returned."""
    now = runtime.clock.now()
    moves = _Moves()
    outcomes: dict[int, Outcome] = {}
    leaving = _sort_out(runtime, now, rows, stopped, moves, outcomes)
    sendable = _render_all(runtime, engine, leaving, moves)
    if moves:
        with engine.begin() as conn:
            _move_all(
                conn, now, moves.suppressed, moves.deferred, moves.failed, moves.cancelled,
                outcomes,
            )  # fmt: skip
    for i, outcome in outcomes.items():
        on_done(i, outcome)
    return sendable


def _sort_out(
    runtime: Runtime,
    now: datetime,
    rows: Sequence[Row],
    stopped: set[tuple[str, str]],
    moves: _Moves,
    outcomes: dict[int, Outcome],
) -> list[Row]:
    """Opt-outs and quiet hours: the rows that may leave now, in their order."""
    leaving: list[Row] = []
    for row in rows:
        if (row.address, row.channel) in stopped:
            moves.suppressed.append(row.id)
            continue
        release = runtime.release_time(
            now, row.timezone, quiet_start=runtime.quiet_start, quiet_end=runtime.quiet_end
        )
        if release > now:
            if row.status == "deferred" and row.not_before == release:
                outcomes[row.id] = Outcome("deferred", defer_until=release)
            else:
                moves.deferred.setdefault(release, []).append(row.id)
            continue
        leaving.append(row)
    return leaving


def _render_all(
    runtime: Runtime, engine: Any, leaving: Sequence[Row], moves: _Moves
) -> list[Sendable]:
    """Refresh and render the rows leaving now; those with nothing left to send or that
    cannot be rendered go to `moves`."""
    fresh = _refresh(engine, [r for r in leaving if refresher_for(r.kind) is not None])
    sendable: list[Sendable] = []
    for row in leaving:
        if row.id in fresh:
            data = fresh[row.id]
            if data is None:
                moves.cancelled.append(row.id)
                continue
            row = dataclasses.replace(row, data=data, refreshed=True)
        try:
            rendered = runtime.render(
                row.kind,
                row.channel,
                row.locale,
                row.data,
                overrides_dir=runtime.overrides_dir,
                sms_segment_budget=runtime.sms_segment_budget,
            )
        except LiaisonError as exc:
            moves.failed.append((row.id, mask_text(str(exc))))
            continue
        message = OutgoingMessage(
            notification_id=row.id,
            channel=row.channel,
            to=row.address,
            text=rendered.text,
            subject=rendered.subject,
            html=rendered.html,
            kind=row.kind,
            data=row.data,
        )
        sender, limiter = route(runtime.senders, runtime.limiters, message)
        sendable.append(Sendable(row, message, sender, limiter))
    return sendable


def _move_all(
    conn: Connection,
    now: datetime,
    suppressed: list[int],
    deferred: dict[datetime, list[int]],
    failed: list[tuple[int, str]],
    cancelled: list[int],
    outcomes: dict[int, Outcome],
) -> None:
    def settle(ids: Iterable[int], moved: list[int], done: Outcome) -> None:
        for i in ids:
            outcomes[i] = done if i in moved else Outcome("skipped", detail="taken by another run")

    detail = "the address opted out"
    moved = claims.move(
        conn, suppressed, from_statuses=CLAIMABLE_STATUSES, to="suppressed", now=now,
        detail=detail,
    )  # fmt: skip
    settle(suppressed, moved, Outcome("suppressed", detail=detail))
    for release, ids in deferred.items():
        moved = claims.move(
            conn, ids, from_statuses=CLAIMABLE_STATUSES, to="deferred", now=now,
            detail=f"quiet hours until {release.isoformat()}", not_before=release,
        )  # fmt: skip
        settle(ids, moved, Outcome("deferred", defer_until=release))
    detail = "nothing left to send"
    moved = claims.move(
        conn, cancelled, from_statuses=CLAIMABLE_STATUSES, to="cancelled", now=now,
        detail=detail,
    )  # fmt: skip
    settle(cancelled, moved, Outcome("cancelled", detail=detail))
    detail = "the template could not be rendered"
    for i, error in failed:
        moved = claims.move(
            conn, [i], from_statuses=CLAIMABLE_STATUSES, to="failed", now=now, detail=detail,
            last_error=error,
        )  # fmt: skip
        settle([i], moved, Outcome("failed", detail=detail))


def _refresh(engine: Any, rows: Sequence[Row]) -> dict[int, dict[str, Any] | None]:
    """Fresh data for rows whose kind has a refresher, read in one session (a kind's
    batch refresher reads once for the lot: a digest computes what is due once for ten
    liaisons)."""
    if not rows:
        return {}
    # Transient ORM objects: what a refresher reads (kind, recipient, occasion, data…).
    notifications = [
        Notification(**{k: v for k, v in dataclasses.asdict(r).items() if k != "refreshed"})
        for r in rows
    ]
    with Session(engine) as session:
        return refresh_many(session, notifications)
