"""A run of rules (rules.md, "Exact semantics"): its evaluators, and the facts it needs.

Each rule row names a *strategy* (`strategies/`), which prepares the rule once for a run
(its window for the as-of day, its record filter, its counts) and returns an evaluator
that turns one member's facts into assessments. `liaison due` lists the assessments
that are `listed`; `liaison why` prints all of them with their evidence; `liaison
report` evaluates each calendar window on its last day. All three go through `prepare`,
so they cannot disagree. Before any member is read, the rules in play say what they can
possibly count on D (`fact_needs`, `earliest_needed`), for the loader to read no more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from services.scheduler.tasks.facts import MemberFacts
from services.scheduler.tasks.rules import (
    Assessment,
    EffectiveRule,
    Evaluator,
    InteractionWindow,
    RuleRun,
)
from services.scheduler.tasks.strategies import strategy_of

#: every MemberFacts list a rule may count, besides interactions
ALL_SOURCES = frozenset({"moves", "reviews", "verifications", "attendance", "delivered_campaigns"})


def prepare(rule: EffectiveRule, run: RuleRun) -> Evaluator:
    """The evaluator of `rule` on the run's day, with everything per-run worked out."""
    if not rule.enabled:
        off = [Assessment(rule.name, False, False, reason="rule is off for this organization")]
        return lambda _facts: list(off)
    return strategy_of(rule).prepare(rule, run)


def assess(rule: EffectiveRule, facts: MemberFacts, run: RuleRun) -> list[Assessment]:
    """Every assessment `rule` makes of the member (several for key dates and campaigns)."""
    return list(prepare(rule, run)(facts))


def earliest_needed(rules: Iterable[EffectiveRule], as_of: date) -> date:
    """The earliest record date any of `rules` may count on D: the loader reads from here."""
    return min((strategy_of(rule).earliest(rule, as_of) for rule in rules), default=as_of)


@dataclass(frozen=True, slots=True)
class FactNeeds:
    """The facts `rules` may look at on D, for the loader to read no more than those.

    Every evaluator counts records of its own selector within its own window, so each
    member needs only the union of the rules' (window, selector) pairs, dated from the
    loader's `earliest` (see `earliest_needed`) to D. A calendar rule needs no record at
    all, only how many there are in its window: the database counts those (`tallies`), and
    the interactions read as records are only the other rules' windows. The exception is a
    frequent mover: the rolling rule's last contact is the latest interaction of any kind,
    so a member who may be one gets every interaction from `earliest`.
    """

    #: the MemberFacts lists to fill besides `interactions` and `mutes` (always read)
    sources: frozenset[str]
    #: the interactions every member needs (their union); None: all from `earliest`
    interactions: tuple[InteractionWindow, ...] | None
    #: (since, moves): members with at least `moves` moves in [since, D] may be frequent
    #: movers, and need every interaction from `earliest` (and their last contact before it
    #: when they have none in range); None: no rolling rule is in play
    movers: tuple[date, int] | None
    #: the windows whose interactions (dated up to D) the loader counts for each member,
    #: in `MemberFacts.tallies`' order
    tallies: tuple[InteractionWindow, ...] = ()


#: what a loader reads when it is told nothing of the rules: every fact
ALL_FACTS = FactNeeds(ALL_SOURCES, None, (date.min, 1))


def fact_needs(rules: Iterable[EffectiveRule], as_of: date, *, tally: bool = True) -> FactNeeds:
    """What the enabled `rules` may read on `as_of` (see FactNeeds): the union of what
    each rule's strategy says it needs. `tally`: whether the calendar rules'
    interactions are to be counted by the database rather than read."""
    sources: set[str] = set()
    windows: list[InteractionWindow] = []
    tallies: set[InteractionWindow] = set()
    movers: tuple[date, int] | None = None
    for rule in rules:
        if not rule.enabled:
            continue
        needs = strategy_of(rule).needs(rule, as_of, tally=tally)
        sources |= needs.sources
        windows.extend(needs.windows)
        if needs.tally is not None:
            tallies.add(needs.tally)
        if needs.movers is not None:
            since, least = needs.movers
            if movers is not None:
                since, least = min(since, movers[0]), min(least, movers[1])
            movers = (since, least)
    # With no move needed, every member is a frequent mover: every last contact counts.
    narrow = movers is None or movers[1] > 0
    return FactNeeds(
        frozenset(sources),
        widest(windows) if narrow else None,
        movers,
        tuple(sorted(tallies, key=_window_order)),
    )


def widest(windows: Iterable[InteractionWindow]) -> tuple[InteractionWindow, ...]:
    """The windows no other of them covers: the same interactions, asked for in fewer
    conditions."""
    kept: list[InteractionWindow] = []
    for w in sorted(set(windows), key=_window_order):
        if not any(k.covers(w) for k in kept):
            kept.append(w)
    return tuple(kept)


def _window_order(
    w: InteractionWindow,
) -> tuple[date, bool, tuple[str, ...], bool, tuple[str, ...]]:
    """Widest first (earliest start, any kind), then a fixed order, so that a run's SQL
    and its tallies' order do not depend on set iteration."""
    return (
        w.start,
        w.kinds is not None,
        tuple(sorted(w.kinds or ())),
        w.places is not None,
        tuple(sorted(w.places or ())),
    )
