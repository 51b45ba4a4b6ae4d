"""The strategies a rule row may name, one object each (see `base.Strategy`).

`rules` rows of the strategy `message` are messaging policy (digest schedules, quiet
hours; `planning/message_policy.py`), not tasks: they share the table and its
overrides, and no strategy here evaluates them. Any other name is an error when the
policy is loaded (`UnknownStrategy`), never a rule silently skipped or read in full.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from services.scheduler.tasks.rules import EffectiveRule
from services.scheduler.tasks.strategies.anniversary import Anniversary
from services.scheduler.tasks.strategies.base import RuleNeeds, Strategy
from services.scheduler.tasks.strategies.calendar import Calendar
from services.scheduler.tasks.strategies.campaign import Campaign
from services.scheduler.tasks.strategies.review_cycle import ReviewCycle
from services.scheduler.tasks.strategies.rolling import Rolling
from shared.errors import LiaisonError

MESSAGE_STRATEGY = "message"  #: the rows of messaging policy (not tasks)

#: every task strategy by the name its rule rows give
TASK_STRATEGIES: Mapping[str, Strategy] = MappingProxyType(
    {s.name: s for s in (Calendar(), Rolling(), Anniversary(), ReviewCycle(), Campaign())}
)

__all__ = [
    "MESSAGE_STRATEGY",
    "TASK_STRATEGIES",
    "RuleNeeds",
    "Strategy",
    "UnknownStrategy",
    "check_strategy",
    "is_task",
    "strategy_of",
]


class UnknownStrategy(LiaisonError):
    """Raised when a rule row names a strategy that no class implements."""


def check_strategy(rule: str, strategy: str) -> None:
    """Refuse a rule row whose strategy is neither a task strategy nor messaging policy."""
    if strategy not in TASK_STRATEGIES and strategy != MESSAGE_STRATEGY:
        known = ", ".join([*TASK_STRATEGIES, MESSAGE_STRATEGY])
        raise UnknownStrategy(
            f"rule {rule!r} names the strategy {strategy!r}, which liaison does not know; "
            f"strategies: {known}"
        )


def is_task(strategy: str) -> bool:
    """Whether rows of `strategy` make tasks (rather than messaging policy)."""
    return strategy in TASK_STRATEGIES


def strategy_of(rule: EffectiveRule) -> Strategy:
    """The strategy of a task rule (checked when the policy was loaded)."""
    found = TASK_STRATEGIES.get(rule.strategy)
    if found is None:
        check_strategy(rule.name, rule.strategy)
        raise UnknownStrategy(f"rule {rule.name!r} is messaging policy, not a task")
    return found
