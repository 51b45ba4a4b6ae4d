"""Recovering a lost run's claims in a batch, through their claim marks (`claim_marks`).

A worker killed mid-batch leaves rows in `sending`. Those whose mark says they were never
sent are given back to be sent; those whose provider's acceptance was kept are recorded
as sent, with their attempt and provider id, instead of being dead-lettered as unknown
(where a person's retry would send them twice).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from services.notifier import claims
from services.notifier.claim_marks import ClaimMarks, SentAnswer
from services.notifier.claims import Row
from services.notifier.delivery import LIVE_SEND_S
from services.notifier.runtime import Runtime

log = logging.getLogger(__name__)

#: the event of a claim a lost run left unsent (its mark says so), given back to be sent
RECOVERED = "a lost run's claim, never sent (its claim mark says so): given back"

#: an old claim whose provider's acceptance was kept: its row, and what the provider said
_Answered = dict[int, tuple[Row, SentAnswer]]


def recover_unsent(runtime: Runtime, engine: Any, rows: Iterable[Row]) -> dict[int, Row]:
    """Give back the claims a lost run left unsent (`claim_marks`); the rows given back,
    now queued again. Only claims older than LIVE_SEND_S: a live run never starts a send
    on a claim older than CLAIM_HOLD_S, so it cannot be about to send these."""
    marks = runtime.claim_marks
    if marks is None:
        return {}
    now = runtime.clock.now()
    unsent, answered = _old_claims(marks, now, rows)
    if not unsent and not answered:
        return {}
    back, recorded = _write_recovery(engine, now, unsent, answered)
    log.warning(
        "a lost run's claims: gave back %d never sent, recorded %d sent", len(back), len(recorded)
    )
    fresh = {
        r.id: dataclasses.replace(r, status="queued", attempts=r.attempts - 1, updated_at=now)
        for r in unsent
        if r.id in back
    }
    fresh.update({i: dataclasses.replace(r, status="sent") for i, (r, _) in answered.items()})
    return fresh


def _old_claims(
    marks: ClaimMarks, now: datetime, rows: Iterable[Row]
) -> tuple[list[Row], _Answered]:
    """The claims older than LIVE_SEND_S: those never sent, and those sent with the
    provider's answer kept."""
    old = [
        r
        for r in rows
        if r.status == "sending" and now - r.updated_at > timedelta(seconds=LIVE_SEND_S)
    ]
    unsent = [r for r in old if marks.never_sent(r.id, r.updated_at)]
    unsent_ids = {r.id for r in unsent}
    answered = {
        r.id: (r, answer)
        for r in old
        if r.id not in unsent_ids and (answer := marks.sent_answer(r.id, r.updated_at)) is not None
    }
    if old:
        log.info(
            "%d old claim(s) in a batch: %d never sent, %d sent and not recorded",
            len(old), len(unsent), len(answered),
        )  # fmt: skip
    return unsent, answered


def _write_recovery(
    engine: Any, now: datetime, unsent: list[Row], answered: _Answered
) -> tuple[set[int], set[int]]:
    """Give back the unsent and record the answered, in one transaction; the ids given
    back and the ids recorded as sent."""
    with engine.begin() as conn:
        back = set(claims.release(conn, [r.id for r in unsent], now=now, detail=RECOVERED))
        claims.log_attempts(
            conn,
            [
                {
                    "notification_id": i,
                    "attempt": r.attempts,
                    "provider": a.provider,
                    "provider_message_id": a.provider_message_id,
                    "started_at": a.started_at,
                    "latency_ms": a.latency_ms,
                    "outcome": "sent",
                    "error_code": None,
                    "error_text": None,
                }
                for i, (r, a) in answered.items()
            ],
        )
        recorded = set(
            claims.mark_sent(
                conn,
                {i: a.provider_message_id for i, (_, a) in answered.items()},
                provider_of={i: f"{a.provider} (recorded after its run was lost)"
                             for i, (_, a) in answered.items()},
                now=now,
            )
        )  # fmt: skip
    return back, recorded
