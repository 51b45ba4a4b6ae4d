"""Delivering one notification: the use case behind the `send_notification` actor.

It knows nothing of dramatiq: it says what became of the notification (an Outcome) and
the actor turns "defer until" and "retry in" into broker messages. Every decision is a
compare-and-set on the row, so a second run for the same id does no harm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dramatiq.common import compute_backoff
from sqlalchemy.orm import Session

from services.notifier import outbox
from services.notifier.opt_outs import is_opted_out, record_opt_out
from services.notifier.outages import REAL_PAUSES, Patience, Pauses, through_outage
from services.notifier.outbox import (
    CLAIMABLE_STATUSES,
    LOST_WHILE_SENDING,
    AttemptRecord,
    transition,
)
from services.notifier.provider_calls import call_provider
from services.notifier.refreshers import refresher_for
from services.notifier.runtime import Rendered, Runtime
from services.notifier.senders.base import OutgoingMessage, SendResult
from services.notifier.senders.routing import route
from shared.db import transaction
from shared.errors import (
    DeliveryError,
    LiaisonError,
    OptedOutDeliveryError,
    PermanentDeliveryError,
)
from shared.masking import mask_text
from shared.models import Notification
from shared.models.notifications import TERMINAL_STATUSES

log = logging.getLogger(__name__)

#: Twilio's "the recipient replied STOP": the provider refuses, and we stop too
TWILIO_UNSUBSCRIBED = "21610"


@dataclass(frozen=True)
class Outcome:
    """What a run did. `status` is the notification's status after it, or `skipped`."""

    status: str
    defer_until: datetime | None = None  #: run again at this instant (quiet hours)
    retry_in_ms: int | None = None  #: run again after this delay (a transient error)
    detail: str | None = None


def deliver(runtime: Runtime, notification_id: int, *, retries: int = 0) -> Outcome:
    """Try to deliver one notification; `retries` is how many runs failed transiently before."""
    prepared = _prepare(runtime, notification_id)
    if isinstance(prepared, Outcome):
        return prepared
    message, attempt = prepared
    sender, limiter = route(runtime.senders, runtime.limiters, message)
    call = call_provider(runtime, sender, limiter, message)
    answer = ProviderAnswer(
        notification_id=notification_id,
        attempt=attempt,
        provider=sender.provider,
        started_at=call.started_at,
        latency_ms=call.latency_ms,
        result=call.result,
        error=call.error,
        retries=retries,
        address=message.to,
        channel=message.channel,
    )
    return record_through_outage(lambda: _record(runtime, answer), notification_id)


@dataclass(frozen=True)
class ProviderAnswer:
    """What one attempt to send got from the provider, held until it is written down."""

    notification_id: int
    attempt: int  #: the notification's attempt number (1 for the first)
    provider: str
    started_at: datetime
    latency_ms: int
    result: SendResult | None  #: the provider took the message
    error: DeliveryError | None  #: or it did not, and why
    retries: int  #: how many runs failed transiently before this one
    address: str
    channel: str

    def attempt_record(self, outcome: str) -> AttemptRecord:
        """The attempt's row in the delivery log, `outcome` sent, permanent or transient."""
        error = self.error
        return AttemptRecord(
            self.attempt,
            self.provider,
            self.started_at,
            self.latency_ms,
            outcome,
            provider_message_id=None if self.result is None else self.result.provider_message_id,
            error_code=None if error is None else error.code,
            error_text=None if error is None else mask_text(str(error)),
        )


#: how long a run keeps trying to write what the provider answered while the database is
#: away: less than LIVE_SEND_S, so that no other run takes the claim meanwhile
RECORD_PATIENCE = Patience(wait_s=25.0, first_pause_s=0.2, max_pause_s=5.0)


def record_through_outage(
    record: Callable[[], Outcome], notification_id: int, *, pauses: Pauses = REAL_PAUSES
) -> Outcome:
    """Run `record`, retrying it while the database is unreachable.

    The provider has answered by now. Giving up on the write would leave the row in
    'sending', to be dead-lettered as "whether the provider took it is unknown" although
    we know: keep the answer in memory and write it as soon as the database is back.
    """

    def tell(exc: Exception, pause: float) -> None:
        log.warning(
            "cannot record the provider's answer for notification %s yet (%s); retrying in %.1f s",
            notification_id,
            type(exc).__name__,
            pause,
        )

    return through_outage(record, RECORD_PATIENCE, on_retry=tell, pauses=pauses)


