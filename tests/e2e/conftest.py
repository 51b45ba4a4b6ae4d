"""Fixtures for the end-to-end reminder runs: PostgreSQL and Redis, both real."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import _migrated_engine, reset_database
from tests.integration.planner.ledger import seed_message_rules


@pytest.fixture
def pg_engine(postgres_url: str) -> Engine:
    engine = _migrated_engine(postgres_url)
    reset_database(engine)
    seed_message_rules(engine)
    return engine


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"
