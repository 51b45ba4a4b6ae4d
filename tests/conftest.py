"""Fixtures for real servers. Every database test runs on SQLite and on PostgreSQL.

Outside CI a missing PostgreSQL or Redis skips the tests that need it; with CI=true it
fails them, so that a green CI always means the real servers were exercised.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import OperationalError

import shared.models  # noqa: F401  (registers every table)
from shared.db import make_engine, upgrade
from shared.models import Base, Rule
from shared.rule_defaults import DEFAULT_RULES

if TYPE_CHECKING:
    import redis
    from dramatiq.brokers.redis import RedisBroker

POSTGRES_URL = os.environ.get(
    "LIAISON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("LIAISON_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_server(name: str, reason: str) -> None:
    """Skip outside CI, fail in CI: a missing server is never silently green there."""
    message = f"{name} is not reachable ({reason})"
    if in_ci():
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


def _worker_suffix() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test worker's own, created fresh for the session."""
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    # One database per test process: concurrent pytest runs on one machine must not drop
    # each other's database.
    name = f"liaison_test_{_worker_suffix()}_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        require_server("PostgreSQL", str(exc).splitlines()[0])
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    engine = _migrated.pop(url, None)
    if engine is not None:
        engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'liaison.sqlite3'}"


_migrated: dict[str, Engine] = {}


def _migrated_engine(url: str) -> Engine:
    if url not in _migrated:
        engine = make_engine(url)
        upgrade(engine)
        _migrated[url] = engine
    return _migrated[url]


def reset_database(engine: Engine) -> None:
    """Empty every table and seed the default rules again, as a fresh upgrade leaves it."""
    tables = [t for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
        conn.execute(insert(Rule), DEFAULT_RULES)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated, empty database: once SQLite, once PostgreSQL."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("postgres_url")
    reset_database(_migrated_engine(url))
    return url


@pytest.fixture
def engine(database_url: str) -> Engine:
    return _migrated_engine(database_url)


@pytest.fixture
def liaison_env(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The environment of a liaison process using the test database and a private home."""
    env = {
        "LIAISON_DATABASE_URL": database_url,
        "LIAISON_HOME": str(tmp_path / "var"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture(scope="session")
def redis_server_url() -> str:
    """The real Redis server, on a database number of this test worker's own."""
    import redis

    suffix = _worker_suffix()
    db = int(suffix[2:]) + 1 if suffix.startswith("gw") else 0
    url = f"{REDIS_URL}/{db}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        require_server("Redis", str(exc))
    return url


@pytest.fixture
def redis_client(redis_server_url: str) -> redis.Redis:
    """A client of the test Redis database, emptied first."""
    import redis

    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    return client


@pytest.fixture
def broker(redis_server_url: str, redis_client: redis.Redis) -> Iterator[RedisBroker]:
    """The notifier's dramatiq broker on the (emptied) test Redis."""
    from services.notifier.broker import build_broker
    from shared.settings import load_settings

    broker = build_broker(redis_server_url, load_settings({}))
    yield broker
    broker.close()


COUNTY_AS_OF = "2026-11-22"


@pytest.fixture(scope="session")
def county_ledger(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A 10,000-member synthetic county ledger (CSV files), generated once per session."""
    from datetime import date

    from shared.ledger.synthetic import generate_ledger

    out = tmp_path_factory.mktemp("county")
    generate_ledger(out, members=10_000, seed=3, as_of=date.fromisoformat(COUNTY_AS_OF))
    return sorted(out.glob("*.csv"))
