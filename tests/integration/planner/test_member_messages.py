"""Who a member message goes to, and what it carries, on a small hand-built county.

The tree: county TH → town TH-XC → branches TH-XC-01 and TH-XC-02. A theme day held by the
town on Saturday 2026-12-05 at 19:30; its three-days-before reminder is due from 08:00 on
Wednesday 2026-12-02.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from services.bootstrap import bootstrap
from services.notifier.refreshers import refresher_for
from services.scheduler.planning.birthdays import greeting_refresher
from services.scheduler.planning.events import event_refresher
from services.scheduler.planning.planner import plan
from services.scheduler.planning.presenting import rendered_drafts
from services.scheduler.tasks.policy import set_override
from shared.clock import FixedClock
from shared.db import transaction
from shared.models import Event, Interaction, Member, Move, Mute, Notification, Organization
from shared.settings import load_settings
from tests.integration.planner.ledger import seed_message_rules

EVENT_DAY = date(2026, 12, 5)
PLANNING_DAY = date(2026, 12, 2)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """Shanghai wall-clock time as UTC."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC) - timedelta(hours=8)


def member(member_id: str, home: str, **extra: Any) -> dict[str, Any]:
    row = {
        "member_id": member_id,
        "name": f"党员{member_id}",
        "id_number": "11010519491231002X",
        "home_org": home,
        "join_date": date(2010, 12, 2),
        "mobile_since": date(2024, 1, 1),
        "phone": f"1380000{int(member_id[1:]):04d}",
        "status": "active",
        "host_org": None,  # every row names every column: an executemany takes the first's
    }
    return {**row, **extra}


@pytest.fixture
def county(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(
            insert(Organization),
            [
                {"code": "TH", "name": "太湖县委", "parent_code": None},
                {"code": "TH-XC", "name": "新仓镇党委", "parent_code": "TH"},
                {"code": "TH-XC-01", "name": "新仓村党支部", "parent_code": "TH-XC"},
                {"code": "TH-XC-02", "name": "小池村党支部", "parent_code": "TH-XC"},
                {"code": "TH-JH", "name": "晋熙镇党委", "parent_code": "TH"},
                {"code": "TH-JH-01", "name": "城西社区党支部", "parent_code": "TH-JH"},
            ],
        )
        conn.execute(
            insert(Member),
            [
                member("M1", "TH-XC-01"),
                member("M2", "TH-XC-02"),
                # Hosted by a branch of the town while their home is elsewhere (流入地).
                member("M3", "TH-JH-01", host_org="TH-XC-02"),
                # Mobile only from the day before the event: not in scope when planned.
                member("M4", "TH-XC-01", mobile_since=EVENT_DAY - timedelta(days=1)),
                # Muted (in hospital, say) over the event day.
                member("M5", "TH-XC-02"),
                # Another town: not reached by TH-XC's event.
                member("M6", "TH-JH-01"),
                # A member of the town itself.
                member("M7", "TH-XC"),
            ],
        )
        conn.execute(
            insert(Mute),
            [{"member_id": "M5", "from_date": EVENT_DAY, "to_date": EVENT_DAY}],
        )
        conn.execute(
            insert(Event),
            [
                {
                    "event_id": "E-XC",
                    "org": "TH-XC",
                    "type": "theme_day",
                    "starts_at": at(EVENT_DAY, 19, 30),
                    "title": "学习贯彻全会精神",
                    "location": "新仓镇党群服务中心",
                }
            ],
        )
    seed_message_rules(engine)
    return engine


def reminded(engine: Engine, now: datetime) -> dict[str, dict[str, Any]]:
    report = plan(engine, now, dry_run=True)
    return {
        d.recipient_id: d.data
        for d in report.drafts
        if d.kind == "event_reminder" and d.channel == "sms"
    }


def test_an_event_held_by_a_town_reminds_the_members_of_its_subtree(county: Engine) -> None:
    drafts = reminded(county, at(PLANNING_DAY, 8, 30))
    assert set(drafts) == {"M1", "M2", "M3", "M7"}
    assert drafts["M1"]["org_name"] == "新仓镇党委"


def test_reach_holding_branch_reminds_only_the_holding_organizations_own_members(
    county: Engine,
) -> None:
    with transaction(county) as session:
        set_override(session, "TH-XC", "event_reminder", "reach", "holding_branch")
    assert set(reminded(county, at(PLANNING_DAY, 8, 30))) == {"M7"}


def test_a_member_not_yet_mobile_when_the_reminder_is_planned_is_not_reminded(
    county: Engine,
) -> None:
    assert "M4" not in reminded(county, at(PLANNING_DAY, 8, 30))
    # On the morning of the event M4 is in scope, and the same-day reminder reaches them.
    assert "M4" in reminded(county, at(EVENT_DAY, 8, 30))


def test_a_member_muted_on_the_event_day_is_not_reminded_of_it(county: Engine) -> None:
    assert "M5" not in reminded(county, at(PLANNING_DAY, 8, 30))


def test_a_reminder_carries_the_event_date_and_start_time_for_the_send_day_wording(
    county: Engine,
) -> None:
    data = reminded(county, at(PLANNING_DAY, 8, 30))["M1"]
    assert data["event_date"] == "2026-12-05" and data["starts_time"] == "19:30"
    assert data["planned_on"] == "2026-12-02"
    assert datetime.fromisoformat(data["starts_at"]) == at(EVENT_DAY, 19, 30)


def test_a_greeting_carries_the_anniversary_it_celebrates(county: Engine) -> None:
    # Planned two days late: the greeting names 12月2日, not 今天.
    report = plan(county, at(PLANNING_DAY + timedelta(days=2), 10), dry_run=True)
    greetings = [d for d in report.drafts if d.kind == "political_birthday"]
    assert greetings and {d.data["anniversary"] for d in greetings} == {"2026-12-02"}
    text = next(rendered_drafts([greetings[0]]))
    assert "12月2日是您的政治生日" in text and "今天" not in text


def stored(engine: Engine, kind: str) -> list[Notification]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Notification).where(Notification.kind == kind).order_by(Notification.id)
            )
        )


