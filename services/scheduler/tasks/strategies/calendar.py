"""`calendar`: the window is the calendar period containing D; listed while it holds fewer
satisfying records than required (monthly contact, quarterly visit, elderly visits…)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from services.scheduler.tasks.facts import MemberFacts
from services.scheduler.tasks.periods import period_bounds
from services.scheduler.tasks.records import AgeGate, RecordSelector
from services.scheduler.tasks.rules import (
    NOTHING_LISTED,
    Assessment,
    EffectiveRule,
    Evaluator,
    InteractionWindow,
    RuleRun,
)
from services.scheduler.tasks.strategies.base import RuleNeeds, Strategy, record_needs


class Calendar(Strategy):
    name = "calendar"

    def earliest(self, rule: EffectiveRule, as_of: date) -> date:
        return period_bounds(as_of, rule.params["period"])[0]

    def needs(self, rule: EffectiveRule, as_of: date, *, tally: bool) -> RuleNeeds:
        start = self.earliest(rule, as_of)
        records = RecordSelector.of(rule.params)
        if tally and records.source == "interactions":
            return RuleNeeds(tally=InteractionWindow(start, records.kinds, records.places))
        return record_needs(rule, start)

    def compliance_windows(
        self, rule: EffectiveRule, start: date, end: date
    ) -> Iterator[tuple[date, date]]:
        window = period_bounds(start, rule.params["period"])
        while window[0] <= end:
            yield window
            window = period_bounds(window[1] + timedelta(days=1), rule.params["period"])

    def prepare(self, rule: EffectiveRule, run: RuleRun) -> Evaluator:
        p, name, as_of, explain, listed_only = (
            rule.params,
            rule.name,
            run.as_of,
            run.explain,
            run.listed_only,
        )
        period = p["period"]
        start, end = period_bounds(as_of, period)
        required = int(p.get("required", 1))
        gate = AgeGate.of(name, p.get("min_age"), as_of)
        records = RecordSelector.of(p)
        # Counted by the loader in the database when it could (`FactNeeds.tallies`); never
        # when explaining, which lists the records themselves.
        slot = None
        if records.source == "interactions" and not explain:
            window = InteractionWindow(start, records.kinds, records.places)
            slot = run.tallies.index(window) if window in run.tallies else None

        def evaluate(facts: MemberFacts) -> Sequence[Assessment]:
            if gate is not None:
                refused = gate.refuse(facts, explain)
                if refused:
                    return NOTHING_LISTED if listed_only else [refused]
            done = facts.tallies[slot] if slot is not None else records.count(facts, start, as_of)
            listed = done < required
            if not explain:
                if listed_only and not listed:
                    return NOTHING_LISTED
                return [Assessment(name, True, listed, start, end, 0, done, required)]
            reason = (
                f"{done} of {required} {records.describe()} in the {period} "
                f"{start.isoformat()}..{end.isoformat()} (counting up to {as_of.isoformat()})"
            )
            evidence = records.evidence(facts, start, as_of)
            return [Assessment(name, True, listed, start, end, 0, done, required, evidence, reason)]

        return evaluate