def _prepare(runtime: Runtime, notification_id: int) -> tuple[OutgoingMessage, int] | Outcome:
    """Decide, in one transaction, whether and what to send; claim the row when sending."""
    now = runtime.clock.now()
    with transaction(runtime.engine) as session:
        n = session.get(Notification, notification_id)
        if n is None:
            log.warning("notification %s does not exist", notification_id)
            return Outcome("skipped", detail="no such notification")
        if n.status in TERMINAL_STATUSES:
            return Outcome("skipped", detail=f"already {n.status}")
        if n.status == "sending":
            return _sending_elsewhere(runtime, session, n, now)
        if n.status not in CLAIMABLE_STATUSES:
            return Outcome("skipped", detail=f"{n.status} is not queued")
        return _decide(runtime, session, n, now)


def _decide(
    runtime: Runtime, session: Session, n: Notification, now: datetime
) -> tuple[OutgoingMessage, int] | Outcome:
    """A claimable row: suppressed, deferred, cancelled, failed to render, or claimed."""

    def move(to: str, detail: str, **values: object) -> Outcome:
        if transition(
            session,
            n.id,
            from_statuses=CLAIMABLE_STATUSES,
            to=to,
            now=now,
            detail=detail,
            **values,
        ):
            return Outcome(to, detail=detail)
        return Outcome("skipped", detail="taken by another run")

    if is_opted_out(session, n.address, n.channel):
        return move("suppressed", "the address opted out")
    release = runtime.release_time(
        now, n.timezone, quiet_start=runtime.quiet_start, quiet_end=runtime.quiet_end
    )
    if release > now:
        if not (n.status == "deferred" and n.not_before == release):
            moved = move("deferred", f"quiet hours until {release.isoformat()}", not_before=release)
            if moved.status == "skipped":
                return moved
        return Outcome("deferred", defer_until=release)
    data = n.data
    refresher = refresher_for(n.kind)
    if refresher is not None:
        fresh = refresher(session, n)
        if fresh is None:
            return move("cancelled", "nothing left to send")
        data = fresh
    try:
        rendered = runtime.render(
            n.kind,
            n.channel,
            n.locale,
            data,
            overrides_dir=runtime.overrides_dir,
            sms_segment_budget=runtime.sms_segment_budget,
        )
    except LiaisonError as exc:
        return move("failed", "the template could not be rendered", last_error=mask_text(str(exc)))
    return _claim(session, n, now, data, rendered)


def _claim(
    session: Session, n: Notification, now: datetime, data: Any, rendered: Rendered
) -> tuple[OutgoingMessage, int] | Outcome:
    """Take the row for this run ('sending', one more attempt) and build its message."""
    attempt = n.attempts + 1
    claimed = transition(
        session,
        n.id,
        from_statuses=CLAIMABLE_STATUSES,
        to="sending",
        now=now,
        detail=f"attempt {attempt}",
        attempts=attempt,
        data=data,
        not_before=None,
    )
    if not claimed:
        return Outcome("skipped", detail="taken by another run")
    message = OutgoingMessage(
        notification_id=n.id,
        channel=n.channel,
        to=n.address,
        text=rendered.text,
        subject=rendered.subject,
        html=rendered.html,
        kind=n.kind,
        data=data,
    )
    return message, attempt


#: seconds within which a 'sending' claim is taken to belong to a run still at work
LIVE_SEND_S = 30


def _sending_elsewhere(
    runtime: Runtime, session: Session, n: Notification, now: datetime
) -> Outcome:
    """Another run holds the row; if it has held it too long, that run died mid-send."""
    age = now - n.updated_at
    stale = timedelta(seconds=runtime.stale_sending_s)
    if age < stale:
        if age < timedelta(seconds=LIVE_SEND_S):
            # A duplicate message while a live run sends: that run will finish the row.
            return Outcome("skipped", detail="another run is sending it")
        # dramatiq redelivers a lost worker's message only after its heartbeat has been
        # silent for a minute, so a claim this old most likely belongs to a dead run.
        # Acknowledging this message would leave the row in 'sending' with nothing left to
        # finish it (the worker-kill drill lost four that way): look again once the claim
        # is stale instead.
        return Outcome(
            "skipped",
            defer_until=n.updated_at + stale,
            detail="another run claimed it long ago; looking again when the claim is stale",
        )
    # Whether the provider took the message before the worker died is unknown: sending
    # again risks a duplicate, so a person decides (`liaison deliveries retry --dead`).
    if transition(
        session,
        n.id,
        from_statuses=("sending",),
        to="dead",
        now=now,
        detail=LOST_WHILE_SENDING,
        last_error=LOST_WHILE_SENDING,
    ):
        return Outcome("dead", detail=LOST_WHILE_SENDING)
    return Outcome("skipped", detail="taken by another run")


