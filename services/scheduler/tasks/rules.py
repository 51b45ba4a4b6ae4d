"""What a rule is and what it says of a member: the values every strategy shares.

A rule row with the parameters in force for one organization (`EffectiveRule`), one run
of the rules on an as-of day (`RuleRun`), and a rule's verdict on one member
(`Assessment`). The strategies (`strategies/`) turn the first two into evaluators of the
third; `scope` says whether a member is concerned at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from services.scheduler.tasks.facts import CampaignFact, MemberFacts


@dataclass(frozen=True, slots=True)
class EffectiveRule:
    """A rule with the parameters in force for one organization."""

    name: str
    strategy: str
    enabled: bool
    params: Mapping[str, Any]
    priority: int


class Assessment(NamedTuple):
    """One rule's verdict on one member for the as-of day.

    A named tuple, not a frozen dataclass: `due` builds millions of them, and a frozen
    dataclass pays for every field it sets.
    """

    rule: str
    applies: bool  #: whether the rule concerns this member on D at all
    listed: bool  #: whether an open task is listed
    window_start: date | None = None
    window_end: date | None = None
    overdue_days: int = 0
    done: int = 0
    required: int = 1
    evidence: tuple[str, ...] = ()  #: the records counted (only when explaining)
    reason: str = ""  #: a sentence for `liaison why` (only when explaining)


@dataclass(frozen=True, slots=True)
class InteractionWindow:
    """Interactions a rule may count: dated from `start` (to D), of these kinds and places
    (None: any)."""

    start: date
    kinds: frozenset[str] | None
    places: frozenset[str] | None

    def covers(self, other: InteractionWindow) -> bool:
        """Whether every interaction `other` asks for is also asked for here."""
        return (
            self.start <= other.start
            and (self.kinds is None or (other.kinds is not None and other.kinds <= self.kinds))
            and (self.places is None or (other.places is not None and other.places <= self.places))
        )


@dataclass(frozen=True, slots=True)
class RuleRun:
    """One run of the rules on an as-of day: what every evaluator of the run shares."""

    as_of: date
    #: the study campaigns active on D for a member's home organization (ancestors included)
    campaigns_for: Callable[[str], Sequence[CampaignFact]]
    explain: bool = False
    #: `due`: evaluators may leave out every assessment that lists nothing (most of them;
    #: a province-wide run would build millions only to drop them)
    listed_only: bool = False
    #: the windows whose interactions the loader counted in the database (`FactNeeds.tallies`),
    #: in `MemberFacts.tallies`' order: a calendar rule whose window is one of them reads its
    #: count there instead of counting the member's interactions
    tallies: tuple[InteractionWindow, ...] = ()


Evaluator = Callable[[MemberFacts], Sequence[Assessment]]
NOTHING_LISTED: tuple[Assessment, ...] = ()


def scope(facts: MemberFacts, as_of: date) -> tuple[bool, str]:
    """Whether the member is in scope on D, and why not when not."""
    if facts.status != "active":
        return False, f"status is {facts.status}"
    if facts.mobile_since > as_of:
        return False, f"mobile only from {facts.mobile_since.isoformat()}"
    for start, end in facts.mutes:
        if start <= as_of and (end is None or as_of <= end):
            until = end.isoformat() if end else "further notice"
            return False, f"muted from {start.isoformat()} to {until}"
    return True, "active and mobile"
