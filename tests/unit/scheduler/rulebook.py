"""Builders for the rule-evaluation tests: the default rules and members as plain facts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from services.scheduler.tasks.due import member_tasks
from services.scheduler.tasks.evaluation import prepare
from services.scheduler.tasks.facts import CampaignFact, InteractionFact, MemberFacts
from services.scheduler.tasks.rules import EffectiveRule, RuleRun
from shared.rule_defaults import DEFAULT_RULES


def rule(name: str, **overrides: Any) -> EffectiveRule:
    row = next(r for r in DEFAULT_RULES if r["name"] == name)
    params = {**row["params"], **{k: v for k, v in overrides.items() if k != "enabled"}}
    return EffectiveRule(
        name, row["strategy"], overrides.get("enabled", True), params, row["priority"]
    )


def member(
    *,
    born: date = date(1985, 6, 1),
    joined: date = date(2010, 7, 1),
    mobile_since: date = date(2020, 1, 1),
    status: str = "active",
    interactions: Sequence[tuple[date, str] | tuple[date, str, str]] = (),
    moves: Sequence[date] = (),
    reviews: Sequence[date] = (),
    certificate: date | None = None,
    delivered: Sequence[str] = (),
    mutes: Sequence[tuple[date, date | None]] = (),
    liaison: str | None = "L01",
    org: str = "TH-XC-01",
) -> MemberFacts:
    facts = MemberFacts(
        member_id="M0001",
        name="张三",
        home_org=org,
        status=status,
        mobile_since=mobile_since,
        join_date=joined,
        birth_date=born,
        certificate_issued_on=certificate,
        liaison_id=liaison,
    )
    for item in interactions:
        place = item[2] if len(item) == 3 else None  # type: ignore[misc]
        facts.interactions.append(InteractionFact(item[0], item[1], place))
    facts.moves.extend(moves)
    facts.reviews.extend(reviews)
    facts.delivered_campaigns.update(delivered)
    facts.mutes.extend(mutes)
    return facts


def tasks_on(
    facts: MemberFacts,
    as_of: date,
    *rules: EffectiveRule,
    campaigns: Sequence[CampaignFact] = (),
) -> list[tuple[str, str | None, str | None, int, int, int]]:
    """(rule, window_start, window_end, overdue_days, done, required) of each listed task."""
    run = RuleRun(as_of, lambda _org: list(campaigns))
    return [
        (
            t.rule,
            t.window_start.isoformat() if t.window_start else None,
            t.window_end.isoformat() if t.window_end else None,
            t.overdue_days,
            t.done,
            t.required,
        )
        for t in member_tasks(facts, [(prepare(r, run), r.priority) for r in rules], as_of)
    ]
