"""Sending a batch's chunks: claim a few rows, send them within their rate limit, write
every provider's answer in one transaction per chunk.

Rows are claimed in small chunks just before they are sent (one UPDATE … RETURNING per
chunk), so that no row is held in `sending` longer than one chunk's sends take, and a
chunk held past `CLAIM_HOLD_S` (the rate limit slower than expected) gives its unsent
rows back instead of keeping them. Each claim carries a claim mark (`claim_marks`) so a
killed worker's rows can be recovered (`unsent_recovery`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from services.notifier import claims
from services.notifier.batch_decisions import OnDone, Sendable
from services.notifier.claim_marks import ClaimMarks, SentAnswer
from services.notifier.delivery import LIVE_SEND_S, RECORD_PATIENCE, Outcome, after_failure
from services.notifier.outages import REDIS_OUTAGE_ERRORS, OutageTolerantLimiter, through_outage
from services.notifier.outbox import CLAIMABLE_STATUSES
from services.notifier.provider_calls import call_provider
from services.notifier.rate_limit import Limiter
from services.notifier.runtime import Runtime
from services.notifier.senders.base import SendResult
from shared.errors import DeliveryError, PermanentDeliveryError
from shared.masking import mask_text

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


@dataclass(frozen=True)
class _Answer:
    """What the provider said about one claimed notification."""

    item: Sendable
    attempt: int
    started_at: datetime
    latency_ms: int
    result: SendResult | None
    error: DeliveryError | None


def chunk_size(limiters: Iterable[Limiter]) -> int:
    """CLAIM_CHUNK, or the rate limit's messages per second when fewer: a chunk then
    takes about a second of its limit, wherever its rows wait."""
    size = CLAIM_CHUNK
    for limiter in limiters:
        inner = limiter.inner if isinstance(limiter, OutageTolerantLimiter) else limiter
        rate = getattr(inner, "rate_per_s", None)
        if isinstance(rate, (int, float)):
            size = min(size, max(1, int(rate)))
    return size


def send_chunk(runtime: Runtime, engine: Any, chunk: Sequence[Sendable], on_done: OnDone) -> None:
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
            _keep_answer(runtime, answers[-1], claimed_at)
    finally:
        # Also when an outage cut the chunk short: what a provider took is written down,
        # and the claims not yet used are given back.
        unsent = [s.row.id for s in mine[len(answers) :]]
        outcomes = _through_outage(lambda: _record(runtime, engine, answers, unsent))
        _forget_marks(runtime, unsent, [a.item.row.id for a in answers if a.result])
        for i, outcome in outcomes.items():
            on_done(i, outcome)


def _keep_answer(runtime: Runtime, answer: _Answer, claimed_at: datetime) -> None:
    """Keep a provider's acceptance in Redis until the chunk is written (best effort: an
    answer not kept is the old case, a lost run's row dead-lettered as unknown)."""
    if runtime.claim_marks is None or answer.result is None:
        return
    kept = SentAnswer(
        answer.result.provider, answer.result.provider_message_id, answer.started_at,
        answer.latency_ms,
    )  # fmt: skip
    try:
        runtime.claim_marks.set_sent(answer.item.row.id, claimed_at, kept)
    except REDIS_OUTAGE_ERRORS as exc:
        log.warning("could not keep a provider's answer in Redis (%s)", exc)


def _forget_marks(runtime: Runtime, unsent: Sequence[int], sent: Sequence[int]) -> None:
    """Tidy the marks of claims given back and the answers now recorded. Only tidying:
    both are worth nothing once their claim is gone (they name the claim's instant), and
    they expire by themselves."""
    if runtime.claim_marks is None or not (unsent or sent):
        return
    try:
        runtime.claim_marks.forget(unsent)
        runtime.claim_marks.forget_sent(sent)
    except REDIS_OUTAGE_ERRORS as exc:
        log.warning("could not tidy claim marks (%s); they expire", exc)


def _send(runtime: Runtime, s: Sendable, attempt: int, held_since: float) -> _Answer:
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
