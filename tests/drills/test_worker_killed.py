"""Drill: a worker killed with SIGKILL in the middle of 5,000 sends."""

from __future__ import annotations

import time

import pytest

from tests.drills.conftest import DrillWorld
from tests.drills.outcomes import accepted_among, count, statuses
from tests.drills.planting import enqueue_all, plant
from tests.drills.processes import kill_group, start, stop, wait_until, worker_command

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

SENDS = 5_000
THREADS = 8  #: each worker's concurrency: the most messages one kill can leave in flight
KILL_AFTER = 1_500  #: provider acceptances before the kill
#: dramatiq requeues a dead worker's unacknowledged messages once its heartbeat is 60 s old
RECOVERY_S = 150


def test_a_worker_killed_mid_run_loses_nothing_and_repeats_at_most_its_concurrency(
    world: DrillWorld,
) -> None:
    began = time.monotonic()
    world.twilio.delay_s = 0.002  # a provider that takes a little time, as a real one does
    ids = plant(world.engine, SENDS)
    enqueue_all(world.engine, world.redis.url, ids)
    # A claim left by the killed worker counts as abandoned after 20 s (900 s in
    # production), so that the drill sees it dead-lettered within its recovery time.
    env = world.env(
        LIAISON_MIN_BACKOFF_MS="200", LIAISON_MAX_BACKOFF_MS="2000", LIAISON_STALE_SENDING_S="20"
    )
    logs = world.home.parent
    victim = start(worker_command(THREADS), env, logs / "worker-victim.log")
    survivor = start(worker_command(THREADS), env, logs / "worker-survivor.log")
    try:
        assert wait_until(lambda: len(world.twilio.sent()) >= KILL_AFTER, 120, 0.05)
        kill_group(victim)
        in_flight = statuses(world.engine)["sending"]
        # Systemd restarts a killed worker (Restart=always); so does the drill.
        restarted = start(worker_command(THREADS), env, logs / "worker-restarted.log")
        try:
            wait_until(
                lambda: (
                    sum(statuses(world.engine)[s] for s in ("queued", "sending", "pending")) == 0
                ),
                RECOVERY_S,
                1.0,
            )
        finally:
            stop(restarted)
    finally:
        stop(survivor)
        if victim.poll() is None:
            victim.kill()
    stuck_accepted = accepted_among(world.engine, world.twilio, "sending")
    outcome = count(
        world.engine,
        "worker SIGKILL mid-run",
        twilio=world.twilio,
        in_flight=in_flight,
        seconds=time.monotonic() - began,
        note=(
            f"left behind: {dict(statuses(world.engine))}; of those stuck in sending,"
            f" {stuck_accepted} had been accepted by the provider"
        ),
    )
    assert outcome.planned == SENDS
    assert outcome.lost == 0, statuses(world.engine)
    assert outcome.duplicated <= min(in_flight, THREADS)
