"""`rolling`: a trailing window of `interval_days` for members who moved `min_moves` times
within `moves_lookback_days` (frequent movers)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from services.scheduler.tasks.facts import MemberFacts
from services.scheduler.tasks.records import RecordSelector
from services.scheduler.tasks.rules import (
    NOTHING_LISTED,
    Assessment,
    EffectiveRule,
    Evaluator,
    RuleRun,
)
from services.scheduler.tasks.strategies.base import RuleNeeds, Strategy


def _lookback_start(rule: EffectiveRule, as_of: date) -> date:
    return as_of - timedelta(days=int(rule.params["moves_lookback_days"]) - 1)


class Rolling(Strategy):
    name = "rolling"
    finds_frequent_movers = True
    trails_as_of = True

    def earliest(self, rule: EffectiveRule, as_of: date) -> date:
        interval_start = as_of - timedelta(days=int(rule.params["interval_days"]) - 1)
        return min(as_of, interval_start, _lookback_start(rule, as_of))

    def needs(self, rule: EffectiveRule, as_of: date, *, tally: bool) -> RuleNeeds:
        # A frequent mover's last contact is the latest interaction of any kind: movers
        # get every interaction from the run's earliest date, not a window's.
        source = rule.params.get("source", "interactions")
        sources = {"moves"} | ({source} if source != "interactions" else set())
        movers = (_lookback_start(rule, as_of), int(rule.params["min_moves"]))
        return RuleNeeds(sources=frozenset(sources), movers=movers)

    def prepare(self, rule: EffectiveRule, run: RuleRun) -> Evaluator:
        p, name, d, explain, listed_only = (
            rule.params,
            rule.name,
            run.as_of,
            run.explain,
            run.listed_only,
        )
        lookback_start = _lookback_start(rule, d)
        min_moves = int(p["min_moves"])
        interval = timedelta(days=int(p["interval_days"]))
        start = d - interval + timedelta(days=1)
        required = int(p.get("required", 1))
        records = RecordSelector.of(p)

        def evaluate(facts: MemberFacts) -> Sequence[Assessment]:
            moves = sum(1 for m in facts.moves if lookback_start <= m <= d)
            if moves < min_moves:
                if not explain:
                    return NOTHING_LISTED if listed_only else [Assessment(name, False, False)]
                reason = f"{moves} move(s) since {lookback_start.isoformat()}; needs {min_moves}"
                return [Assessment(name, False, False, reason=reason)]
            dates = records.dates(facts, d)
            done = sum(1 for x in dates if x >= start)
            listed = done < required
            last = max(dates, default=None) or facts.earlier_interaction
            overdue = max(0, (d - (last + interval)).days) if (listed and last) else 0
            if not explain:
                return [Assessment(name, True, listed, start, d, overdue, done, required)]
            last_text = last.isoformat() if last else "none recorded"
            reason = (
                f"{moves} moves since {lookback_start.isoformat()}; {done} {records.describe()} "
                f"in {start.isoformat()}..{d.isoformat()}; last contact {last_text}"
            )
            evidence = records.evidence(facts, start, d)
            return [
                Assessment(name, True, listed, start, d, overdue, done, required, evidence, reason)
            ]

        return evaluate
