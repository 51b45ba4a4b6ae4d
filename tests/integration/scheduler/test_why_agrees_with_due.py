"""`liaison why` and `liaison due` agree for every member of a 10,000-member county ledger."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.scheduler.tasks.due import DueQuery, compute_due
from services.scheduler.tasks.why import Explainer
from shared.ledger.importer import import_files

AS_OF = date(2026, 11, 22)
MEMBERS = 10_000


@pytest.mark.slow
def test_why_agrees_with_due_for_every_member_of_a_county_ledger(
    engine: Engine, county_ledger: list[Path]
) -> None:
    import_files(engine, county_ledger)
    due = Counter(
        (t.member_id, t.rule, t.window_start, t.window_end, t.overdue_days, t.done, t.required)
        for t in compute_due(engine, DueQuery(AS_OF))
    )
    explainer = Explainer(engine, AS_OF)
    explained: Counter[tuple[object, ...]] = Counter()
    for n in range(MEMBERS):
        member_id = f"M{n + 1:07d}"
        for a in explainer.explain(member_id).listed:
            explained[
                (
                    member_id,
                    a.rule,
                    a.window_start,
                    a.window_end,
                    a.overdue_days,
                    a.done,
                    a.required,
                )
            ] += 1
    assert len(due) > MEMBERS // 2  # a realistic county has plenty open
    assert explained == due
