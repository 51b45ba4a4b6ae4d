"""Every rule of rules.md at its edges, as pure evaluations of one member's facts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.scheduler.tasks.facts import CampaignFact
from services.scheduler.tasks.periods import age_on, anniversary, period_bounds
from services.scheduler.tasks.rules import scope
from shared.calendars import spring_festival
from shared.clock import FixedClock, local_today
from tests.unit.scheduler.rulebook import member, rule, tasks_on

D = date

# -- calendar rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "contacts", "expected"),
    [
        # nothing this month: due, window is the calendar month
        (
            D(2026, 11, 22),
            [D(2026, 10, 31)],
            [("monthly_contact", "2026-11-01", "2026-11-30", 0, 0, 1)],
        ),
        # a contact on the first day of the month satisfies it
        (D(2026, 11, 22), [D(2026, 11, 1)], []),
        # a contact on the as-of day itself counts
        (D(2026, 11, 22), [D(2026, 11, 22)], []),
        # a contact after the as-of day is ignored
        (
            D(2026, 11, 22),
            [D(2026, 11, 23)],
            [("monthly_contact", "2026-11-01", "2026-11-30", 0, 0, 1)],
        ),
        # the last day of a month belongs to that month; the next day starts a new window
        (D(2026, 11, 30), [D(2026, 11, 30)], []),
        (
            D(2026, 12, 1),
            [D(2026, 11, 30)],
            [("monthly_contact", "2026-12-01", "2026-12-31", 0, 0, 1)],
        ),
        # February of a leap year ends on the 29th
        (D(2028, 2, 29), [], [("monthly_contact", "2028-02-01", "2028-02-29", 0, 0, 1)]),
    ],
)
def test_monthly_contact_is_due_until_an_interaction_in_the_calendar_month(
    as_of: date, contacts: list[date], expected: list[tuple[object, ...]]
) -> None:
    facts = member(interactions=[(c, "phone") for c in contacts])
    assert tasks_on(facts, as_of, rule("monthly_contact")) == expected


@pytest.mark.parametrize(
    ("as_of", "interactions", "expected"),
    [
        (D(2026, 12, 31), [(D(2026, 10, 1), "visit")], []),
        (
            D(2026, 12, 31),
            [(D(2026, 9, 30), "visit")],
            [("quarterly_visit", "2026-10-01", "2026-12-31", 0, 0, 1)],
        ),
        # a phone call is not a visit
        (
            D(2026, 11, 5),
            [(D(2026, 11, 1), "phone")],
            [("quarterly_visit", "2026-10-01", "2026-12-31", 0, 0, 1)],
        ),
        (
            D(2027, 1, 1),
            [(D(2026, 12, 31), "visit")],
            [("quarterly_visit", "2027-01-01", "2027-03-31", 0, 0, 1)],
        ),
        (D(2026, 4, 1), [], [("quarterly_visit", "2026-04-01", "2026-06-30", 0, 0, 1)]),
    ],
)
def test_quarterly_visit_needs_a_visit_in_the_calendar_quarter(
    as_of: date, interactions: list[tuple[date, str]], expected: list[tuple[object, ...]]
) -> None:
    assert tasks_on(member(interactions=interactions), as_of, rule("quarterly_visit")) == expected


def test_annual_site_visit_needs_a_visit_at_the_workplace_or_home() -> None:
    r = rule("annual_site_visit")
    elsewhere = member(interactions=[(D(2026, 3, 1), "visit", "other")])
    at_home = member(interactions=[(D(2026, 3, 1), "visit", "home")])
    a_call_at_work = member(interactions=[(D(2026, 3, 1), "phone", "workplace")])
    last_year = member(interactions=[(D(2025, 12, 31), "visit", "workplace")])
    due = [("annual_site_visit", "2026-01-01", "2026-12-31", 0, 0, 1)]
    assert tasks_on(elsewhere, D(2026, 11, 22), r) == due
    assert tasks_on(at_home, D(2026, 11, 22), r) == []
    assert tasks_on(a_call_at_work, D(2026, 11, 22), r) == due
    assert tasks_on(last_year, D(2026, 11, 22), r) == due


def test_the_period_is_the_one_containing_the_local_day_in_the_organizations_time_zone() -> None:
    # 16:30 UTC on 30 September is already 1 October in Shanghai: the month is October there.
    instant = FixedClock(datetime(2026, 9, 30, 16, 30, tzinfo=UTC))
    shanghai = local_today(instant, "Asia/Shanghai")
    london = local_today(instant, "Europe/London")
    assert shanghai == D(2026, 10, 1)
    assert london == D(2026, 9, 30)
    facts = member(interactions=[(D(2026, 9, 15), "phone")])
    assert tasks_on(facts, shanghai, rule("monthly_contact")) == [
        ("monthly_contact", "2026-10-01", "2026-10-31", 0, 0, 1)
    ]
    assert tasks_on(facts, london, rule("monthly_contact")) == []


@pytest.mark.parametrize(
    ("day", "period", "bounds"),
    [
        (D(2026, 2, 14), "month", (D(2026, 2, 1), D(2026, 2, 28))),
        (D(2026, 6, 30), "quarter", (D(2026, 4, 1), D(2026, 6, 30))),
        (D(2026, 7, 1), "half", (D(2026, 7, 1), D(2026, 12, 31))),
        (D(2026, 6, 30), "half", (D(2026, 1, 1), D(2026, 6, 30))),
        (D(2024, 12, 31), "year", (D(2024, 1, 1), D(2024, 12, 31))),
    ],
)
def test_periods_are_calendar_periods(day: date, period: str, bounds: tuple[date, date]) -> None:
    assert period_bounds(day, period) == bounds


# -- scope --------------------------------------------------------------------------------


def test_a_member_registered_part_way_through_a_period_is_due_in_that_period() -> None:
    facts = member(mobile_since=D(2026, 11, 20))
    assert tasks_on(facts, D(2026, 11, 22), rule("monthly_contact")) == [
        ("monthly_contact", "2026-11-01", "2026-11-30", 0, 0, 1)
    ]
    assert tasks_on(facts, D(2026, 11, 19), rule("monthly_contact")) == []


@pytest.mark.parametrize("status", ["returned", "transferred", "deceased"])
def test_members_who_are_no_longer_mobile_have_no_tasks(status: str) -> None:
    facts = member(status=status)
    assert tasks_on(facts, D(2026, 11, 22), rule("monthly_contact"), rule("quarterly_visit")) == []
    assert scope(facts, D(2026, 11, 22)) == (False, f"status is {status}")


def test_a_muted_member_has_no_tasks_on_the_days_inside_the_span_only() -> None:
    facts = member(mutes=[(D(2026, 11, 1), D(2026, 11, 30))])
    r = rule("monthly_contact")
    assert tasks_on(facts, D(2026, 11, 30), r) == []
    assert tasks_on(facts, D(2026, 12, 1), r) == [
        ("monthly_contact", "2026-12-01", "2026-12-31", 0, 0, 1)
    ]
    open_ended = member(mutes=[(D(2026, 11, 1), None)])
    assert tasks_on(open_ended, D(2027, 5, 1), r) == []


# -- frequent movers ----------------------------------------------------------------------


def test_frequent_mover_contact_applies_only_with_two_moves_in_the_last_ninety_days() -> None:
    r = rule("frequent_mover_contact")
    as_of = D(2026, 11, 22)
    # 2026-08-25 is D-89, the first day of the 90-day lookback
    two_moves = member(moves=[D(2026, 8, 25), D(2026, 10, 1)])
    one_in_range = member(moves=[D(2026, 8, 24), D(2026, 10, 1)])
    assert tasks_on(two_moves, as_of, r) == [
        ("frequent_mover_contact", "2026-11-09", "2026-11-22", 0, 0, 1)
    ]
    assert tasks_on(one_in_range, as_of, r) == []


@pytest.mark.parametrize(
    ("last_contact", "expected"),
    [
        (D(2026, 11, 9), []),  # D-13: inside the 14-day window
        (
            D(2026, 11, 8),
            [("frequent_mover_contact", "2026-11-09", "2026-11-22", 0, 0, 1)],
        ),  # D-14: due, 0 overdue
        (D(2026, 11, 1), [("frequent_mover_contact", "2026-11-09", "2026-11-22", 7, 0, 1)]),
        (
            D(2026, 11, 23),
            [("frequent_mover_contact", "2026-11-09", "2026-11-22", 0, 0, 1)],
        ),  # after D: ignored
    ],
)
def test_frequent_mover_overdue_days_count_from_the_last_contact_plus_fourteen(
    last_contact: date, expected: list[tuple[object, ...]]
) -> None:
    facts = member(moves=[D(2026, 10, 1), D(2026, 11, 1)], interactions=[(last_contact, "wechat")])
    assert tasks_on(facts, D(2026, 11, 22), rule("frequent_mover_contact")) == expected


# -- elderly members ----------------------------------------------------------------------


def test_elderly_visits_show_progress_towards_two_visits_a_year() -> None:
    r = rule("elderly_visits")
    old = member(born=D(1940, 3, 3), interactions=[(D(2026, 4, 1), "visit")])
    assert tasks_on(old, D(2026, 11, 22), r) == [
        ("elderly_visits", "2026-01-01", "2026-12-31", 0, 1, 2)
    ]
    twice = member(
        born=D(1940, 3, 3), interactions=[(D(2026, 4, 1), "visit"), (D(2026, 9, 1), "visit")]
    )
    assert tasks_on(twice, D(2026, 11, 22), r) == []


def test_the_eightieth_birthday_falling_inside_the_period_starts_the_rule_on_that_day() -> None:
    r = rule("elderly_visits")
    turning = member(born=D(1946, 11, 22))
    assert tasks_on(turning, D(2026, 11, 21), r) == []
    assert tasks_on(turning, D(2026, 11, 22), r) == [
        ("elderly_visits", "2026-01-01", "2026-12-31", 0, 0, 2)
    ]


def test_a_leap_day_birthday_is_celebrated_on_the_twenty_eighth_of_february() -> None:
    assert anniversary(D(1944, 2, 29), 2026) == D(2026, 2, 28)
    assert age_on(D(1944, 2, 29), D(2024, 2, 28)) == 79
    assert age_on(D(1944, 2, 29), D(2024, 2, 29)) == 80
    assert age_on(D(1946, 2, 28), D(2026, 2, 28)) == 80
    assert age_on(D(1944, 2, 29), D(2025, 2, 27)) == 80
    r = rule("elderly_visits")
    leap = member(born=D(1948, 2, 29))  # turns 80 on 29 Feb 2028
    assert tasks_on(leap, D(2028, 2, 28), r) == []
    assert tasks_on(leap, D(2028, 2, 29), r) == [
        ("elderly_visits", "2028-01-01", "2028-12-31", 0, 0, 2)
    ]
    non_leap = member(born=D(1944, 2, 29))  # 82 in 2026, birthday 28 Feb
    assert tasks_on(non_leap, D(2026, 1, 5), r) == [
        ("elderly_visits", "2026-01-01", "2026-12-31", 0, 0, 2)
    ]


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2025, D(2025, 1, 29)),
        (2026, D(2026, 2, 17)),
        (2027, D(2027, 2, 6)),
        (2028, D(2028, 1, 26)),
        (2029, D(2029, 2, 13)),
        (2030, D(2030, 2, 3)),
    ],
)
def test_the_spring_festival_comes_from_the_calendar_library(year: int, expected: date) -> None:
    assert spring_festival(year) == expected


@pytest.mark.parametrize("year", range(2025, 2031))
def test_a_key_date_visit_is_listed_only_within_seven_days_of_the_spring_festival(
    year: int,
) -> None:
    r = rule("key_date_visit")
    k = spring_festival(year)
    old = member(born=D(1930, 5, 5), joined=D(1960, 5, 5))
    window = ("key_date_visit", (k - _days(7)).isoformat(), (k + _days(7)).isoformat(), 0, 0, 1)
    assert tasks_on(old, k - _days(8), r) == []
    assert tasks_on(old, k - _days(7), r) == [window]
    assert tasks_on(old, k + _days(7), r) == [window]
    assert tasks_on(old, k + _days(8), r) == []


def test_a_key_date_visit_counts_visits_from_the_window_start_up_to_the_as_of_day() -> None:
    r = rule("key_date_visit")
    old = member(born=D(1930, 5, 5), joined=D(1960, 5, 5), interactions=[(D(2026, 6, 24), "visit")])
    assert tasks_on(old, D(2026, 7, 3), r) == []
    before_window = member(
        born=D(1930, 5, 5), joined=D(1960, 5, 5), interactions=[(D(2026, 6, 23), "visit")]
    )
    assert tasks_on(before_window, D(2026, 7, 3), r) == [
        ("key_date_visit", "2026-06-24", "2026-07-08", 0, 0, 1)
    ]
    younger = member(born=D(1950, 5, 5), joined=D(1980, 5, 5))
    assert tasks_on(younger, D(2026, 7, 1), r) == []


def test_key_date_windows_cross_the_year_end() -> None:
    r = rule("key_date_visit")
    # political birthday on 30 December: the window runs 23 Dec .. 6 Jan
    old = member(born=D(1930, 1, 10), joined=D(1955, 12, 30))
    expected = [("key_date_visit", "2026-12-23", "2027-01-06", 0, 0, 1)]
    assert tasks_on(old, D(2026, 12, 28), r) == expected
    assert tasks_on(old, D(2027, 1, 6), r) == expected
    visited = member(
        born=D(1930, 1, 10), joined=D(1955, 12, 30), interactions=[(D(2026, 12, 24), "visit")]
    )
    assert tasks_on(visited, D(2027, 1, 2), r) == []


def test_a_political_birthday_on_the_twenty_ninth_of_february_falls_on_the_twenty_eighth() -> None:
    r = rule("key_date_visit")
    old = member(born=D(1930, 5, 5), joined=D(1960, 2, 29))
    tasks = tasks_on(old, D(2026, 2, 21), r)
    assert ("key_date_visit", "2026-02-21", "2026-03-07", 0, 0, 1) in tasks


def test_a_political_birthday_and_1_july_on_the_same_day_make_one_task() -> None:
    old = member(born=D(1930, 5, 5), joined=D(1960, 7, 1))
    assert tasks_on(old, D(2026, 7, 1), rule("key_date_visit")) == [
        ("key_date_visit", "2026-06-24", "2026-07-08", 0, 0, 1)
    ]


# -- certificates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued", "as_of", "expected"),
    [
        # 31 August + 6 months is clamped to the end of February
        (D(2026, 8, 31), D(2027, 2, 13), []),
        (
            D(2026, 8, 31),
            D(2027, 2, 14),
            [("certificate_review", "2027-02-14", "2027-02-28", 0, 0, 1)],
        ),
        (
            D(2026, 8, 31),
            D(2027, 3, 5),
            [("certificate_review", "2027-02-14", "2027-02-28", 5, 0, 1)],
        ),
        (
            D(2027, 8, 31),
            D(2028, 2, 29),
            [("certificate_review", "2028-02-15", "2028-02-29", 0, 0, 1)],
        ),
        (
            D(2026, 3, 31),
            D(2026, 9, 30),
            [("certificate_review", "2026-09-16", "2026-09-30", 0, 0, 1)],
        ),
        # issued after the as-of day: nothing to review yet
        (D(2026, 12, 1), D(2026, 11, 22), []),
    ],
)
def test_certificate_reviews_fall_due_six_calendar_months_after_issue(
    issued: date, as_of: date, expected: list[tuple[object, ...]]
) -> None:
    assert tasks_on(member(certificate=issued), as_of, rule("certificate_review")) == expected


def test_a_recorded_review_restarts_the_cycle_but_only_when_dated_by_the_as_of_day() -> None:
    r = rule("certificate_review")
    facts = member(certificate=D(2026, 1, 10), reviews=[D(2026, 7, 5)])
    assert tasks_on(facts, D(2026, 7, 10), r) == []
    assert tasks_on(facts, D(2026, 12, 22), r) == [
        ("certificate_review", "2026-12-22", "2027-01-05", 0, 0, 1)
    ]
    later_review = member(certificate=D(2026, 1, 10), reviews=[D(2026, 7, 20)])
    assert tasks_on(later_review, D(2026, 7, 15), r) == [
        ("certificate_review", "2026-06-26", "2026-07-10", 5, 0, 1)
    ]


def test_a_member_without_a_certificate_has_no_review_task() -> None:
    assert tasks_on(member(), D(2026, 11, 22), rule("certificate_review")) == []


# -- campaigns ----------------------------------------------------------------------------


def test_materials_delivery_lists_each_active_campaign_without_a_delivery() -> None:
    campaigns = [
        CampaignFact("C1", "党史学习", "TH", D(2026, 10, 1), D(2026, 12, 31)),
        CampaignFact("C2", "主题教育", "TH-XC", D(2026, 11, 1), None),
    ]
    facts = member(delivered=["C1"])
    assert tasks_on(facts, D(2026, 11, 22), rule("materials_delivery"), campaigns=campaigns) == [
        ("materials_delivery", "2026-11-01", None, 0, 0, 1)
    ]


def test_a_rule_that_is_off_lists_nothing() -> None:
    assert tasks_on(member(), D(2026, 11, 22), rule("monthly_contact", enabled=False)) == []
    assert tasks_on(member(), D(2026, 11, 22), rule("ledger_verification")) == [
        ("ledger_verification", "2026-11-01", "2026-11-30", 0, 0, 1)
    ]


def _days(n: int) -> timedelta:

    return timedelta(days=n)
