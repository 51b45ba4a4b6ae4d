"""A rule row naming a strategy liaison does not know stops the policy from loading.

Before, such a row was silently left out of every listing (and the loader, not knowing
what it needed, read every fact of every member); now `liaison due` says which rule and
which strategy, in one line, and lists nothing.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from services.scheduler.tasks.due import DueQuery, compute_due
from services.scheduler.tasks.policy import PolicyBook
from services.scheduler.tasks.strategies import TASK_STRATEGIES, UnknownStrategy
from shared.db import transaction
from shared.models import Rule
from shared.org_tree import OrgTree
from tests.integration.scheduler.ledger import build_ledger

LIAISON = str(Path(sys.executable).with_name("liaison"))
AS_OF = date(2026, 11, 22)


def misname_a_strategy(engine: Engine) -> None:
    with transaction(engine) as session:
        session.execute(
            update(Rule).where(Rule.name == "quarterly_visit").values(strategy="lunar_calendar")
        )


def test_every_default_rule_names_a_known_strategy(engine: Engine) -> None:
    with Session(engine) as session:
        book = PolicyBook.load(session)
    strategies = {r.strategy for r in book.rules}
    assert strategies >= set(TASK_STRATEGIES), "the defaults use every task strategy"


def test_loading_a_policy_with_an_unknown_strategy_raises_naming_rule_and_strategy(
    engine: Engine,
) -> None:
    misname_a_strategy(engine)
    with Session(engine) as session, pytest.raises(UnknownStrategy) as raised:
        PolicyBook.load(session, OrgTree.load(session))
    assert "'quarterly_visit'" in str(raised.value)
    assert "'lunar_calendar'" in str(raised.value)
    with pytest.raises(UnknownStrategy):
        list(compute_due(engine, DueQuery(AS_OF)))


def test_liaison_due_with_an_unknown_strategy_exits_with_one_line_and_lists_nothing(
    engine: Engine, liaison_env: dict[str, str]
) -> None:
    build_ledger(engine, seed=31, members=20, as_of=AS_OF)
    misname_a_strategy(engine)
    done = subprocess.run(
        [LIAISON, "due", "--as-of", AS_OF.isoformat(), "--format", "jsonl"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "quarterly_visit" in lines[0] and "lunar_calendar" in lines[0]
    assert "Traceback" not in done.stderr
