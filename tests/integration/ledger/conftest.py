"""Helpers for the ledger tests: row counts and a fresh ledger between steps."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from shared.ledger.exporter import export_kind
from shared.ledger.kinds import KINDS
from shared.ledger.storage import table_for
from tests.integration.ledger.sample import LEDGER


def ledger_rows(engine: Engine) -> dict[str, int]:
    """Rows per ledger kind (the seeded `rules` table is not ledger data)."""
    with engine.connect() as conn:
        return {
            k.name: conn.execute(select(func.count()).select_from(table_for(k))).scalar_one()
            for k in KINDS
        }


def clear_ledger(engine: Engine) -> None:
    """Delete every ledger row, the kinds that refer to others first."""
    with engine.begin() as conn:
        for kind in reversed(KINDS):
            conn.execute(table_for(kind).delete())


def export_bytes(engine: Engine, directory: Path) -> dict[str, bytes]:
    """The full CSV export of every kind, file name → bytes."""
    export_kind(engine, "all", "csv", directory, full=True)
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.csv"))}


@pytest.fixture
def ledger() -> dict[str, list[dict[str, object]]]:
    """A private copy of the sample ledger, for a test to spoil."""
    return copy.deepcopy(LEDGER)


@pytest.fixture
def fresh(engine: Engine) -> Callable[[], None]:
    """Empty the ledger again (as the `engine` fixture left it)."""
    return lambda: clear_ledger(engine)
