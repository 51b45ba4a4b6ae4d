"""Delivering a batch of notifications: the use case behind the `send_notifications` actor.

The same decisions as `delivery.deliver` (opt-outs, quiet hours, rendering, the claim,
the provider's answer) taken for many notifications with a few statements each:

- one SELECT reads every row of the batch and one the opt-outs among their addresses;
- kinds with a refresher are refreshed in one session, a kind's batch refresher once for
  all of its rows (a digest: one due computation for ten liaisons);
- the suppressed, the deferred, the cancelled and the unrenderable move in one
  transaction;
- the rest are claimed in small chunks just before they are sent (one UPDATE … RETURNING
  per chunk), so that no row is held in `sending` longer than one chunk's sends take,
  and a chunk held past `CLAIM_HOLD_S` (the rate limit slower than expected) gives its
  unsent rows back instead of keeping them;
- what each provider answered is written in one transaction per chunk.

Every outcome is per notification: one refused message never sends the others again.
Rows not simply waiting (another run holds them, pending, a stale claim) go through
`delivery.deliver`, the single path, unchanged. Errors are not caught here: an outage
reaches the actor, which knows from `on_done` which notifications are finished.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from services.notifier import claims
from services.notifier.claim_marks import ClaimMarks
from services.notifier.claims import Row
from services.notifier.delivery import (
    LIVE_SEND_S,
    RECORD_PATIENCE,
    Outcome,
    after_failure,
    call_provider,
)
from services.notifier.hot_engine import lean_engine
from services.notifier.outages import REDIS_OUTAGE_ERRORS, OutageTolerantLimiter, through_outage
from services.notifier.outbox import CLAIMABLE_STATUSES
from services.notifier.rate_limit import Limiter
from services.notifier.refreshers import refresh_many, refresher_for
from services.notifier.runtime import Runtime
from services.notifier.senders.base import OutgoingMessage, Sender, SendResult
from services.notifier.senders.routing import route
from shared.errors import (
    DeliveryError,
    LiaisonError,
    PermanentDeliveryError,
)
from shared.masking import mask_text
from shared.models import Notification
from shared.models.notifications import TERMINAL_STATUSES

log = logging.getLogger(__name__)

#: the most notifications claimed at once (with no rate limit, or one of 25/s and more):
#: fewer statements per message against more rows held while a chunk sends; a killed
#: worker's unsent claims are recovered through their claim marks
CLAIM_CHUNK = 25
#: a chunk still sending after this long gives its unsent rows back: well inside
#: LIVE_SEND_S, within which a claim is taken to belong to a run still at work
CLAIM_HOLD_S = LIVE_SEND_S - 10
#: the outcome of a row claimed and given back unsent; the actor sends it on again
RELEASED = "claim given back unsent: the batch was paced longer than a claim may be held"

#: the event of a claim a lost run left unsent (its mark says so), given back to be sent
RECOVERED = "a lost run's claim, never sent (its claim mark says so): given back"
#: a batch starts no new chunk after this long: well inside the broker's time limit
#: (`broker.DEFAULT_TIME_LIMIT_MS`, 300 s), which would interrupt a send anywhere
BATCH_BUDGET_S = 120.0
#: the outcome of a row left unclaimed when the budget ran out; the actor sends it on
HANDED_ON = "handed on unsent to a new batch: this one ran out of time"

#: told each notification's outcome as soon as it is final for this run
OnDone = Callable[[int, Outcome], None]


@dataclass(frozen=True)
class _Sendable:
    row: Row
    message: OutgoingMessage
    sender: Sender
    limiter: Limiter


@dataclass(frozen=True)
class _Answer:
    """What the provider said about one claimed notification."""

    item: _Sendable
    attempt: int
    started_at: datetime
    latency_ms: int
    result: SendResult | None
    error: DeliveryError | None


def deliver_batch(
    runtime: Runtime, ids: Sequence[int], *, on_done: OnDone, fallback: Callable[[int], Outcome]
) -> None:
    """Deliver the notifications `ids` (first attempts: a transient failure is retried by
    the actor as a single message), telling `on_done` each one's outcome."""
    engine = lean_engine(runtime.engine)
    unique = list(dict.fromkeys(ids))
    with engine.connect() as conn:
        rows = claims.read_rows(conn, unique)
    rows.update(_recover_unsent(runtime, engine, rows.values()))
    fast = [rows[i] for i in unique if i in rows and rows[i].status in CLAIMABLE_STATUSES]
    with engine.connect() as conn:
        stopped = claims.opted_out(conn, [(r.address, r.channel) for r in fast])
    fast_ids = {r.id for r in fast}
    for i in unique:
        row = rows.get(i)
        if row is None:
            log.warning("notification %s does not exist", i)
            on_done(i, Outcome("skipped", detail="no such notification"))
        elif row.status in TERMINAL_STATUSES:
            on_done(i, Outcome("skipped", detail=f"already {row.status}"))
        elif i not in fast_ids:
            on_done(i, fallback(i))
    sendable = _decide(runtime, engine, fast, stopped, on_done)
    size = _chunk_size(s.limiter for s in sendable)
    began = time.monotonic()
    for start in range(0, len(sendable), size):
        if time.monotonic() - began > BATCH_BUDGET_S:
            # Paced slower than a message may run (dramatiq's time limit would cut it
            # anywhere): the rest, still queued and unclaimed, go on in a new message.
            for s in sendable[start:]:
                on_done(s.row.id, Outcome("queued", detail=HANDED_ON))
            return
        _send_chunk(runtime, engine, sendable[start : start + size], on_done)


