"""`review_cycle`: due `cycle_months` after the latest of issue and reviews, listed from
`lead_days` before (activity certificates)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from services.scheduler.tasks.facts import MemberFacts
from services.scheduler.tasks.periods import add_months_clamped
from services.scheduler.tasks.rules import (
    NOTHING_LISTED,
    Assessment,
    EffectiveRule,
    Evaluator,
    RuleRun,
)
from services.scheduler.tasks.strategies.base import RuleNeeds, Strategy


class ReviewCycle(Strategy):
    name = "review_cycle"

    def earliest(self, rule: EffectiveRule, as_of: date) -> date:
        return as_of  # every review up to D is read, whenever it was

    def needs(self, rule: EffectiveRule, as_of: date, *, tally: bool) -> RuleNeeds:
        return RuleNeeds(sources=frozenset({"reviews"}))

    def prepare(self, rule: EffectiveRule, run: RuleRun) -> Evaluator:
        p, name, d, explain, listed_only = (
            rule.params,
            rule.name,
            run.as_of,
            run.explain,
            run.listed_only,
        )
        months = int(p["cycle_months"])
        lead = timedelta(days=int(p["lead_days"]))

        def evaluate(facts: MemberFacts) -> Sequence[Assessment]:
            candidates = [x for x in facts.reviews if x <= d]
            if facts.certificate_issued_on and facts.certificate_issued_on <= d:
                candidates.append(facts.certificate_issued_on)
            if not candidates:
                if listed_only:
                    return NOTHING_LISTED
                return [Assessment(name, False, False, reason="no activity certificate issued")]
            base = max(candidates)
            due = add_months_clamped(base, months)
            start = due - lead
            listed = d >= start
            overdue = max(0, (d - due).days)
            if not explain:
                if listed_only and not listed:
                    return NOTHING_LISTED
                return [Assessment(name, True, listed, start, due, overdue, 0, 1)]
            reason = (
                f"last issue/review {base.isoformat()}; next review due {due.isoformat()}, "
                f"listed from {start.isoformat()}"
            )
            evidence = tuple(f"{x.isoformat()} review" for x in sorted(facts.reviews) if x <= d)
            return [Assessment(name, True, listed, start, due, overdue, 0, 1, evidence, reason)]

        return evaluate
