"""Migration 0010 (delivery attempts indexed by when they started), up and down on both
databases, each test on a database of its own as in test_migration_0009."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from shared.db import alembic_config, current_revision, upgrade
from shared.models import Base
from tests.integration.migrating import database_at

BEFORE = "0009"
INDEX = "ix_delivery_attempts_started_at"
NOTIFICATION = text(
    "INSERT INTO notifications (id, kind, channel, recipient_type, recipient_id, address, "
    "locale, timezone, data, occasion, idempotency_key, status, attempts, created_at, "
    "updated_at) VALUES (1, 'liaison_digest', 'sms', 'liaison', 'L1', '+8613800000001', "
    "'zh-CN', 'Asia/Shanghai', '{}', 'x', 'k1', 'sent', 1, '2026-12-01 02:00:00', "
    "'2026-12-01 02:00:01')"
)
ATTEMPT = text(
    "INSERT INTO delivery_attempts (notification_id, attempt, provider, started_at, "
    "latency_ms, outcome) VALUES (1, 1, 'twilio', '2026-12-01 02:00:01', 120, 'sent')"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_schema(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at 0009 holding one delivery attempt."""
    with ExitStack() as stack:
        engine = database_at(stack, request.param, tmp_path, BEFORE, "liaison_migration_0010")
        with engine.begin() as conn:
            conn.execute(NOTIFICATION)
            conn.execute(ATTEMPT)
        yield engine


def _indexes(engine: Engine) -> dict[str | None, list[str | None]]:
    return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("delivery_attempts")}


def _attempts(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM delivery_attempts")).scalar_one())


def test_upgrading_indexes_delivery_attempts_by_started_at_as_the_model_declares(
    old_schema: Engine,
) -> None:
    upgrade(old_schema)
    assert current_revision(old_schema) == "0010"
    assert _indexes(old_schema)[INDEX] == ["started_at"]
    table = Base.metadata.tables["delivery_attempts"]
    declared = {str(i.name): [c.name for c in i.columns] for i in table.indexes}
    assert declared[INDEX] == ["started_at"]
    assert _attempts(old_schema) == 1


def test_downgrading_drops_the_index_and_keeps_the_attempts(old_schema: Engine) -> None:
    upgrade(old_schema)
    command.downgrade(alembic_config(old_schema), BEFORE)
    assert current_revision(old_schema) == BEFORE
    assert INDEX not in _indexes(old_schema)
    assert _attempts(old_schema) == 1
