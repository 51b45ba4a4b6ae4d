"""What every request handler reaches for: settings, the database, Redis, the broker, time.

Built by `create_app` on the process's wiring (`services.bootstrap`), so that the web
service reaches the same database, Redis and broker, built the same way, as the workers
and the scheduler. Each part is made on first use: building the app connects to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine

from services.bootstrap import Wiring, bootstrap
from services.notifier import NAMESPACE
from services.web.settings import WebSettings
from shared.clock import Clock, SystemClock
from shared.settings import Settings


@dataclass
class WebContext:
    settings: Settings
    web: WebSettings
    clock: Clock = field(default_factory=SystemClock)
    namespace: str = NAMESPACE  #: dramatiq's key prefix
    wiring: Wiring | None = None  #: None: wired here from `settings` and `clock`

    def __post_init__(self) -> None:
        if self.wiring is None:
            self.wiring = bootstrap(self.settings, clock=self.clock)

    @property
    def wired(self) -> Wiring:
        assert self.wiring is not None
        return self.wiring

    @property
    def engine(self) -> Engine:
        return self.wired.engine

    @property
    def redis_url(self) -> str:
        return self.wired.redis_url

    @property
    def redis(self) -> redis.Redis:
        return self.wired.redis

    @property
    def broker(self) -> RedisBroker:
        return self.wired.broker

    def close(self) -> None:
        """Release what was opened (nothing, if no request needed it)."""
        self.wired.close()
