"""The worker entry module: `dramatiq services.notifier.worker` (what `liaison worker` runs).

Importing it sets the broker and declares the actors — that is its one job. The runtime
(database engine, senders, limiters) is built on the first message, in the worker process.
"""

from __future__ import annotations

import logging
from functools import cache

import dramatiq
import redis

from services.notifier.actors import declare_actors
from services.notifier.bootstrap import build_runtime
from services.notifier.broker import build_broker
from services.notifier.runtime import Runtime
from shared.masking import MaskingFilter
from shared.redis_server import redis_url
from shared.settings import load_settings

settings = load_settings()
url = redis_url(settings)
broker = build_broker(url, settings)
dramatiq.set_broker(broker)

# dramatiq configures its own log handlers; mask personal data in whatever they print.
for handler in logging.getLogger().handlers:
    handler.addFilter(MaskingFilter())


@cache
def runtime() -> Runtime:
    return build_runtime(settings, redis_client=redis.Redis.from_url(url))


actors = declare_actors(broker, runtime, max_retries=settings.max_retries)
