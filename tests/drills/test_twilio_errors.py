"""Drill: Twilio refusing a share of requests (429 and 500) for a while, then recovering.

The outage: Twilio answers about one request in three with HTTP 429 (error 20429, with
`Retry-After: 1`) and about one in ten with HTTP 500 (error 20500), drawn per request
from a seeded generator (`TwilioTestServer.fail_randomly`), then answers normally. The
issue's outage lasts a minute; here it lasts 20 s from the first request, with the
backoff shortened to match (LIAISON_MIN_BACKOFF_MS=200, LIAISON_MAX_BACKOFF_MS=2000).
LIAISON_MAX_RETRIES=30 keeps the retry budget longer than the outage, as production's is
(8 retries from 15 s wait at least half an hour, against a minute): 30 retries wait at
least 27.5 s in all, so even a notification refused on every attempt in the window still
has attempts left after it, and none may end dead.

The workers are paced at 50 SMS a second (production: 10), so that the run outlasts the
outage as a production run does: sends and retries meet the refusals for 20 s and then
a Twilio that answers normally again.

A 429 or a 500 means Twilio did not accept the message, so the next attempt is no
duplicate: duplicates are counted from accepted (201) requests only
(`TwilioTestServer.sent()`), refusals are in `TwilioTestServer.refused()`.
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

SENDS = 1_500
WORKERS = 2
THREADS = 8
OUTAGE_S = 20  #: the issue's minute, shortened for CI
RATE_429 = 1 / 3
RATE_500 = 1 / 10
SEED = 20429
MAX_RETRIES = 30
RATE_PER_S = 50  #: 1,500 sends and their retries take about 40 s: longer than the outage
#: the outage, the retries that outlast it, and room for a busy shared machine
RESOLVE_S = 100


def test_twilio_refusing_a_share_of_requests_for_a_while_loses_and_repeats_nothing(
    world: DrillWorld,
) -> None:
    assert least_retry_budget_s(MAX_RETRIES) > OUTAGE_S
    began = time.monotonic()
    world.twilio.delay_s = 0.002  # a provider that takes a little time, as a real one does
    world.twilio.fail_randomly(
        rate_429=RATE_429, rate_500=RATE_500, seed=SEED, retry_after_s=1, for_s=OUTAGE_S
    )
    ids = plant(world.engine, SENDS)
    enqueue_all(world.engine, world.redis.url, ids)
    env = world.env(
        LIAISON_MIN_BACKOFF_MS="200",
        LIAISON_MAX_BACKOFF_MS="2000",
        LIAISON_MAX_RETRIES=str(MAX_RETRIES),
    )
    env["LIAISON_SMS_RATE_PER_S"] = str(RATE_PER_S)
    logs = world.home.parent
    workers = [
        start(worker_command(THREADS), env, logs / f"worker-{i}.log") for i in range(WORKERS)
    ]
    try:
        wait_until(lambda: unresolved(world.engine) == 0, RESOLVE_S, 1.0)
    finally:
        for worker in workers:
            stop(worker)
    refused = world.twilio.refused()
    answered = [r.answered for r in refused]
    first = min((r.at for r in world.twilio.requests), default=0.0)
    last = max((r.at for r in world.twilio.requests), default=0.0)
    last_refusal = max((r.at for r in refused), default=first)
    attempts = attempt_outcomes(world.engine)
    outcome = count(
        world.engine,
        f"Twilio 429 (1/3) and 500 (1/10) for {OUTAGE_S} s",
        twilio=world.twilio,
        seconds=time.monotonic() - began,
        note=(
            f"Twilio refused {answered.count(429)} requests with 429 and"
            f" {answered.count(500)} with 500 (of {len(world.twilio.requests)}) over the"
            f" first {last_refusal - first:.0f} s of {last - first:.0f} s of sending;"
            f" attempts recorded: {dict(attempts)}; most attempts for one notification:"
            f" {most_attempts(world.engine)}; left behind: {dict(statuses(world.engine))}"
        ),
    )
    assert outcome.planned == SENDS
    assert outcome.lost == 0, statuses(world.engine)
    assert outcome.duplicated == 0
    # The retry budget outlasts the outage: every notification got through.
    assert outcome.delivered == SENDS, statuses(world.engine)
    # The outage was felt, and every refusal was taken for a transient error and retried.
    assert answered.count(429) > 0 and answered.count(500) > 0
    assert attempts["transient"] == len(refused)
    assert attempts["sent"] == len(world.twilio.sent()) == SENDS
