"""What a strategy answers about itself: its window, the facts it needs, how it evaluates
and how it reports.

A rule row names its strategy; the strategy is the only place that knows what the
row's parameters mean. Adding a strategy is one class here plus its rule rows, and its
registration in `strategies/__init__.py`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from services.scheduler.tasks.records import RecordSelector
from services.scheduler.tasks.rules import EffectiveRule, Evaluator, InteractionWindow, RuleRun


@dataclass(frozen=True, slots=True)
class RuleNeeds:
    """What one rule may read on D (the run's `FactNeeds` is their union)."""

    #: the MemberFacts lists to fill besides `interactions` and `mutes`
    sources: frozenset[str] = frozenset()
    #: interactions read as records, dated from each window's start to D
    windows: tuple[InteractionWindow, ...] = ()
    #: interactions the database counts per member instead (a calendar rule's)
    tally: InteractionWindow | None = None
    #: (since, moves): members with at least `moves` moves in [since, D] are frequent
    #: movers, who need every interaction from the run's earliest date
    movers: tuple[date, int] | None = None


class Strategy(ABC):
    """How the window of every rule of one strategy is computed, read and reported."""

    name: ClassVar[str]
    #: whether a member the strategy applies to is a frequent mover (the report's
    #: "movers without a liaison of their own")
    finds_frequent_movers: ClassVar[bool] = False
    #: whether its window trails the as-of day (ends on it), so that a task is worded as
    #: a cadence and a last contact rather than "N days overdue" (`why`, the digest)
    trails_as_of: ClassVar[bool] = False

    @abstractmethod
    def earliest(self, rule: EffectiveRule, as_of: date) -> date:
        """The earliest record date the rule may count on D."""

    @abstractmethod
    def needs(self, rule: EffectiveRule, as_of: date, *, tally: bool) -> RuleNeeds:
        """The facts the rule may read on D; `tally`: whether the database may count a
        calendar window's interactions rather than read them."""

    @abstractmethod
    def prepare(self, rule: EffectiveRule, run: RuleRun) -> Evaluator:
        """The rule's evaluator on the run's day, with everything per-run worked out."""

    def compliance_windows(
        self, rule: EffectiveRule, start: date, end: date
    ) -> Iterator[tuple[date, date]]:
        """The windows of the rule that overlap a report period [start, end], each judged
        on its last day by the compliance report; none for a strategy without fixed
        windows."""
        return iter(())


def record_needs(rule: EffectiveRule, start: date) -> RuleNeeds:
    """The needs of a rule that reads its records (of its source) from `start` to D."""
    records = RecordSelector.of(rule.params)
    if records.source != "interactions":
        return RuleNeeds(sources=frozenset({records.source}))
    return RuleNeeds(windows=(InteractionWindow(start, records.kinds, records.places),))
