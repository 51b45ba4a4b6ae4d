"""A database of a test's own at an older revision, for the migration tests."""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from shared.db import make_engine, upgrade
from tests.conftest import POSTGRES_URL, require_server
from tests.drills.processes import own_database


def database_at(stack: ExitStack, dialect: str, tmp_path: Path, revision: str, name: str) -> Engine:
    """A fresh SQLite file or PostgreSQL database (`name`, with the pid) upgraded to
    `revision`; dropped and disposed when `stack` closes."""
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        try:
            url = stack.enter_context(own_database(POSTGRES_URL, f"{name}_{os.getpid()}"))
        except OperationalError as exc:
            require_server("PostgreSQL", str(exc).splitlines()[0])
    engine = make_engine(url)
    stack.callback(engine.dispose)
    upgrade(engine, revision)
    return engine
