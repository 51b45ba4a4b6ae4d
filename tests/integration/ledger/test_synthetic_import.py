"""A synthetic ledger goes through the real importer and drives every rule of `rules.md`.

Runs on SQLite and PostgreSQL (the `engine` fixture): the whole file set must import
without a single problem, row for row, and `due` on the as-of date must list a task of
every rule that is on by default.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from services.scheduler.tasks.due import DueQuery, compute_due
from shared.ledger.importer import import_files
from shared.ledger.synthetic import SyntheticSummary, generate_ledger
from shared.models import Member
from shared.rule_defaults import DEFAULT_RULES

AS_OF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SyntheticSummary:
    return generate_ledger(tmp_path_factory.mktemp("synthetic"), members=2000, seed=1, as_of=AS_OF)


def test_a_synthetic_ledger_imports_whole_and_exercises_every_default_rule(
    engine: Engine, synthetic: SyntheticSummary
) -> None:
    report = import_files(engine, list(synthetic.files))

    assert report.warnings == ()
    assert len(synthetic.rows) > 1
    for kind, rows in synthetic.rows.items():
        assert report.read(kind) == rows, kind
        assert report.written(kind) == rows, kind
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Member)) == synthetic.members
        no_birth_date = select(func.count()).select_from(Member).where(Member.birth_date.is_(None))
        assert conn.scalar(no_birth_date)

    tasks = list(compute_due(engine, DueQuery(AS_OF)))
    rules = Counter(t.rule for t in tasks)
    on_by_default = {r["name"] for r in DEFAULT_RULES if r["enabled"]}
    assert on_by_default <= set(rules), f"rules without a task: {on_by_default - set(rules)}"
    unassigned = {t.member_id for t in tasks if t.liaison_id is None}
    assert len(unassigned) == synthetic.unassigned
    assert any(t.overdue_days > 0 for t in tasks if t.rule == "certificate_review")
    assert any(t.overdue_days > 0 for t in tasks if t.rule == "frequent_mover_contact")


def test_a_synthetic_ledger_passes_a_dry_run_and_writes_nothing(
    engine: Engine, synthetic: SyntheticSummary
) -> None:
    report = import_files(engine, list(synthetic.files), dry_run=True)

    assert report.dry_run and report.read("interactions") == synthetic.rows["interactions"]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Member)) == 0
