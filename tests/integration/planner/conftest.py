"""Fixtures for the planner: a synthetic county of 300 members in the test database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.integration.planner.ledger import load_synthetic

#: a Monday: the first digest day of the synthetic county's simulated weeks
AS_OF = date(2026, 11, 30)


@pytest.fixture
def ledger(engine: Engine, tmp_path: Path) -> Engine:
    load_synthetic(engine, tmp_path / "ledger", members=300, as_of=AS_OF)
    return engine
