"""The embedded redis-server: one per installation, shared, and a worker runs on it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.bootstrap import bootstrap
from services.notifier.broker import NOTIFICATIONS_QUEUE
from services.notifier.enqueuing import enqueue
from services.notifier.runtime import Runtime
from services.notifier.testing.twilio_server import TwilioTestServer
from shared.redis_server import redis_url, stop_embedded_redis
from shared.settings import load_settings
from tests.integration.notifier.conftest import NotificationFactory


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    stop_embedded_redis(tmp_path / "redis")


def test_processes_starting_at_once_share_one_embedded_server(home: Path) -> None:
    settings = load_settings({"LIAISON_HOME": str(home)})
    with ThreadPoolExecutor(4) as pool:
        urls = set(pool.map(lambda _: redis_url(settings), range(4)))
    assert len(urls) == 1
    assert (home / "redis" / "redis.pid").exists()
    assert stop_embedded_redis(home / "redis")
    assert redis_url(settings) != ""  # started again on demand


def test_a_configured_redis_url_wins_over_the_embedded_server(home: Path) -> None:
    settings = load_settings({"LIAISON_HOME": str(home), "LIAISON_REDIS_URL": "redis://x:1/2"})
    assert redis_url(settings) == "redis://x:1/2"
    assert not (home / "redis").exists()


def test_a_worker_delivers_on_the_embedded_redis(
    home: Path,
    engine: Engine,
    runtime: Runtime,
    twilio: TwilioTestServer,
    make_notification: NotificationFactory,
) -> None:
    settings = load_settings({"LIAISON_HOME": str(home), "LIAISON_MAX_RETRIES": "1"})
    # The notification is made by hand, with no ledger behind it: no refreshers.
    wiring = bootstrap(
        settings, clock=runtime.clock, engine=engine, runtime=runtime, refreshers=False
    )
    broker = wiring.broker
    worker = wiring.worker(threads=2)
    worker.start()
    try:
        nid = make_notification()
        enqueue(engine, broker, [nid], now=runtime.clock.now())
        broker.join(NOTIFICATIONS_QUEUE, timeout=20_000)
        worker.join()
    finally:
        worker.stop()
        wiring.close()
    assert len(twilio.sent()) == 1
