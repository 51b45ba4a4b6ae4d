"""Properties of the rule evaluation that must hold for any member and any day."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduler.tasks.facts import CampaignFact, InteractionFact, MemberFacts
from shared.rule_defaults import DEFAULT_RULES
from tests.unit.scheduler.rulebook import rule, tasks_on

ALL_RULES = tuple(rule(r["name"]) for r in DEFAULT_RULES)
CAMPAIGNS = [CampaignFact("C1", "学习", "TH", date(2026, 1, 1), date(2027, 12, 31))]
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
interaction = st.builds(
    InteractionFact,
    days,
    st.sampled_from(["phone", "sms", "wechat", "visit", "meeting", "other"]),
    st.sampled_from([None, "home", "workplace", "other"]),
)


@st.composite
def members(draw: st.DrawFn) -> MemberFacts:
    facts = MemberFacts(
        member_id="M1",
        name="李四",
        home_org="TH-XC-01",
        status="active",
        mobile_since=draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2028, 1, 1))),
        join_date=draw(st.dates(min_value=date(1950, 1, 1), max_value=date(2020, 1, 1))),
        birth_date=draw(st.dates(min_value=date(1930, 1, 1), max_value=date(1990, 1, 1))),
        certificate_issued_on=draw(st.none() | days),
        liaison_id="L1",
    )
    facts.interactions.extend(draw(st.lists(interaction, max_size=12)))
    facts.moves.extend(draw(st.lists(days, max_size=4)))
    facts.reviews.extend(draw(st.lists(days, max_size=3)))
    return facts


def _keys(facts: MemberFacts, as_of: date) -> set[tuple[object, ...]]:
    return {t[:3] for t in tasks_on(facts, as_of, *ALL_RULES, campaigns=CAMPAIGNS)}


@settings(max_examples=400, deadline=None)
@given(members(), interaction, days)
def test_adding_a_satisfying_interaction_never_adds_a_task(
    facts: MemberFacts, extra: InteractionFact, as_of: date
) -> None:
    before = _keys(facts, as_of)
    facts.interactions.append(extra)
    after = _keys(facts, as_of)
    assert after <= before


@settings(max_examples=200, deadline=None)
@given(members(), days, st.integers(min_value=1, max_value=400))
def test_interactions_dated_after_the_as_of_day_change_nothing(
    facts: MemberFacts, as_of: date, later_by: int
) -> None:
    before = tasks_on(facts, as_of, *ALL_RULES, campaigns=CAMPAIGNS)
    facts.interactions.append(InteractionFact(as_of + timedelta(days=later_by), "visit", "home"))
    facts.reviews.append(as_of + timedelta(days=later_by))
    assert tasks_on(facts, as_of, *ALL_RULES, campaigns=CAMPAIGNS) == before