def _record(runtime: Runtime, answer: ProviderAnswer) -> Outcome:
    """Write the provider's answer: the attempt in the log, the notification's new status."""
    now = runtime.clock.now()
    with transaction(runtime.engine) as session:
        if answer.result is not None:
            outbox.record_attempt(session, answer.notification_id, answer.attempt_record("sent"))
            _move(
                session,
                answer,
                now,
                "sent",
                detail=f"accepted by {answer.provider}",
                last_error=None,
                provider_message_id=answer.result.provider_message_id,
            )
            return Outcome("sent")
        return _record_failure(runtime, session, answer, now)


@dataclass(frozen=True)
class AfterFailure:
    """What a refused attempt leads to: the row's next status and what to write on it."""

    status: str  #: failed (for good), dead (retries spent) or queued (to try again)
    detail: str  #: the status change's line in the notification's log
    last_error: str
    opt_out: bool  #: the provider says the person unsubscribed: stop sending to them
    retry_in_ms: int | None = None  #: when queued

    def outcome(self) -> Outcome:
        reason = self.last_error
        return Outcome(self.status, retry_in_ms=self.retry_in_ms, detail=reason)


def after_failure(
    runtime: Runtime, error: DeliveryError, *, attempt: int, retries: int
) -> AfterFailure:
    """The one decision on a refusal, for the one-by-one and the batch delivery alike:
    a permanent error fails (and records an opt-out the provider reports), a transient
    one is retried after a backoff until `runtime.max_retries` are spent, then dead."""
    text = mask_text(str(error))
    reason = f"{error.code}: {text}" if error.code else text
    if isinstance(error, PermanentDeliveryError):
        opted_out = error.code == TWILIO_UNSUBSCRIBED or isinstance(error, OptedOutDeliveryError)
        return AfterFailure("failed", reason, reason, opt_out=opted_out)
    if retries >= runtime.max_retries:
        dead = f"gave up after {attempt} attempts; last error {reason}"
        return AfterFailure("dead", dead, dead, opt_out=False)
    delay_ms = retry_delay_ms(runtime, retries, getattr(error, "retry_after_s", None))
    detail = f"retry in {delay_ms} ms after {reason}"
    return AfterFailure("queued", detail, reason, opt_out=False, retry_in_ms=delay_ms)


def _record_failure(
    runtime: Runtime, session: Session, answer: ProviderAnswer, now: datetime
) -> Outcome:
    """A refusal: failed for good, dead after the last retry, or queued to try again."""
    error = answer.error
    assert error is not None
    permanent = isinstance(error, PermanentDeliveryError)
    outbox.record_attempt(
        session,
        answer.notification_id,
        answer.attempt_record("permanent" if permanent else "transient"),
    )
    then = after_failure(runtime, error, attempt=answer.attempt, retries=answer.retries)
    if then.opt_out:
        record_opt_out(session, answer.address, answer.channel, source="provider", now=now)
    later = None if then.retry_in_ms is None else now + timedelta(milliseconds=then.retry_in_ms)
    values: dict[str, object] = {"last_error": then.last_error}
    if later is not None:
        values["not_before"] = later
    _move(session, answer, now, then.status, detail=then.detail, **values)
    return then.outcome()


def _move(
    session: Session,
    answer: ProviderAnswer,
    now: datetime,
    to: str,
    *,
    detail: str | None,
    **values: object,
) -> None:
    """The claimed row ('sending') to its status after the attempt."""
    transition(
        session,
        answer.notification_id,
        from_statuses=("sending",),
        to=to,
        now=now,
        detail=detail,
        **values,
    )


def retry_delay_ms(runtime: Runtime, retries: int, retry_after_s: float | None) -> int:
    """dramatiq's exponential backoff with jitter, but never sooner than the provider asked."""
    _, backoff_ms = compute_backoff(
        retries, factor=runtime.min_backoff_ms, max_backoff=runtime.max_backoff_ms
    )
    if retry_after_s is not None:
        backoff_ms = max(backoff_ms, round(retry_after_s * 1000))
    return int(backoff_ms)
