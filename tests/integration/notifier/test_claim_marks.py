"""Claim marks on a worker thread's own Redis connection (`ClaimMarks._own`)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import redis

from services.notifier.claim_marks import ClaimMarks, SentAnswer

CLAIMED_AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
ANSWER = SentAnswer("twilio", "SM1", CLAIMED_AT, 12)


def test_each_thread_takes_marks_and_keeps_answers_on_a_connection_of_its_own(
    redis_client: redis.Redis,
) -> None:
    marks = ClaimMarks(redis_client)
    names: dict[int, str] = {}

    def work(i: int) -> None:
        marks.set_unsent([i], CLAIMED_AT)
        marks.take(i)
        marks.set_sent(i, CLAIMED_AT, ANSWER)
        own = marks._own()
        own.send_command("CLIENT", "SETNAME", f"marks-{i}")
        own.read_response()
        own.send_command("CLIENT", "GETNAME")
        names[i] = str(own.read_response())

    threads = [threading.Thread(target=work, args=(i,)) for i in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(names.values()) == ["b'marks-1'", "b'marks-2'", "b'marks-3'"]
    for i in (1, 2, 3):
        assert not marks.never_sent(i, CLAIMED_AT)  # taken before the request left
        assert marks.sent_answer(i, CLAIMED_AT) == ANSWER


def test_a_thread_connection_killed_by_the_server_reconnects_on_the_next_mark(
    redis_client: redis.Redis,
) -> None:
    marks = ClaimMarks(redis_client)
    marks.set_unsent([7], CLAIMED_AT)
    marks.take(7)
    own = marks._own()
    own.send_command("CLIENT", "SETNAME", "marks-to-kill")
    own.read_response()
    killed = redis_client.execute_command("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal")
    assert int(killed) >= 1

    marks.set_sent(7, CLAIMED_AT, ANSWER)  # the old connection is gone: reconnects

    assert marks.sent_answer(7, CLAIMED_AT) == ANSWER
