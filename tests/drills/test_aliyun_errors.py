"""Drill: Alibaba Cloud SMS throttling and failing a share of requests for a while.

The outage: the domestic provider answers about one request in three with `Throttling.User`
(HTTP 400, as its gateway does when an account's QPS is exceeded) and about one in ten
with `isp.SYSTEM_ERROR` (HTTP 200 with that Code, the provider's own failure), drawn per
request from a seeded generator (`AliyunSmsTestServer.fail_randomly`), for 15 s from the
first request; then it answers normally. The workers send through the real SDK with
LIAISON_SMS_PROVIDER=aliyun, every request signed and its signature checked by the fake.

As in the Twilio drill (tests/drills/test_twilio_errors.py), the backoff is shortened
(LIAISON_MIN_BACKOFF_MS=200, LIAISON_MAX_BACKOFF_MS=2000) and LIAISON_MAX_RETRIES=30
keeps the retry budget (at least 27.5 s of waiting) longer than the outage, so nothing
may end dead; the workers are paced at 50 SMS a second so that sending outlasts the
outage. A refusal means the provider took nothing, so the next attempt is no duplicate:
duplicates are counted from the requests answered `OK`.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from services.notifier.testing.aliyun_server import (
    TEST_ACCESS_KEY_ID,
    TEST_ACCESS_KEY_SECRET,
    AliyunSmsTestServer,
)
from tests.drills.conftest import DrillWorld
from tests.drills.outcomes import count, statuses
from tests.drills.planting import KIND, enqueue_all, plant
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
OUTAGE_S = 15
RATE_THROTTLED = 1 / 3
RATE_SYSTEM_ERROR = 1 / 10
SEED = 17
MAX_RETRIES = 30
RATE_PER_S = 50  #: 1,000 sends and their retries take about 30 s: longer than the outage
RESOLVE_S = 100
TEMPLATE = "SMS_DRILL_ESCALATION"


def test_aliyun_throttling_and_system_errors_for_a_while_lose_and_repeat_nothing(
    world: DrillWorld,
) -> None:
    assert least_retry_budget_s(MAX_RETRIES) > OUTAGE_S
    began = time.monotonic()
    with AliyunSmsTestServer(templates={TEMPLATE: ("name", "org", "findings")}) as aliyun:
        aliyun.delay_s = 0.002
        aliyun.fail_randomly(
            rate_throttled=RATE_THROTTLED,
            rate_system_error=RATE_SYSTEM_ERROR,
            seed=SEED,
            for_s=OUTAGE_S,
        )
        ids = plant(world.engine, SENDS)
        enqueue_all(world.engine, world.redis.url, ids)
        env = world.env(
            LIAISON_SMS_PROVIDER="aliyun",
            ALIBABA_CLOUD_ACCESS_KEY_ID=TEST_ACCESS_KEY_ID,
            ALIBABA_CLOUD_ACCESS_KEY_SECRET=TEST_ACCESS_KEY_SECRET,
            LIAISON_ALIYUN_ENDPOINT=f"http://{aliyun.endpoint}",
            LIAISON_ALIYUN_SIGN_NAME="流动党员联络",
            LIAISON_ALIYUN_TEMPLATE_CODES=f"{KIND}={TEMPLATE}",
            LIAISON_ALIYUN_TIMEOUT_S="5",
            LIAISON_MIN_BACKOFF_MS="200",
            LIAISON_MAX_BACKOFF_MS="2000",
            LIAISON_MAX_RETRIES=str(MAX_RETRIES),
            LIAISON_SMS_RATE_PER_S=str(RATE_PER_S),
        )
        logs = world.home.parent
        workers = [
            start(worker_command(THREADS), env, logs / f"worker-{i}.log") for i in range(WORKERS)
        ]
        try:
            wait_until(lambda: unresolved(world.engine) == 0, RESOLVE_S, 1.0)
        finally:
            for worker in workers:
                stop(worker)
        refused = aliyun.refused()
        accepted = Counter(r.params["PhoneNumbers"] for r in aliyun.sent())
        codes = Counter(r.code for r in refused)
        total = len(aliyun.requests)
    attempts = attempt_outcomes(world.engine)
    outcome = count(
        world.engine,
        f"Alibaba Cloud Throttling.User (1/3) and isp.SYSTEM_ERROR (1/10) for {OUTAGE_S} s",
        seconds=time.monotonic() - began,
        note=(
            f"refused {dict(codes)} of {total} requests; attempts recorded: {dict(attempts)};"
            f" most attempts for one notification: {most_attempts(world.engine)};"
            f" left behind: {dict(statuses(world.engine))}"
        ),
    )
    assert outcome.planned == SENDS
    assert outcome.lost == 0, statuses(world.engine)
    assert outcome.delivered == SENDS, statuses(world.engine)
    # Each planted notification has a number of its own: accepted twice is a duplicate.
    assert len(accepted) == SENDS and max(accepted.values()) == 1
    # The outage was felt, and every refusal was taken for a transient error and retried.
    assert codes["Throttling.User"] > 0 and codes["isp.SYSTEM_ERROR"] > 0
    assert set(codes) == {"Throttling.User", "isp.SYSTEM_ERROR"}
    assert attempts["transient"] == len(refused)
    assert attempts["sent"] == SENDS
