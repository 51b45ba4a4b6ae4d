"""Adding a strategy is one class plus its rule rows: nothing else in the scheduler changes.

A toy `weekly` strategy (the ISO week containing D; listed while fewer than `required`
phone calls fall in it) is registered beside the real ones, a rule row names it, and
`due` lists its tasks, reading the calls the strategy says it needs and nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from types import MappingProxyType

import pytest
from sqlalchemy import Engine, insert

from services.scheduler.tasks import strategies
from services.scheduler.tasks.due import DueQuery, compute_due
from services.scheduler.tasks.facts import MemberFacts
from services.scheduler.tasks.records import RecordSelector
from services.scheduler.tasks.rules import (
    NOTHING_LISTED,
    Assessment,
    EffectiveRule,
    Evaluator,
    RuleRun,
)
from services.scheduler.tasks.strategies.base import RuleNeeds, Strategy, record_needs
from shared.db import transaction
from shared.models import Interaction, Rule
from tests.integration.scheduler.ledger import build_ledger

AS_OF = date(2026, 11, 26)  # a Thursday: the week is 2026-11-23..2026-11-29


class Weekly(Strategy):
    name = "weekly"

    def earliest(self, rule: EffectiveRule, as_of: date) -> date:
        return as_of - timedelta(days=as_of.weekday())

    def needs(self, rule: EffectiveRule, as_of: date, *, tally: bool) -> RuleNeeds:
        return record_needs(rule, self.earliest(rule, as_of))

    def prepare(self, rule: EffectiveRule, run: RuleRun) -> Evaluator:
        start = self.earliest(rule, run.as_of)
        end = start + timedelta(days=6)
        records, required = RecordSelector.of(rule.params), int(rule.params["required"])

        def evaluate(facts: MemberFacts) -> Sequence[Assessment]:
            done = records.count(facts, start, run.as_of)
            if done >= required and run.listed_only:
                return NOTHING_LISTED
            return [Assessment(rule.name, True, done < required, start, end, 0, done, required)]

        return evaluate


@pytest.fixture
def weekly(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = {**strategies.TASK_STRATEGIES, Weekly.name: Weekly()}
    monkeypatch.setattr(strategies, "TASK_STRATEGIES", MappingProxyType(registry))


def test_a_strategy_added_as_one_class_and_a_rule_row_lists_its_tasks(
    engine: Engine, weekly: None
) -> None:
    build_ledger(engine, seed=41, members=40, as_of=AS_OF)
    params = {"required": 1, "kinds": ["phone"]}
    with transaction(engine) as session:
        session.execute(
            insert(Rule).values(
                name="weekly_call", strategy="weekly", enabled=True, priority=95, params=params
            )
        )
    everyone = [t for t in compute_due(engine, DueQuery(AS_OF)) if t.rule == "weekly_call"]
    assert everyone, "members without a call this week have a weekly task"
    assert {(t.window_start, t.window_end) for t in everyone} == {
        (date(2026, 11, 23), date(2026, 11, 29))
    }
    called = everyone[0].member_id
    with transaction(engine) as session:
        session.execute(
            insert(Interaction).values(
                member_id=called, kind="phone", on_date=date(2026, 11, 24), source="cli"
            )
        )
    after = [t for t in compute_due(engine, DueQuery(AS_OF)) if t.rule == "weekly_call"]
    assert [t.member_id for t in after] == [t.member_id for t in everyone if t.member_id != called]
