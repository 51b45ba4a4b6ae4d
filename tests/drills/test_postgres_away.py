"""Drill: PostgreSQL unreachable for 20 s in the middle of 3,000 sends.

The shared server is never touched: the liaison processes reach the drill's database
through a loopback proxy of the drill's own (tcp_proxy.py), which cuts every open
connection and refuses new ones for the outage, then accepts again. The drill itself
reads the database directly.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from tests.drills.conftest import DrillWorld
from tests.drills.outcomes import accepted_among, count, statuses
from tests.drills.planting import enqueue_all, plant
from tests.drills.processes import (
    scheduler_command,
    start,
    stop,
    wait_until,
    with_port,
    worker_command,
)
from tests.drills.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

SENDS = 3_000
WORKERS = 2
THREADS = 8  #: each worker's concurrency
AWAY_AFTER = 1_000  #: provider acceptances before the database goes away
AWAY_S = 20.0
#: a claim older than this counts as abandoned (900 s in production), so that the
#: scheduler's sweep settles a send whose result could not be written within the drill.
#: It must outlast the outage plus the claim's own send: a worker holds a provider's
#: answer for up to `delivery.RECORD_PATIENCE` (25 s) waiting for the database, and a
#: shorter value would dead-letter sends that were about to be recorded.
STALE_SENDING_S = 45
RECOVERY_S = 100
UNFINISHED = ("pending", "queued", "deferred", "sending")


def test_postgres_away_for_20_s_mid_run_loses_nothing_and_repeats_at_most_what_was_in_flight(
    world: DrillWorld,
) -> None:
    began = time.monotonic()
    world.twilio.delay_s = 0.002  # a provider that takes a little time, as a real one does
    ids = plant(world.engine, SENDS)
    enqueue_all(world.engine, world.redis.url, ids)
    server = urlsplit(world.database_url)
    with TcpProxy((server.hostname or "127.0.0.1", server.port or 5432)) as proxy:
        env = world.env(
            LIAISON_DATABASE_URL=with_port(world.database_url, proxy.port),
            LIAISON_MIN_BACKOFF_MS="200",
            LIAISON_MAX_BACKOFF_MS="2000",
            LIAISON_STALE_SENDING_S=str(STALE_SENDING_S),
        )
        logs = world.home.parent
        # The scheduler, through the proxy too, sweeps the outbox on its tick (an empty
        # ledger here, so it plans nothing).
        scheduler = start(scheduler_command(2), env, logs / "scheduler.log")
        workers = [
            start(worker_command(THREADS), env, logs / f"worker-{i}.log") for i in range(WORKERS)
        ]
        try:
            assert wait_until(lambda: len(world.twilio.sent()) >= AWAY_AFTER, 120, 0.05)
            in_flight = statuses(world.engine)["sending"]
            cut = proxy.down()
            accepted_before = len(world.twilio.sent())
            time.sleep(AWAY_S)
            # Sends that had their row in hand go on while the database is away; none can
            # start without it.
            accepted_while_away = len(world.twilio.sent()) - accepted_before
            proxy.up()
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
        "PostgreSQL away for 20 s",
        twilio=world.twilio,
        in_flight=in_flight,
        seconds=time.monotonic() - began,
        note=(
            f"{cut} connections cut; {accepted_while_away} provider acceptances while away;"
            f" {alive}/{WORKERS} workers alive at the end, none restarted; left behind:"
            f" {dict(statuses(world.engine))}; of the dead-lettered,"
            f" {dead_accepted} had been accepted by the provider"
        ),
    )
    assert settled, statuses(world.engine)
    assert alive == WORKERS
    assert outcome.planned == SENDS
    assert outcome.lost == 0, statuses(world.engine)
    assert outcome.duplicated <= in_flight
