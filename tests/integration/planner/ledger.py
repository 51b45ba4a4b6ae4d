"""A synthetic county ledger in the test database, and the messaging policy rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, insert, select

from services.notifier import SMS_ROUTE_ROW
from services.scheduler.planning.message_policy import MESSAGE_RULES
from shared.ledger.importer import import_files
from shared.ledger.synthetic import generate_ledger
from shared.models import Rule


def seed_message_rules(engine: Engine) -> None:
    """The rows migrations 0003 and 0006 seed (the shared test reset re-seeds only the task
    rules)."""
    with engine.begin() as conn:
        have = set(conn.scalars(select(Rule.name)))
        rows = [r for r in (*MESSAGE_RULES, SMS_ROUTE_ROW) if r["name"] not in have]
        if rows:
            conn.execute(insert(Rule), rows)


def load_synthetic(engine: Engine, folder: Path, *, members: int, as_of: date) -> None:
    summary = generate_ledger(folder, members=members, as_of=as_of)
    import_files(engine, list(summary.files))
    seed_message_rules(engine)
