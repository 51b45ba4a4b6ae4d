"""A 10,000-member county ledger from `demo-data` imports, and export → import → export
gives byte-identical CSV, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from shared.ledger.exporter import export_kind
from shared.ledger.importer import import_files
from shared.models import Interaction, Member
from tests.conftest import reset_database


@pytest.mark.slow
def test_a_county_ledger_round_trips_to_identical_bytes(
    engine: Engine, county_ledger: list[Path], tmp_path: Path
) -> None:
    report = import_files(engine, county_ledger)
    assert report.written("members") == 10_000
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Member)) == 10_000
        interactions = conn.scalar(select(func.count()).select_from(Interaction))
    assert interactions == report.read("interactions") > 100_000
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    export_kind(engine, "all", "csv", first, full=True)
    reset_database(engine)
    import_files(engine, sorted(first.glob("*.csv")))
    export_kind(engine, "all", "csv", second, full=True)
    names = sorted(p.name for p in first.glob("*.csv"))
    assert names == sorted(p.name for p in second.glob("*.csv"))
    assert "members.csv" in names and "interactions.csv" in names
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
