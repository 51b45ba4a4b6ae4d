"""The counts `due` takes from the database instead of the records, and the age gate worked
out once per run: both must give what counting and `age_on` give member by member."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduler.tasks.due import member_tasks
from services.scheduler.tasks.evaluation import fact_needs, prepare
from services.scheduler.tasks.facts import MemberFacts
from services.scheduler.tasks.periods import age_on, latest_birth_for_age
from services.scheduler.tasks.rules import InteractionWindow, RuleRun
from tests.unit.scheduler.rulebook import member, rule, tasks_on
from tests.unit.scheduler.test_properties import ALL_RULES, CAMPAIGNS, days, members


def _counted(facts: MemberFacts, window: InteractionWindow, as_of: date) -> int:
    """What the loader's SQL counts: interactions in [start, D] of the window's kinds and
    places."""
    return sum(
        1
        for i in facts.interactions
        if window.start <= i.on <= as_of
        and (window.kinds is None or i.kind in window.kinds)
        and (window.places is None or i.place in window.places)
    )


def _listing(facts: MemberFacts, ctx: RuleRun) -> list[tuple[object, ...]]:
    evaluators = [(prepare(r, ctx), r.priority) for r in ALL_RULES]
    return [tuple(t) for t in member_tasks(facts, evaluators, ctx.as_of)]


def test_the_calendar_rules_interactions_are_counted_not_read() -> None:
    as_of = date(2026, 11, 22)
    needs = fact_needs(ALL_RULES, as_of)
    visit = frozenset({"visit"})
    assert set(needs.tallies) == {
        InteractionWindow(date(2026, 11, 1), None, None),  # monthly contact
        InteractionWindow(date(2026, 10, 1), visit, None),  # quarterly visit
        InteractionWindow(date(2026, 1, 1), visit, None),  # elderly visits
        InteractionWindow(date(2026, 1, 1), visit, frozenset({"home", "workplace"})),
    }
    # Only the key-date visits' window is still read as records.
    assert needs.interactions == (InteractionWindow(as_of - timedelta(days=14), visit, None),)
    assert fact_needs(ALL_RULES, as_of, tally=False).tallies == ()


@settings(max_examples=300, deadline=None)
@given(members(), days)
def test_due_from_the_databases_counts_equals_due_from_counting_the_records(
    facts: MemberFacts, as_of: date
) -> None:
    needs = fact_needs(ALL_RULES, as_of)
    by_records = _listing(facts, RuleRun(as_of, lambda _org: CAMPAIGNS))
    facts.tallies = tuple(_counted(facts, w, as_of) for w in needs.tallies)
    tallied = RuleRun(as_of, lambda _org: CAMPAIGNS, tallies=needs.tallies)
    assert _listing(facts, tallied) == by_records
    # The counts are read, not recounted: counts saying "plenty" leave no calendar task.
    facts.tallies = tuple(99 for _ in needs.tallies)
    calendar = {
        r.name
        for r in ALL_RULES
        if r.strategy == "calendar" and r.params.get("source") == "interactions"
    }
    assert not [t for t in _listing(facts, tallied) if t[1] in calendar]


@settings(max_examples=500, deadline=None)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    st.integers(min_value=1, max_value=100),
)
def test_a_member_is_old_enough_exactly_when_born_by_the_latest_birth_date_for_the_age(
    birth: date, day: date, age: int
) -> None:
    assert (birth <= latest_birth_for_age(age, day)) == (age_on(birth, day) >= age)


def test_the_latest_birth_date_follows_the_leap_day_rule() -> None:
    # A 29 February birthday counts on 28 February in other years.
    assert latest_birth_for_age(79, date(2027, 2, 28)) == date(1948, 2, 29)
    assert latest_birth_for_age(80, date(2028, 2, 28)) == date(1948, 2, 28)
    assert latest_birth_for_age(80, date(2028, 2, 29)) == date(1948, 2, 29)
    assert latest_birth_for_age(80, date(2029, 2, 28)) == date(1949, 2, 28)


def test_nobody_is_old_enough_for_an_age_reaching_back_before_year_one() -> None:
    assert latest_birth_for_age(10_000, date(2026, 11, 22)) is None
    assert latest_birth_for_age(2026, date(2026, 11, 22)) is None
    assert latest_birth_for_age(2025, date(2026, 11, 22)) == date(1, 11, 22)


def test_an_age_threshold_out_of_reach_lists_nothing_for_that_rule() -> None:
    old = member(born=date(1920, 1, 1))
    assert not tasks_on(old, date(2026, 11, 22), rule("elderly_visits", min_age=10_000))
    assert tasks_on(old, date(2026, 11, 22), rule("elderly_visits"))


def test_a_fractional_age_threshold_needs_the_next_whole_year() -> None:
    as_of = date(2026, 11, 22)
    monthly = rule("monthly_contact", min_age=79.5)
    assert not tasks_on(member(born=date(1947, 1, 1)), as_of, monthly)  # aged 79
    assert tasks_on(member(born=date(1946, 1, 1)), as_of, monthly)  # aged 80
