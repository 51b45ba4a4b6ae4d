"""Engines, sessions and schema upgrades. Nothing connects until a function is called."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from shared.settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the scheduler, workers and web read while an import writes; foreign keys
    # are off by default in SQLite and on in PostgreSQL, so turn them on to agree.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, with the SQLite settings liaison relies on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


@lru_cache(maxsize=8)
def _cached_engine(url: str) -> Engine:
    return make_engine(url)


def engine_for(settings: Settings) -> Engine:
    """The process-wide engine for the configured database (created on first use)."""
    return _cached_engine(settings.resolved_database_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the current schema)."""
    command.upgrade(alembic_config(engine), revision)


def ensure_schema(settings: Settings) -> Engine:
    """The engine, with the schema upgraded when the database is the embedded default.

    A production database (PostgreSQL) is only upgraded by `liaison db upgrade`, so that
    an operator decides when a migration runs; this refuses to work on an old schema.
    """
    engine = engine_for(settings)
    if current_revision(engine) == head_revision(engine):
        return engine
    if settings.uses_embedded_database:
        log.info("upgrading the embedded database to the current schema")
        upgrade(engine)
        return engine
    from shared.errors import ConfigurationError

    raise ConfigurationError("the database schema is not current: run `liaison db upgrade` first")
