"""A notifier worker process for the drills: `python -m tests.drills.worker_process`.

The same wiring `liaison demo` uses (settings → broker, runtime with the configured
senders and Redis limits → actors → a dramatiq Worker), in one process with N threads, so
that SIGKILL takes the whole worker down at once as it would a crashed machine.
`liaison worker` is not in the CLI yet; once it is, the drills can start it instead.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from dataclasses import replace
from datetime import time

import dramatiq
import redis

from services.notifier.actors import declare_actors
from services.notifier.bootstrap import build_runtime
from services.notifier.broker import build_broker
from shared.db import make_engine
from shared.redis_server import redis_url
from shared.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--no-quiet-hours",
        action="store_true",
        help="send at any hour (quiet hours are not under test; the clock is real)",
    )
    args = parser.parse_args()
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    url = redis_url(settings)
    engine = make_engine(settings.resolved_database_url, pool_size=args.threads + 2)
    broker = build_broker(url, settings)
    runtime = build_runtime(settings, redis_client=redis.Redis.from_url(url), engine=engine)
    if args.no_quiet_hours:
        # A window that starts when it ends is no window (quiet_hours.py).
        runtime = replace(runtime, quiet_start=time(0), quiet_end=time(0))
    declare_actors(broker, lambda: runtime, max_retries=runtime.max_retries)
    worker = dramatiq.Worker(broker, worker_threads=args.threads, worker_timeout=100)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    worker.start()
    print("worker ready", flush=True)
    stopping.wait()
    worker.stop()
    broker.close()


if __name__ == "__main__":
    main()
