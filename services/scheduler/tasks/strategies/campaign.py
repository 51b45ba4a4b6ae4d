"""`campaign`: one task per active study campaign of the home branch or an ancestor,
listed until the member's materials are recorded as delivered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from services.scheduler.tasks.facts import MemberFacts
from services.scheduler.tasks.rules import (
    NOTHING_LISTED,
    Assessment,
    EffectiveRule,
    Evaluator,
    RuleRun,
)
from services.scheduler.tasks.strategies.base import RuleNeeds, Strategy


class Campaign(Strategy):
    name = "campaign"

    def earliest(self, rule: EffectiveRule, as_of: date) -> date:
        return as_of  # a delivery counts whenever it was recorded

    def needs(self, rule: EffectiveRule, as_of: date, *, tally: bool) -> RuleNeeds:
        return RuleNeeds(sources=frozenset({"delivered_campaigns"}))

    def prepare(self, rule: EffectiveRule, run: RuleRun) -> Evaluator:
        name, explain, campaigns_for, listed_only = (
            rule.name,
            run.explain,
            run.campaigns_for,
            run.listed_only,
        )

        def evaluate(facts: MemberFacts) -> Sequence[Assessment]:
            campaigns = campaigns_for(facts.home_org)
            if not campaigns:
                if listed_only:
                    return NOTHING_LISTED
                return [
                    Assessment(name, False, False, reason="no study campaign active for the branch")
                ]
            out = []
            for c in campaigns:
                delivered = c.campaign_id in facts.delivered_campaigns
                reason = ""
                if explain:
                    status = "materials delivered" if delivered else "no delivery recorded"
                    reason = f"campaign {c.campaign_id} ({c.title}) of {c.org}: {status}"
                out.append(
                    Assessment(
                        name, True, not delivered, c.start, c.end, 0, int(delivered), 1, (), reason
                    )
                )
            return out

        return evaluate