def _recover_unsent(runtime: Runtime, engine: Any, rows: Iterable[Row]) -> dict[int, Row]:
    """Give back the claims a lost run left unsent (`claim_marks`); the rows given back,
    now queued again. Only claims older than LIVE_SEND_S: a live run never starts a send
    on a claim older than CLAIM_HOLD_S, so it cannot be about to send these."""
    marks = runtime.claim_marks
    if marks is None:
        return {}
    now = runtime.clock.now()
    old = [
        r
        for r in rows
        if r.status == "sending" and now - r.updated_at > timedelta(seconds=LIVE_SEND_S)
    ]
    unsent = [r for r in old if marks.never_sent(r.id, r.updated_at)]
    if not unsent:
        return {}
    with engine.begin() as conn:
        back = set(claims.release(conn, [r.id for r in unsent], now=now, detail=RECOVERED))
    log.warning("gave back %d claim(s) a lost run left unsent", len(back))
    return {
        r.id: dataclasses.replace(r, status="queued", attempts=r.attempts - 1, updated_at=now)
        for r in unsent
        if r.id in back
    }


def _decide(
    runtime: Runtime,
    engine: Any,
    rows: Sequence[Row],
    stopped: set[tuple[str, str]],
    on_done: OnDone,
) -> list[_Sendable]:
    """Opt-outs, quiet hours, refreshers and rendering, as `delivery._prepare` decides them
    and in its order; the rows
    that do not go out move in one transaction; the rest, rendered, are returned."""
    now = runtime.clock.now()
    suppressed: list[int] = []
    deferred: dict[datetime, list[int]] = {}
    failed: list[tuple[int, str]] = []
    cancelled: list[int] = []
    outcomes: dict[int, Outcome] = {}
    sendable: list[_Sendable] = []
    leaving: list[Row] = []
    for row in rows:
        if (row.address, row.channel) in stopped:
            suppressed.append(row.id)
            continue
        release = runtime.release_time(
            now, row.timezone, quiet_start=runtime.quiet_start, quiet_end=runtime.quiet_end
        )
        if release > now:
            if row.status == "deferred" and row.not_before == release:
                outcomes[row.id] = Outcome("deferred", defer_until=release)
            else:
                deferred.setdefault(release, []).append(row.id)
            continue
        leaving.append(row)
    fresh = _refresh(engine, [r for r in leaving if refresher_for(r.kind) is not None])
    for row in leaving:
        if row.id in fresh:
            data = fresh[row.id]
            if data is None:
                cancelled.append(row.id)
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
            failed.append((row.id, mask_text(str(exc))))
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
        sendable.append(_Sendable(row, message, sender, limiter))
    if suppressed or deferred or failed or cancelled:
        with engine.begin() as conn:
            _move_all(conn, now, suppressed, deferred, failed, cancelled, outcomes)
    for i, outcome in outcomes.items():
        on_done(i, outcome)
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


def _chunk_size(limiters: Iterable[Limiter]) -> int:
    """CLAIM_CHUNK, or the rate limit's messages per second when fewer: a chunk then
    takes about a second of its limit, wherever its rows wait."""
    size = CLAIM_CHUNK
    for limiter in limiters:
        inner = limiter.inner if isinstance(limiter, OutageTolerantLimiter) else limiter
        rate = getattr(inner, "rate_per_s", None)
        if isinstance(rate, (int, float)):
            size = min(size, max(1, int(rate)))
    return size


def _send_chunk(runtime: Runtime, engine: Any, chunk: Sequence[_Sendable], on_done: OnDone) -> None:
    """Claim `chunk`, send what was claimed, record every answer (even when an outage cuts
    the chunk short: what a provider took must not be forgotten)."""
    claimed_at = runtime.clock.now()
    with engine.begin() as conn:
        claims.store_data(
            conn,
            {s.row.id: s.row.data for s in chunk if s.row.refreshed},
            from_statuses=CLAIMABLE_STATUSES,
        )
        claimed = claims.claim(
            conn, [s.row.id for s in chunk], from_statuses=CLAIMABLE_STATUSES, now=claimed_at
        )
    for s in chunk:
        if s.row.id not in claimed:
            on_done(s.row.id, Outcome("skipped", detail="taken by another run"))
    mine = [s for s in chunk if s.row.id in claimed]
    answers: list[_Answer] = []
    held_since = time.monotonic()
    try:
        if runtime.claim_marks is not None:
            runtime.claim_marks.set_unsent([s.row.id for s in mine], claimed_at)
        for s in mine:
            try:
                answers.append(_send(runtime, s, claimed[s.row.id], held_since))
            except _HeldTooLong:
                break
    finally:
        # Also when an outage cut the chunk short: what a provider took is written down,
        # and the claims not yet used are given back.
        unsent = [s.row.id for s in mine[len(answers) :]]
        outcomes = _through_outage(lambda: _record(runtime, engine, answers, unsent))
        _forget_marks(runtime, unsent)
        for i, outcome in outcomes.items():
            on_done(i, outcome)


