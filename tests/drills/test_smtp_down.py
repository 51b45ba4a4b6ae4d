"""Drill: the SMTP server goes away in the middle of a run and comes back on the same port.

The outage: after a first share of the emails is accepted, the SMTP server stops (every
connection refused, the sessions in progress dropped, as a crashed server's are) and
starts again on the same port. The issue's outage lasts a minute; here it lasts 20 s,
with the backoff shortened to match (LIAISON_MIN_BACKOFF_MS=200,
LIAISON_MAX_BACKOFF_MS=2000). LIAISON_MAX_RETRIES=30 keeps the retry budget longer than
the outage, as production's is (8 retries from 15 s wait at least half an hour, against a
minute): 30 retries wait at least 27.5 s in all, so a notification refused on every
attempt during the outage still has attempts left after it, and none may end dead.

A refused connection means nothing was handed over, so the retry is no duplicate. A
session dropped after the server took the message but before its "250" reached the
worker is retried and arrives twice: the only duplicates possible, so at most the
notifications in `sending` when the server stopped.
"""

from __future__ import annotations

import time

import pytest

from tests.drills.conftest import DrillWorld
from tests.drills.outcomes import count, statuses
from tests.drills.planting import enqueue_all, plant
from tests.drills.processes import start, stop, wait_until, worker_command
from tests.drills.provider_faults import (
    attempt_outcomes,
    least_retry_budget_s,
    most_attempts,
    unresolved,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

SENDS = 1_000
WORKERS = 2
THREADS = 8
STOP_AFTER = 300  #: messages the SMTP server accepts before it goes away
OUTAGE_S = 20  #: the issue's minute, shortened for CI
MAX_RETRIES = 30
RATE_PER_S = 40  #: 1,000 emails take about 25 s unhindered: the outage falls mid-run
#: the outage, the retries that outlast it, and room for a busy shared machine
RESOLVE_S = 100


def test_an_smtp_server_down_for_a_while_loses_nothing_and_repeats_at_most_what_was_in_flight(
    world: DrillWorld,
) -> None:
    assert least_retry_budget_s(MAX_RETRIES) > OUTAGE_S
    began = time.monotonic()
    port = world.smtp.port
    ids = plant(world.engine, SENDS, channel="email")
    enqueue_all(world.engine, world.redis.url, ids)
    env = world.env(
        LIAISON_MIN_BACKOFF_MS="200",
        LIAISON_MAX_BACKOFF_MS="2000",
        LIAISON_MAX_RETRIES=str(MAX_RETRIES),
    )
    env["LIAISON_EMAIL_RATE_PER_S"] = str(RATE_PER_S)
    logs = world.home.parent
    workers = [
        start(worker_command(THREADS), env, logs / f"worker-{i}.log") for i in range(WORKERS)
    ]
    try:
        assert wait_until(lambda: len(world.smtp.messages) >= STOP_AFTER, 120, 0.05)
        world.smtp.stop()
        in_flight = statuses(world.engine)["sending"]
        accepted_before = len(world.smtp.messages)
        transient_before = attempt_outcomes(world.engine)["transient"]
        time.sleep(OUTAGE_S)  # the outage itself: connections to the port are refused
        transient_during = attempt_outcomes(world.engine)["transient"] - transient_before
        world.smtp.start()
        assert world.smtp.port == port
        wait_until(lambda: unresolved(world.engine) == 0, RESOLVE_S, 1.0)
    finally:
        for worker in workers:
            stop(worker)
    attempts = attempt_outcomes(world.engine)
    outcome = count(
        world.engine,
        f"SMTP down for {OUTAGE_S} s",
        smtp=world.smtp,
        in_flight=in_flight,
        seconds=time.monotonic() - began,
        note=(
            f"stopped after {accepted_before} accepted; {transient_during} attempts refused"
            f" while down; attempts recorded: {dict(attempts)}; most attempts for one"
            f" notification: {most_attempts(world.engine)};"
            f" left behind: {dict(statuses(world.engine))}"
        ),
    )
    assert outcome.planned == SENDS
    assert outcome.lost == 0, statuses(world.engine)
    assert outcome.duplicated <= min(in_flight, WORKERS * THREADS)
    # The retry budget outlasts the outage: every notification got through.
    assert outcome.delivered == SENDS, statuses(world.engine)
    # The outage was felt: sends went on during it, and failed as transient errors.
    assert accepted_before < SENDS
    assert transient_during > 0
    assert attempts["permanent"] == 0
