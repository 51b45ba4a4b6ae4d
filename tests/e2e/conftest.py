"""Fixtures for the end-to-end reminder runs: PostgreSQL and Redis, both real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine

from services.notifier.broker import build_broker
from shared.settings import load_settings
from tests.conftest import _migrated_engine, reset_database
from tests.integration.planner.ledger import seed_message_rules


@pytest.fixture
def pg_engine(postgres_url: str) -> Engine:
    engine = _migrated_engine(postgres_url)
    reset_database(engine)
    seed_message_rules(engine)
    return engine


@pytest.fixture
def redis_client(redis_server_url: str) -> redis.Redis:
    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    return client


@pytest.fixture
def broker(redis_server_url: str, redis_client: redis.Redis) -> Iterator[RedisBroker]:
    broker = build_broker(redis_server_url, load_settings({}))
    yield broker
    broker.close()


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"
