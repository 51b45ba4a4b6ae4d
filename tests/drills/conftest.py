"""The drills' world: a PostgreSQL database and a redis-server of their own, the loopback
Twilio and SMTP servers, and the table of outcomes printed at the end of the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from services.notifier.testing.smtp_server import SmtpTestServer
from services.notifier.testing.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TwilioTestServer,
)
from shared.db import make_engine, upgrade
from tests.conftest import POSTGRES_URL, require_server
from tests.drills.outcomes import RESULTS, table
from tests.drills.processes import OwnRedis, liaison_env, own_database


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RESULTS:
        terminalreporter.section("fault drills: what became of every planned notification")
        terminalreporter.write_line(table(RESULTS))


@dataclass
class DrillWorld:
    database_url: str
    engine: Engine
    redis: OwnRedis
    twilio: TwilioTestServer
    smtp: SmtpTestServer
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        """A liaison process's environment, pointed at this world; `extra` may override
        any of it (LIAISON_DATABASE_URL pointed at a proxy, say)."""
        settings = dict(
            LIAISON_DATABASE_URL=self.database_url,
            LIAISON_REDIS_URL=self.redis.url,
            LIAISON_HOME=str(self.home),
            TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
            TWILIO_FROM_NUMBER="+15005550006",
            LIAISON_TWILIO_BASE_URL=self.twilio.base_url,
            LIAISON_TWILIO_TIMEOUT_S="5",
            LIAISON_SMTP_HOST=self.smtp.host,
            LIAISON_SMTP_PORT=str(self.smtp.port),
            LIAISON_SMTP_SECURITY="none",
            LIAISON_SMTP_FROM="liaison@example.org",
            LIAISON_SMTP_TIMEOUT_S="5",
            # Pacing is not under test here: high enough not to be the bottleneck.
            LIAISON_SMS_RATE_PER_S="5000",
            LIAISON_SMS_CONCURRENCY="64",
            LIAISON_EMAIL_RATE_PER_S="5000",
            LIAISON_EMAIL_CONCURRENCY="64",
            LIAISON_LOG_LEVEL="WARNING",
        )
        return liaison_env(**{**settings, **extra})


def migrated_database(name: str) -> tuple[AbstractContextManager[str], str, Engine]:
    """A fresh database of the drill's own on the real server, at the current schema;
    a missing server skips (fails with CI=true)."""
    try:
        database = own_database(POSTGRES_URL, name)
        url = database.__enter__()
    except OperationalError as exc:
        require_server("PostgreSQL", str(exc).splitlines()[0])
    engine = make_engine(url)
    upgrade(engine)
    return database, url, engine


@dataclass
class ReferenceDatabase:
    url: str
    engine: Engine


@pytest.fixture
def reference_database() -> Iterator[ReferenceDatabase]:
    """A second database of the drill's own, for a reference run to compare with."""
    database, url, engine = migrated_database(f"liaison_drill_ref_{os.getpid()}")
    try:
        yield ReferenceDatabase(url, engine)
    finally:
        engine.dispose()
        database.__exit__(None, None, None)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DrillWorld]:
    database, url, engine = migrated_database(f"liaison_drill_{os.getpid()}")
    redis = OwnRedis(tmp_path / "redis")
    try:
        redis.start()
        with TwilioTestServer() as twilio, SmtpTestServer() as smtp:
            yield DrillWorld(url, engine, redis, twilio, smtp, tmp_path / "var")
    finally:
        redis.stop()
        engine.dispose()
        database.__exit__(None, None, None)
