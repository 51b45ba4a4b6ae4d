"""What every request handler reaches for: settings, the database, Redis, the broker, time.

Built by `create_app`; the engine, the Redis client and the broker are made on first use,
so building the app connects to nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine

from services.notifier import NAMESPACE, build_broker
from services.web.settings import WebSettings
from shared.clock import Clock, SystemClock
from shared.db import engine_for
from shared.redis_server import redis_url
from shared.settings import Settings


@dataclass
class WebContext:
    settings: Settings
    web: WebSettings
    clock: Clock = field(default_factory=SystemClock)
    namespace: str = NAMESPACE  #: dramatiq's key prefix
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @cached_property
    def engine(self) -> Engine:
        return engine_for(self.settings)

    @cached_property
    def redis_url(self) -> str:
        # The embedded server is started on first use, never when the app is built.
        with self._lock:
            return redis_url(self.settings)

    @cached_property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=2)

    @cached_property
    def broker(self) -> RedisBroker:
        with self._lock:
            return build_broker(self.redis_url, self.settings, namespace=self.namespace)

    def close(self) -> None:
        """Release what was opened (nothing, if no request needed it)."""
        if "broker" in self.__dict__:
            self.broker.close()
        if "redis" in self.__dict__:
            self.redis.close()
