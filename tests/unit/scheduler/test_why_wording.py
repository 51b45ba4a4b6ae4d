"""`liaison why` words a rolling window as the digest does: a cadence and a last contact."""

from __future__ import annotations

from datetime import date

from services.scheduler.tasks.facts import MemberFacts
from services.scheduler.tasks.rules import Assessment
from services.scheduler.tasks.why import Explanation, RuleExplanation, render_explanation

AS_OF = date(2026, 12, 2)


def explanation(*rules: RuleExplanation) -> Explanation:
    facts = MemberFacts(
        member_id="M1",
        name="王芳",
        home_org="TH-XC-01",
        status="active",
        mobile_since=date(2024, 1, 1),
        join_date=date(2010, 12, 2),
        birth_date=None,
        certificate_issued_on=None,
        liaison_id="L1",
    )
    return Explanation(facts, AS_OF, True, "active and mobile", rules)


def mover(overdue: int) -> RuleExplanation:
    assessment = Assessment(
        "frequent_mover_contact", True, True, date(2026, 11, 19), AS_OF, overdue, 0, 1
    )
    return RuleExplanation("frequent_mover_contact", (assessment,), (), strategy="rolling")


def test_a_lapsed_frequent_mover_is_explained_by_the_last_contact_not_an_overdue_count() -> None:
    # Last contact 16 August: due again from 30 August, 94 days before 2 December.
    text = render_explanation(explanation(mover(94)))
    assert "overdue" not in text
    assert "every 14 days" in text
    assert "last contact 2026-08-16, 108 days ago" in text
    assert "none in 2026-11-19..2026-12-02" in text


def test_a_frequent_mover_never_contacted_says_none_in_the_window() -> None:
    text = render_explanation(explanation(mover(0)))
    assert "overdue" not in text and "last contact 2026" not in text
    assert "every 14 days; none in 2026-11-19..2026-12-02" in text


def test_a_calendar_task_overdue_one_day_says_day_not_days() -> None:
    review = Assessment(
        "certificate_review", True, True, date(2026, 11, 17), date(2026, 12, 1), 1, 0, 1
    )
    text = render_explanation(
        explanation(RuleExplanation("certificate_review", (review,), (), strategy="review_cycle"))
    )
    assert "DUE, 1 day overdue" in text and "day(s)" not in text
