"""`anniversary`: windows of ±`window_half_days` around key dates (1 July, the Spring
Festival, the political birthday), listed only inside a window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from services.scheduler.tasks.facts import MemberFacts
from services.scheduler.tasks.periods import anniversary
from services.scheduler.tasks.records import AgeGate, RecordSelector
from services.scheduler.tasks.rules import (
    NOTHING_LISTED,
    Assessment,
    EffectiveRule,
    Evaluator,
    RuleRun,
)
from services.scheduler.tasks.strategies.base import RuleNeeds, Strategy, record_needs
from shared.calendars import spring_festival


def key_date(key: str, year: int, join_date: date) -> date | None:
    """The key date `key` (`spring_festival`, `political_birthday` or `MM-DD`) in `year`;
    None for a political birthday in the year of joining or before."""
    if key == "spring_festival":
        return spring_festival(year)
    if key == "political_birthday":
        return anniversary(join_date, year) if year > join_date.year else None
    month, day = (int(x) for x in key.split("-"))
    return date(year, month, day)


class Anniversary(Strategy):
    name = "anniversary"

    def earliest(self, rule: EffectiveRule, as_of: date) -> date:
        return as_of - timedelta(days=2 * int(rule.params["window_half_days"]))

    def needs(self, rule: EffectiveRule, as_of: date, *, tally: bool) -> RuleNeeds:
        return record_needs(rule, self.earliest(rule, as_of))

    def prepare(self, rule: EffectiveRule, run: RuleRun) -> Evaluator:
        p, name, d, explain, listed_only = (
            rule.params,
            rule.name,
            run.as_of,
            run.explain,
            run.listed_only,
        )
        half = timedelta(days=int(p["window_half_days"]))
        gate = AgeGate.of(name, p.get("min_age"), d)
        keys = tuple(p["key_dates"])
        years = (d.year - 1, d.year, d.year + 1)
        records = RecordSelector.of(p)

        def assess_window(facts: MemberFacts, key: str, k: date, dates: list[date]) -> Assessment:
            start, end = k - half, k + half
            done = sum(1 for x in dates if start <= x)
            if not explain:
                return Assessment(name, True, done < 1, start, end, 0, done, 1)
            reason = (
                f"{key} on {k.isoformat()}: {done} {records.describe()} "
                f"in {start.isoformat()}..{d.isoformat()}"
            )
            evidence = records.evidence(facts, start, d)
            return Assessment(name, True, done < 1, start, end, 0, done, 1, evidence, reason)

        def evaluate(facts: MemberFacts) -> Sequence[Assessment]:
            if gate is not None:
                refused = gate.refuse(facts, explain)
                if refused:
                    return NOTHING_LISTED if listed_only else [refused]
            seen: set[date] = set()
            out: list[Assessment] = []
            dates: list[date] | None = None
            for year in years:
                for key in keys:
                    k = key_date(key, year, facts.join_date)
                    if k is None or k in seen or not (k - half <= d <= k + half):
                        continue
                    seen.add(k)
                    if dates is None:
                        dates = records.dates(facts, d)
                    out.append(assess_window(facts, key, k, dates))
            if not out:
                if listed_only:
                    return NOTHING_LISTED
                return [Assessment(name, False, False, reason="no key date within its window of D")]
            return out

        return evaluate
