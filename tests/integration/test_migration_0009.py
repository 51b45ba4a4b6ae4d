"""Migration 0009 (an interaction's place joins its key), up and down on both databases.

Each test has a database of its own (migrating the shared one down would pull the floor
from under the other tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from shared.db import alembic_config, current_revision, upgrade
from tests.integration.migrating import database_at

BEFORE = "0008"
#: the revision under test, not the head: later migrations must not change what it did
AFTER = "0009"
ORGANIZATION = text("INSERT INTO organizations (code, name, timezone) VALUES ('O', 'O', 'UTC')")
MEMBER = text(
    "INSERT INTO members (member_id, name, id_number, home_org, join_date, mobile_since, "
    "status, locale, channels) "
    "VALUES ('M1', 'M', '1', 'O', '2000-01-01', '2020-01-01', 'active', 'zh-CN', 'sms')"
)
INSERT = text(
    "INSERT INTO interactions (member_id, kind, on_date, place, source) "
    "VALUES ('M1', 'visit', :on, :place, 'import')"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_schema(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at 0007, with one member and a placeless visit, as installations have it."""
    with ExitStack() as stack:
        engine = database_at(stack, request.param, tmp_path, BEFORE, "liaison_migration")
        with engine.begin() as conn:
            conn.execute(ORGANIZATION)
            conn.execute(MEMBER)
            conn.execute(INSERT, {"on": date(2026, 1, 5), "place": None})
        yield engine


def _places(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT place FROM interactions ORDER BY place")).scalars())


def test_upgrading_keeps_every_visit_gives_no_place_the_empty_place_and_keys_by_place(
    old_schema: Engine,
) -> None:
    upgrade(old_schema, AFTER)
    assert current_revision(old_schema) == "0009"
    assert _places(old_schema) == [""]
    with old_schema.begin() as conn:
        conn.execute(INSERT, {"on": date(2026, 1, 5), "place": "home"})
    assert _places(old_schema) == ["", "home"]
    with pytest.raises(IntegrityError), old_schema.begin() as conn:
        conn.execute(INSERT, {"on": date(2026, 1, 5), "place": ""})


def test_downgrading_restores_the_old_key_and_empty_places(old_schema: Engine) -> None:
    upgrade(old_schema, AFTER)
    command.downgrade(alembic_config(old_schema), BEFORE)
    assert current_revision(old_schema) == BEFORE
    assert _places(old_schema) == [None]
    with pytest.raises(IntegrityError), old_schema.begin() as conn:
        conn.execute(INSERT, {"on": date(2026, 1, 5), "place": "home"})


def test_downgrading_refuses_while_one_day_holds_two_visits_at_two_places(
    old_schema: Engine,
) -> None:
    upgrade(old_schema, AFTER)
    with old_schema.begin() as conn:
        conn.execute(INSERT, {"on": date(2026, 1, 5), "place": "home"})
    with pytest.raises(RuntimeError, match="member M1 has two visit interactions on 2026-01-05"):
        command.downgrade(alembic_config(old_schema), BEFORE)
    assert current_revision(old_schema) == "0009"
    assert _places(old_schema) == ["", "home"]
