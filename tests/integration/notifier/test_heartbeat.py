"""A worker wired by the bootstrap beats in Redis while it runs, naming its queues, and
says it has gone when it stops."""

from __future__ import annotations

import time
from pathlib import Path

import redis

from services.bootstrap import bootstrap
from services.notifier import live_workers
from shared.settings import load_settings


def test_a_worker_wired_by_the_bootstrap_is_seen_while_it_runs(
    redis_server_url: str, tmp_path: Path
) -> None:
    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    settings = load_settings({"LIAISON_REDIS_URL": redis_server_url, "LIAISON_HOME": str(tmp_path)})
    wiring = bootstrap(settings, refreshers=False)
    worker = wiring.worker(threads=1)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not (seen := live_workers(client)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [w.queues for w in seen] == [("notifications", "planning")]
        assert seen[0].threads == 1
    finally:
        worker.stop()
        wiring.close()
    assert live_workers(client) == []
