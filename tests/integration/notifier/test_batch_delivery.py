"""The batch path (`batching.deliver_batch`): per-notification outcomes, a few statements per
chunk, claims given back rather than held, and what an outage mid-chunk leaves behind."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from services.notifier import batching, chunk_sending, claims
from services.notifier.batching import CLAIM_CHUNK, HANDED_ON, RECOVERED, RELEASED, deliver_batch
from services.notifier.claim_marks import ClaimMarks, SentAnswer
from services.notifier.delivery import LIVE_SEND_S, Outcome
from services.notifier.hot_engine import lean_engine
from services.notifier.outbox import CLAIMABLE_STATUSES, mark_queued
from services.notifier.refreshers import (
    register_batch_refresher,
    register_refresher,
    unregister_refresher,
)
from services.notifier.runtime import Runtime
from services.notifier.testing.twilio_server import TwilioTestServer
from shared.clock import FixedClock
from shared.db import transaction
from shared.models import DeliveryAttempt, Notification, NotificationEvent
from tests.integration.notifier.conftest import NotificationFactory


def queued(engine: Engine, ids: list[int], runtime: Runtime) -> list[int]:
    """Mark the notifications queued, as `enqueue` does before their message leaves."""
    with transaction(engine) as session:
        mark_queued(session, ids, now=runtime.clock.now())
    return ids


def run(runtime: Runtime, ids: list[int]) -> dict[int, Outcome]:
    done: dict[int, Outcome] = {}

    def fallback(i: int) -> Outcome:
        raise AssertionError(f"notification {i} left the batch path")

    deliver_batch(runtime, ids, on_done=done.__setitem__, fallback=fallback)
    return done


def rows(engine: Engine, ids: list[int]) -> dict[int, Notification]:
    with Session(engine) as session:
        found = session.scalars(select(Notification).where(Notification.id.in_(ids)))
        return {n.id: n for n in found}


KIND = "political_birthday"  #: what make_notification makes


def phone(i: int) -> str:
    return f"+86138{i:08d}"


def test_a_batch_sends_each_notification_once_with_a_few_statements_per_claim_chunk(
    engine: Engine,
    runtime: Runtime,
    twilio: TwilioTestServer,
    make_notification: NotificationFactory,
) -> None:
    many = 2 * CLAIM_CHUNK + 5  # three chunks
    ids = queued(engine, [make_notification(address=phone(i)) for i in range(many)], runtime)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SELECT 1")):
            statements.append(statement)

    hot = lean_engine(engine)
    event.listen(hot, "before_cursor_execute", count)
    try:
        done = run(runtime, ids)
    finally:
        event.remove(hot, "before_cursor_execute", count)

    assert {o.status for o in done.values()} == {"sent"} and set(done) == set(ids)
    assert sorted(r.form["To"] for r in twilio.sent()) == sorted(phone(i) for i in range(many))
    assert {n.status for n in rows(engine, ids).values()} == {"sent"}
    assert all(n.provider_message_id for n in rows(engine, ids).values())
    if engine.dialect.name == "postgresql":
        # 2 reads, then per chunk three statements of unchanging text: the claim with its
        # events, the attempts, the sent rows with their events (claims_postgres).
        assert len(statements) == 2 + 3 * 3, statements
        assert statements[2:5] == statements[5:8] == statements[8:11]
    else:
        # 2 reads, then per chunk: the claim and its events; the attempts, the sent rows
        # and their events.
        assert len(statements) == 2 + 3 * 5, statements
    with Session(engine) as session:
        details = list(
            session.scalars(
                select(NotificationEvent.detail).where(NotificationEvent.notification_id == ids[0])
            )
        )
    assert details == [None, None, "attempt 1", "accepted by twilio"]


def test_one_refused_and_one_throttled_message_leave_the_rest_of_the_batch_sent_once(
    engine: Engine,
    runtime: Runtime,
    twilio: TwilioTestServer,
    make_notification: NotificationFactory,
) -> None:
    ids = queued(engine, [make_notification(address=phone(i)) for i in range(6)], runtime)
    twilio.fail_for(phone(1), status=400, code=21211)
    twilio.fail_for(phone(4), status=429, code=20429, retry_after_s=2)

    done = run(runtime, ids)

    assert done[ids[1]].status == "failed" and "21211" in (done[ids[1]].detail or "")
    assert done[ids[4]].status == "queued" and (done[ids[4]].retry_in_ms or 0) >= 2_000
    others = [i for k, i in enumerate(ids) if k not in (1, 4)]
    assert {done[i].status for i in others} == {"sent"}
    assert sorted(r.form["To"] for r in twilio.sent()) == sorted(phone(k) for k in (0, 2, 3, 5))
    state = rows(engine, ids)
    assert state[ids[1]].status == "failed" and state[ids[4]].status == "queued"
    assert state[ids[4]].not_before is not None
    with Session(engine) as session:
        outcomes = dict(
            session.execute(
                select(DeliveryAttempt.notification_id, DeliveryAttempt.outcome).where(
                    DeliveryAttempt.notification_id.in_(ids)
                )
            ).all()
        )
    assert outcomes == {
        **{i: "sent" for i in others},
        ids[1]: "permanent",
        ids[4]: "transient",
    }


def test_a_chunk_held_longer_than_a_claim_may_be_gives_its_unsent_rows_back(
    engine: Engine,
    runtime: Runtime,
    twilio: TwilioTestServer,
    make_notification: NotificationFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = queued(engine, [make_notification(address=phone(i)) for i in range(3)], runtime)
    monkeypatch.setattr(chunk_sending, "CLAIM_HOLD_S", -1.0)  # every claim is already too old

    done = run(runtime, ids)

    assert twilio.sent() == []
    assert {o.detail for o in done.values()} == {RELEASED}
    state = rows(engine, ids)
    assert {n.status for n in state.values()} == {"queued"}
    assert {n.attempts for n in state.values()} == {0}


def test_a_batch_out_of_time_hands_its_unclaimed_rows_on_without_claiming_them(
    engine: Engine,
    runtime: Runtime,
    twilio: TwilioTestServer,
    make_notification: NotificationFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = queued(engine, [make_notification(address=phone(i)) for i in range(3)], runtime)
    monkeypatch.setattr(batching, "BATCH_BUDGET_S", -1.0)  # out of time before it begins

    done = run(runtime, ids)

    assert twilio.sent() == []
    assert {o.detail for o in done.values()} == {HANDED_ON} and set(done) == set(ids)
    state = rows(engine, ids)
    assert {n.status for n in state.values()} == {"queued"}
    assert {n.attempts for n in state.values()} == {0}


class _SlowLimiter:
    """A rate limit that makes each send wait `wait_s` for its slot."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s

    def slot(self) -> Any:
        @contextmanager
        def held() -> Iterator[None]:
            time.sleep(self.wait_s)
            yield

        return held()


