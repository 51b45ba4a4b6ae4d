"""Drill: the drill's own Redis restarted (SIGKILL, then started again from its
append-only file on the same port) in the middle of 3,000 sends."""

from __future__ import annotations

import time

import pytest

from tests.drills.conftest import DrillWorld
from tests.drills.outcomes import accepted_among, count, statuses
from tests.drills.planting import enqueue_all, plant
from tests.drills.processes import (
    scheduler_command,
    start,
    stop,
    wait_until,
    worker_command,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

SENDS = 3_000
WORKERS = 2
THREADS = 8  #: each worker's concurrency
RESTART_AFTER = 1_000  #: provider acceptances before Redis goes away
#: seconds Redis stays down: longer than redis-py's own reconnection attempts (about a
#: second), so that the workers really meet an unreachable Redis
DOWN_S = 4.0
#: a claim older than this counts as abandoned (900 s in production), so that the
#: scheduler's sweep can settle whatever the restart stranded within the drill's time
STALE_SENDING_S = 20
RECOVERY_S = 100
UNFINISHED = ("pending", "queued", "deferred", "sending")


def test_redis_restarted_mid_run_loses_nothing_and_repeats_at_most_what_was_in_flight(
    world: DrillWorld,
) -> None:
    began = time.monotonic()
    world.twilio.delay_s = 0.002  # a provider that takes a little time, as a real one does
    ids = plant(world.engine, SENDS)
    enqueue_all(world.engine, world.redis.url, ids)
    env = world.env(
        LIAISON_MIN_BACKOFF_MS="200",
        LIAISON_MAX_BACKOFF_MS="2000",
        LIAISON_STALE_SENDING_S=str(STALE_SENDING_S),
    )
    logs = world.home.parent
    # The scheduler runs as in production: its tick sweeps the outbox (an empty ledger
    # here, so it plans nothing).
    scheduler = start(scheduler_command(2), env, logs / "scheduler.log")
    workers = [
        start(worker_command(THREADS), env, logs / f"worker-{i}.log") for i in range(WORKERS)
    ]
    try:
        assert wait_until(lambda: len(world.twilio.sent()) >= RESTART_AFTER, 120, 0.05)
        in_flight = statuses(world.engine)["sending"]
        unreachable_s = world.redis.restart(DOWN_S)
        # The workers reconnect by themselves: none may have died of it (systemd would
        # restart one, but a Redis restart must not need that).
        time.sleep(2)
        died = [w.args for w in workers if w.poll() is not None]
        assert not died, f"workers died when Redis restarted: {died}"
        settled = wait_until(
            lambda: sum(statuses(world.engine)[s] for s in UNFINISHED) == 0, RECOVERY_S, 1.0
        )
        alive = sum(w.poll() is None for w in workers)
    finally:
        for w in workers:
            stop(w)
        stop(scheduler)
    dead_accepted = accepted_among(world.engine, world.twilio, "dead")
    outcome = count(
        world.engine,
        "Redis restarted mid-run",
        twilio=world.twilio,
        in_flight=in_flight,
        seconds=time.monotonic() - began,
        note=(
            f"Redis unreachable {unreachable_s:.1f} s; {alive}/{WORKERS} workers alive at the"
            f" end, none restarted; left behind: {dict(statuses(world.engine))}; of the"
            f" dead-lettered, {dead_accepted} had been accepted by the"
            " provider"
        ),
    )
    assert settled, statuses(world.engine)
    assert outcome.planned == SENDS
    assert outcome.lost == 0, statuses(world.engine)
    assert outcome.duplicated <= in_flight