def _forget_marks(runtime: Runtime, ids: Sequence[int]) -> None:
    """Tidy the marks of claims given back. Only tidying: a mark is worth nothing once its
    claim is gone (it names the claim's instant), and it expires by itself."""
    if runtime.claim_marks is None or not ids:
        return
    try:
        runtime.claim_marks.forget(ids)
    except REDIS_OUTAGE_ERRORS as exc:
        log.warning("could not tidy %d claim mark(s) (%s); they expire", len(ids), exc)


def _send(runtime: Runtime, s: _Sendable, attempt: int, held_since: float) -> _Answer:
    limiter = _LastLook(s.limiter, runtime.claim_marks, s.row.id, held_since)
    call = call_provider(runtime, s.sender, limiter, s.message)
    return _Answer(s, attempt, call.started_at, call.latency_ms, call.result, call.error)


class _HeldTooLong(Exception):
    """The claim grew older than CLAIM_HOLD_S while its send waited for the rate limit."""


@dataclass(frozen=True)
class _LastLook:
    """The row's limiter, with a last look once its slot is held, right before the
    request leaves: a claim held past CLAIM_HOLD_S is not used (a recovering run may take
    it from LIVE_SEND_S on), and the row's claim mark is taken: from then on the request
    may have been sent."""

    inner: Limiter
    marks: ClaimMarks | None
    notification_id: int
    held_since: float

    def slot(self) -> AbstractContextManager[None]:
        return self._slot()

    @contextmanager
    def _slot(self) -> Iterator[None]:
        with self.inner.slot():
            if time.monotonic() - self.held_since > CLAIM_HOLD_S:
                raise _HeldTooLong
            if self.marks is not None:
                self.marks.take(self.notification_id)
            yield


def _record(
    runtime: Runtime, engine: Any, answers: Sequence[_Answer], unsent: Sequence[int]
) -> dict[int, Outcome]:
    """Write every answer of a chunk, and give back its unsent claims, in one transaction."""
    now = runtime.clock.now()
    outcomes: dict[int, Outcome] = {}
    with engine.begin() as conn:
        claims.log_attempts(conn, [_attempt_row(a) for a in answers])
        sent = {a.item.row.id: a.result for a in answers if a.result is not None}
        claims.mark_sent(
            conn,
            {i: r.provider_message_id for i, r in sent.items()},
            provider_of={i: r.provider for i, r in sent.items()},
            now=now,
        )
        outcomes.update({i: Outcome("sent") for i in sent})
        for a in answers:
            if a.error is not None:
                outcomes[a.item.row.id] = _record_error(runtime, conn, a, now)
        if unsent:
            claims.release(conn, unsent, now=now, detail=RELEASED)
            outcomes.update({i: Outcome("queued", detail=RELEASED) for i in unsent})
    return outcomes


def _attempt_row(a: _Answer) -> dict[str, Any]:
    error = a.error
    if error is None:
        outcome = "sent"
    else:
        outcome = "permanent" if isinstance(error, PermanentDeliveryError) else "transient"
    return {
        "notification_id": a.item.row.id,
        "attempt": a.attempt,
        "provider": a.item.sender.provider,
        "provider_message_id": None if a.result is None else a.result.provider_message_id,
        "started_at": a.started_at,
        "latency_ms": a.latency_ms,
        "outcome": outcome,
        "error_code": None if error is None else error.code,
        "error_text": None if error is None else mask_text(str(error)),
    }


def _record_error(runtime: Runtime, conn: Connection, a: _Answer, now: datetime) -> Outcome:
    """A first attempt that failed: `delivery.after_failure` decides, as for one by one."""
    assert a.error is not None
    then = after_failure(runtime, a.error, attempt=a.attempt, retries=0)
    if then.opt_out:
        row = a.item.row
        claims.add_opt_out(conn, row.address, row.channel, source="provider", now=now)
    values: dict[str, object] = {"last_error": then.last_error}
    if then.retry_in_ms is not None:
        values["not_before"] = now + timedelta(milliseconds=then.retry_in_ms)
    claims.move(
        conn, [a.item.row.id], from_statuses=("sending",), to=then.status, now=now,
        detail=then.detail, **values,
    )  # fmt: skip
    return then.outcome()


def _through_outage(record: Callable[[], dict[int, Outcome]]) -> dict[int, Outcome]:
    """Run `record`, retrying it while the database is unreachable (`RECORD_PATIENCE`):
    the providers have answered; their answers are kept in memory until written."""

    def tell(exc: Exception, pause: float) -> None:
        log.warning(
            "cannot record a batch's answers yet (%s); retrying in %.1f s",
            type(exc).__name__,
            pause,
        )

    return through_outage(record, RECORD_PATIENCE, on_retry=tell)