def test_a_claim_that_grew_too_old_waiting_for_the_rate_limit_is_given_back_unsent(
    engine: Engine,
    runtime: Runtime,
    twilio: TwilioTestServer,
    make_notification: NotificationFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = queued(engine, [make_notification(address=phone(i)) for i in range(2)], runtime)
    monkeypatch.setattr(chunk_sending, "CLAIM_HOLD_S", 0.2)
    runtime.limiters = {"sms": _SlowLimiter(0.3)}  # young when it asks, old when it gets

    done = run(runtime, ids)

    assert twilio.sent() == []
    assert {o.detail for o in done.values()} == {RELEASED}
    assert {n.status for n in rows(engine, ids).values()} == {"queued"}


class _RedisGoesAway:
    """A limiter whose Redis stops answering after `grants` slots."""

    def __init__(self, grants: int) -> None:
        self.grants = grants

    def slot(self) -> Any:
        @contextmanager
        def held() -> Iterator[None]:
            if self.grants <= 0:
                raise redis.ConnectionError("Connection refused")
            self.grants -= 1
            yield

        return held()


def test_an_outage_mid_chunk_records_what_the_provider_took_and_gives_the_rest_back(
    engine: Engine,
    runtime: Runtime,
    twilio: TwilioTestServer,
    make_notification: NotificationFactory,
) -> None:
    ids = queued(engine, [make_notification(address=phone(i)) for i in range(5)], runtime)
    runtime.limiters = {"sms": _RedisGoesAway(grants=2)}
    done: dict[int, Outcome] = {}

    with pytest.raises(redis.ConnectionError):
        deliver_batch(runtime, ids, on_done=done.__setitem__, fallback=lambda i: Outcome("x"))

    assert len(twilio.sent()) == 2
    state = rows(engine, ids)
    assert [state[i].status for i in ids] == ["sent", "sent", "queued", "queued", "queued"]
    assert [state[i].attempts for i in ids] == [1, 1, 0, 0, 0]
    assert [done[i].status for i in ids] == ["sent", "sent", "queued", "queued", "queued"]


def test_kinds_with_a_refresher_are_refreshed_in_the_batch_and_rows_held_elsewhere_are_not(
    engine: Engine,
    runtime: Runtime,
    twilio: TwilioTestServer,
    make_notification: NotificationFactory,
) -> None:
    kept = make_notification(address=phone(1))
    also = make_notification(address=phone(4))  # two kept: their data in one executemany
    emptied = make_notification(address=phone(2), recipient_id="M-gone")
    held = make_notification(address=phone(3))
    missing = 10_000_000
    queued(engine, [kept, also, emptied, held], runtime)
    with transaction(engine) as session:  # another run claimed it a moment ago
        session.get_one(Notification, held).status = "sending"
    seen: list[list[int]] = []

    def refresh_many(session: Session, ns: Any) -> dict[int, dict[str, Any] | None]:
        seen.append([n.id for n in ns])
        return {n.id: None if n.recipient_id == "M-gone" else {**n.data, "fresh": 1} for n in ns}

    register_refresher(KIND, lambda session, n: None)
    register_batch_refresher(KIND, refresh_many)
    taken: list[int] = []
    try:
        done: dict[int, Outcome] = {}
        deliver_batch(
            runtime,
            [kept, also, emptied, held, missing],
            on_done=done.__setitem__,
            fallback=lambda i: taken.append(i) or Outcome("skipped"),
        )
    finally:
        unregister_refresher(KIND)
    assert seen == [[kept, also, emptied]]  # one call for the kind
    assert taken == [held]
    assert done[kept].status == "sent" and done[emptied].status == "cancelled"
    assert done[missing] == Outcome("skipped", detail="no such notification")
    state = rows(engine, [kept, also, emptied])
    assert state[kept].data["fresh"] == 1 and state[also].data["fresh"] == 1
    assert state[emptied].status == "cancelled"
    assert sorted(r.form["To"] for r in twilio.sent()) == [phone(1), phone(4)]


def lost_run(engine: Engine, runtime: Runtime, ids: list[int], *, sent: int) -> datetime:
    """What a worker killed mid-chunk leaves: `ids` claimed and marked unsent, the first
    `sent` of them with their mark taken (their request had left)."""
    marks = runtime.claim_marks
    assert marks is not None
    claimed_at = runtime.clock.now()
    with lean_engine(engine).begin() as conn:
        claims.claim(conn, ids, from_statuses=CLAIMABLE_STATUSES, now=claimed_at)
    marks.set_unsent(ids, claimed_at)
    for i in ids[:sent]:
        marks.take(i)
    return claimed_at


def test_a_lost_runs_unsent_claims_are_sent_and_the_one_it_was_sending_is_not(
    engine: Engine,
    runtime: Runtime,
    clock: FixedClock,
    twilio: TwilioTestServer,
    redis_client: redis.Redis,
    make_notification: NotificationFactory,
) -> None:
    runtime.claim_marks = ClaimMarks(redis_client)
    ids = queued(engine, [make_notification(address=phone(i)) for i in range(4)], runtime)
    lost_run(engine, runtime, ids, sent=1)
    clock.advance(timedelta(seconds=LIVE_SEND_S + 1))
    taken: list[int] = []

    done: dict[int, Outcome] = {}
    deliver_batch(
        runtime, ids, on_done=done.__setitem__,
        fallback=lambda i: taken.append(i) or Outcome("skipped"),
    )  # fmt: skip

    assert taken == [ids[0]]  # the single path: dead-lettered once its claim is stale
    assert sorted(r.form["To"] for r in twilio.sent()) == [phone(1), phone(2), phone(3)]
    state = rows(engine, ids)
    assert [state[i].status for i in ids] == ["sending", "sent", "sent", "sent"]
    assert [state[i].attempts for i in ids] == [1, 1, 1, 1]
    with Session(engine) as session:
        details = list(
            session.scalars(
                select(NotificationEvent.detail)
                .where(NotificationEvent.notification_id == ids[1])
                .order_by(NotificationEvent.id)
            )
        )
    assert details[2:] == ["attempt 1", RECOVERED, "attempt 1", "accepted by twilio"]


def test_a_claim_mark_vouches_only_for_its_own_claim_and_only_once_the_claim_is_old(
    engine: Engine,
    runtime: Runtime,
    clock: FixedClock,
    twilio: TwilioTestServer,
    redis_client: redis.Redis,
    make_notification: NotificationFactory,
) -> None:
    marks = ClaimMarks(redis_client)
    runtime.claim_marks = marks
    young, earlier = queued(
        engine, [make_notification(address=phone(i)) for i in range(2)], runtime
    )
    lost_run(engine, runtime, [young, earlier], sent=0)
    # A mark left from an earlier claim of the same row: it names another instant.
    marks.set_unsent([earlier], clock.now() - timedelta(minutes=5))

    taken: list[int] = []
    deliver_batch(
        runtime, [young], on_done=lambda i, o: None,
        fallback=lambda i: taken.append(i) or Outcome("skipped"),
    )  # fmt: skip
    clock.advance(timedelta(seconds=LIVE_SEND_S + 1))
    deliver_batch(
        runtime, [earlier], on_done=lambda i, o: None,
        fallback=lambda i: taken.append(i) or Outcome("skipped"),
    )  # fmt: skip

    assert taken == [young, earlier] and twilio.sent() == []
    assert {n.status for n in rows(engine, [young, earlier]).values()} == {"sending"}


def test_a_lost_runs_row_the_provider_took_is_recorded_as_sent_not_sent_again(
    engine: Engine,
    runtime: Runtime,
    clock: FixedClock,
    twilio: TwilioTestServer,
    redis_client: redis.Redis,
    make_notification: NotificationFactory,
) -> None:
    marks = ClaimMarks(redis_client)
    runtime.claim_marks = marks
    ids = queued(engine, [make_notification(address=phone(i)) for i in range(3)], runtime)
    claimed_at = lost_run(engine, runtime, ids, sent=2)
    # The first was accepted and its answer kept; the second's request left, no answer.
    marks.set_sent(ids[0], claimed_at, SentAnswer("twilio", "SM123", claimed_at, 7))
    clock.advance(timedelta(seconds=LIVE_SEND_S + 1))
    taken: list[int] = []

    done: dict[int, Outcome] = {}
    deliver_batch(
        runtime, ids, on_done=done.__setitem__,
        fallback=lambda i: taken.append(i) or Outcome("skipped"),
    )  # fmt: skip

    assert taken == [ids[1]]  # unknown: left to the single path (dead-lettered when stale)
    assert [r.form["To"] for r in twilio.sent()] == [phone(2)]  # the never-sent one
    state = rows(engine, ids)
    assert [state[i].status for i in ids] == ["sent", "sending", "sent"]
    assert state[ids[0]].provider_message_id == "SM123"
    with Session(engine) as session:
        logged = session.execute(
            select(DeliveryAttempt.outcome, DeliveryAttempt.latency_ms).where(
                DeliveryAttempt.notification_id == ids[0]
            )
        ).all()
    assert [tuple(r) for r in logged] == [("sent", 7)]


def test_a_batch_suppresses_only_the_addresses_that_opted_out_on_that_channel(
    engine: Engine,
    runtime: Runtime,
    twilio: TwilioTestServer,
    make_notification: NotificationFactory,
) -> None:
    from services.notifier.opt_outs import record_opt_out

    many = 40
    ids = queued(engine, [make_notification(address=phone(i)) for i in range(many)], runtime)
    with transaction(engine) as session:
        for i in (3, 17):
            record_opt_out(session, phone(i), "sms", source="reply", now=runtime.clock.now())
        # The same address opted out of another channel only: its SMS still goes.
        record_opt_out(session, phone(5), "email", source="reply", now=runtime.clock.now())

    done = run(runtime, ids)

    stopped = {ids[3], ids[17]}
    assert {i for i, o in done.items() if o.status == "suppressed"} == stopped
    assert {i for i, o in done.items() if o.status == "sent"} == set(ids) - stopped
    assert sorted(r.form["To"] for r in twilio.sent()) == sorted(
        phone(i) for i in range(many) if i not in (3, 17)
    )
    assert {rows(engine, ids)[i].status for i in stopped} == {"suppressed"}