@pytest.mark.parametrize("kind", ["event_reminder", "political_birthday"])
def test_the_worker_cancels_a_member_message_whose_member_left_scope_since_planning(
    county: Engine, kind: str
) -> None:
    plan(county, at(PLANNING_DAY, 10))
    planned = {n.recipient_id: n for n in stored(county, kind)}
    assert {"M1", "M2"} <= set(planned)
    with transaction(county) as session:
        m1 = session.get(Member, "M1")
        assert m1 is not None
        m1.status = "returned"
    clock = FixedClock(at(PLANNING_DAY + timedelta(days=1), 8, 5))
    refresh = event_refresher(clock) if kind == "event_reminder" else greeting_refresher(clock)
    with Session(county) as session:
        gone = refresh(session, planned["M1"])
        kept = refresh(session, planned["M2"])
    assert gone is None
    assert kept is not None and kept["today"] == "2026-12-03"


def test_the_worker_cancels_a_reminder_for_an_event_that_has_begun(county: Engine) -> None:
    plan(county, at(PLANNING_DAY, 10))
    reminder = stored(county, "event_reminder")[0]
    refresh = event_refresher(FixedClock(at(EVENT_DAY, 19, 45)))
    with Session(county) as session:
        assert refresh(session, reminder) is None


def test_the_bootstrap_registers_the_member_message_refreshers_with_the_digest_s() -> None:
    # A Redis URL that is never dialled: declaring actors connects to nothing.
    settings = load_settings({"LIAISON_REDIS_URL": "redis://127.0.0.1:9/0"})
    wiring = bootstrap(settings, clock=FixedClock(at(PLANNING_DAY, 10)))
    _ = wiring.actors
    try:
        for kind in ("liaison_digest", "event_reminder", "political_birthday"):
            assert refresher_for(kind) is not None, kind
    finally:
        wiring.close()
    for kind in ("liaison_digest", "event_reminder", "political_birthday"):
        assert refresher_for(kind) is None, kind


def test_a_dry_run_renders_the_organizations_template_overrides(
    county: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "event_reminder.sms.zh-CN.j2").write_text(
        "【新仓镇】{{ member_name }}：{{ event_title }}", encoding="utf-8"
    )
    monkeypatch.setenv("LIAISON_TEMPLATES_DIR", str(tmp_path))
    report = plan(county, at(PLANNING_DAY, 8, 30), dry_run=True)
    drafts = [d for d in report.drafts if d.kind == "event_reminder" and d.recipient_id == "M1"]
    texts = list(rendered_drafts(drafts))
    assert texts and "【新仓镇】党员M1：学习贯彻全会精神" in texts[0]


def test_a_frequent_movers_digest_task_says_when_the_last_contact_was(county: Engine) -> None:
    from services.scheduler.planning.digest import digest_data
    from services.scheduler.tasks.due import DueQuery, compute_due

    with county.begin() as conn:
        conn.execute(
            insert(Move),
            [
                {"member_id": "M1", "on_date": date(2026, 10, 1), "location": "杭州"},
                {"member_id": "M1", "on_date": date(2026, 11, 1), "location": "宁波"},
            ],
        )
        conn.execute(
            insert(Interaction),
            [{"member_id": "M1", "kind": "phone", "on_date": date(2026, 8, 16), "place": None}],
        )
    tasks = [
        t
        for t in compute_due(county, DueQuery(PLANNING_DAY))
        if t.member_id == "M1" and t.rule == "frequent_mover_contact"
    ]
    assert tasks and tasks[0].overdue_days > 0
    line = digest_data("李明", PLANNING_DAY, tasks)["tasks"][0]
    assert line["cadence_days"] == 14 and line["last_contact"] == "2026-08-16"


def test_liaison_run_dry_run_prints_the_overridden_template_with_todays_wording(
    county: Engine,
    liaison_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.cli import liaison

    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "event_reminder.sms.zh-CN.j2").write_text(
        "【新仓镇】{{ member_name }}：{{ event_date|zh_day(today) }}{{ starts_time }}", "utf-8"
    )
    monkeypatch.setenv("LIAISON_TEMPLATES_DIR", str(overrides))
    result = liaison("run", "--dry-run", "--as-of", "2026-12-02T08:30")
    assert result.exit_code == 0, result.output
    assert "【新仓镇】党员M1：12月5日19:30" in result.stdout
