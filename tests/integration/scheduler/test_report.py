"""The compliance report on a ledger small enough to compute every figure by hand."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, insert

from services.scheduler.tasks.report import PeriodError, compliance_report, parse_period
from shared.models import (
    Assignment,
    Attendance,
    Event,
    Interaction,
    Liaison,
    Member,
    Move,
    Organization,
)

TODAY = date(2026, 11, 22)
ID = "11010519491231002X"


def _member(mid: str, org: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "member_id": mid,
        "name": mid,
        "id_number": ID,
        "home_org": org,
        "join_date": date(2000, 1, 1),
        "mobile_since": date(2020, 1, 1),
        "birth_date": date(1980, 1, 1),
        "status": "active",
    }
    row.update(kw)
    return row


@pytest.fixture
def ledger(engine: Engine) -> Engine:
    from datetime import UTC, datetime

    with engine.begin() as c:
        c.execute(
            insert(Organization),
            [
                {"code": "TH", "name": "县委", "parent_code": None},
                {"code": "TH-XC", "name": "镇党委", "parent_code": "TH"},
                {"code": "TH-XC-01", "name": "村支部", "parent_code": "TH-XC"},
                {"code": "TH-JH", "name": "另一镇", "parent_code": "TH"},
            ],
        )
        c.execute(insert(Liaison), [{"liaison_id": "L1", "name": "L1", "org": "TH-XC-01"}])
        c.execute(
            insert(Member),
            [
                _member("M1", "TH-XC-01"),
                _member("M2", "TH-XC-01"),
                _member("M3", "TH-XC", mobile_since=date(2026, 11, 10)),
                _member("M4", "TH-XC-01", status="returned"),
                _member("M5", "TH-JH", birth_date=date(1941, 3, 1)),
            ],
        )
        c.execute(
            insert(Assignment),
            [
                {
                    "member_id": "M1",
                    "liaison_id": "L1",
                    "from_date": date(2025, 1, 1),
                    "to_date": None,
                },
                {
                    "member_id": "M3",
                    "liaison_id": "L1",
                    "from_date": date(2026, 11, 10),
                    "to_date": None,
                },
                {
                    "member_id": "M5",
                    "liaison_id": "L1",
                    "from_date": date(2025, 1, 1),
                    "to_date": None,
                },
            ],
        )
        c.execute(
            insert(Interaction),
            [
                {"member_id": "M1", "on_date": date(2026, 10, 3), "kind": "visit", "place": "home"},
                {"member_id": "M1", "on_date": date(2026, 11, 2), "kind": "phone", "place": None},
                {"member_id": "M2", "on_date": date(2026, 10, 9), "kind": "wechat", "place": None},
                {"member_id": "M3", "on_date": date(2026, 11, 12), "kind": "phone", "place": None},
                {"member_id": "M4", "on_date": date(2026, 11, 12), "kind": "phone", "place": None},
                {"member_id": "M5", "on_date": date(2026, 5, 12), "kind": "visit", "place": None},
                {
                    "member_id": "M5",
                    "on_date": date(2026, 11, 23),
                    "kind": "visit",
                    "place": None,
                },  # after today: ignored
            ],
        )
        c.execute(
            insert(Move),
            [
                {"member_id": "M1", "on_date": date(2026, 9, 1), "location": "杭州"},
                {"member_id": "M1", "on_date": date(2026, 11, 1), "location": "宁波"},
            ],
        )
        c.execute(
            insert(Event),
            [
                {
                    "event_id": "E1",
                    "org": "TH-XC-01",
                    "type": "theme_day",
                    "starts_at": datetime(2026, 3, 10, 1, tzinfo=UTC),
                }
            ],
        )
        c.execute(
            insert(Attendance),
            [{"event_id": "E1", "member_id": "M1", "on_date": date(2026, 3, 10)}],
        )
    return engine


def test_each_row_covers_its_subtree_and_the_totals_roll_up(ledger: Engine) -> None:
    report = compliance_report(ledger, "2026-Q4", today=TODAY, max_load=2)
    rows = {r.org: r for r in report.rows}
    assert [r.org for r in report.rows] == ["TH", "TH-JH", "TH-XC", "TH-XC-01"]
    assert [r.depth for r in report.rows] == [0, 1, 1, 2]
    assert report.evaluated_on == TODAY
    branch = rows["TH-XC-01"].figures
    assert branch.members == 2  # M4 has returned
    # M1 met October and November, M2 only October; December has not started
    assert (branch.met["monthly_contact"], branch.windows["monthly_contact"]) == (3, 4)
    assert (branch.met["quarterly_visit"], branch.windows["quarterly_visit"]) == (1, 2)
    assert branch.unassigned == 1  # M2
    assert branch.liaisons_over_load == 1  # L1 serves 3 > 2
    assert branch.movers_without_own_liaison == 1  # M1 moves twice and shares L1
    assert branch.no_event_attended == 1  # M2; M1 attended E1
    town = rows["TH-XC"].figures
    # M3 became mobile on 10 November: only November is required of them
    assert (town.met["monthly_contact"], town.windows["monthly_contact"]) == (4, 5)
    assert town.members == 3
    other = rows["TH-JH"].figures
    assert other.elderly_not_visited_twice == 1  # M5: one visit so far this year
    total = rows["TH"].figures
    assert total.members == 4
    assert (total.met["monthly_contact"], total.windows["monthly_contact"]) == (4, 7)
    assert total.no_event_attended == 3


def test_a_month_report_counts_the_quarter_that_contains_it(ledger: Engine) -> None:
    report = compliance_report(ledger, "2026-10", today=TODAY, org="TH-XC-01")
    branch = report.rows[0].figures
    assert (branch.met["monthly_contact"], branch.windows["monthly_contact"]) == (2, 2)
    assert (branch.met["quarterly_visit"], branch.windows["quarterly_visit"]) == (1, 2)


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("2026-10", (date(2026, 10, 1), date(2026, 10, 31))),
        ("2026-q4", (date(2026, 10, 1), date(2026, 12, 31))),
        ("2026-H1", (date(2026, 1, 1), date(2026, 6, 30))),
        ("2026", (date(2026, 1, 1), date(2026, 12, 31))),
    ],
)
def test_periods_are_written_as_month_quarter_half_or_year(
    text: str, bounds: tuple[date, date]
) -> None:
    assert parse_period(text) == bounds


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "Q4", "last month"])
def test_a_malformed_period_is_refused_with_the_accepted_spellings(text: str) -> None:
    with pytest.raises(PeriodError, match="2026-Q4"):
        parse_period(text)


def test_the_report_command_writes_csv_with_one_row_per_organization(
    ledger: Engine, liaison_env: dict[str, str]
) -> None:
    from tests.cli import liaison

    result = liaison("report", "--period", "2026-Q4", "--as-of", "2026-11-22", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("org,name,members,contacts_met")
    assert [line.split(",")[0] for line in lines[1:]] == ["TH", "TH-JH", "TH-XC", "TH-XC-01"]
    assert lines[1].split(",")[2:6] == ["4", "4", "7", "57.1%"]
