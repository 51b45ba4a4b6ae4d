"""The planner on a synthetic county ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from services.scheduler.planning.digest import (
    REFRESH_LIAISONS,
    digest_batch_refresher,
    digest_refresher,
)
from services.scheduler.planning.planner import plan
from services.scheduler.tasks.due import DueQuery, compute_due
from services.scheduler.tasks.policy import set_override
from shared.clock import FixedClock
from shared.db import transaction
from shared.ledger.recording import record_fact
from shared.models import Mute, Notification

AS_OF = date(2026, 11, 30)  # a Monday, and the first digest day of the simulated weeks


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """Shanghai wall-clock time as UTC."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC) - timedelta(hours=8)


def notifications(engine: Engine, kind: str | None = None) -> list[Notification]:
    with Session(engine) as session:
        stmt = select(Notification).order_by(Notification.id)
        if kind:
            stmt = stmt.where(Notification.kind == kind)
        return list(session.scalars(stmt))


def test_planning_twice_creates_nothing_the_second_time(ledger: Engine) -> None:
    first = plan(ledger, at(AS_OF, 9, 30))
    second = plan(ledger, at(AS_OF, 9, 30))
    assert first.total > 0 and first.created[("liaison_digest", "sms")] > 0
    assert second.total == 0
    assert len(notifications(ledger)) == first.total


def test_digests_go_to_exactly_the_liaisons_with_open_tasks_in_urgency_order(
    ledger: Engine,
) -> None:
    plan(ledger, at(AS_OF, 9, 30))
    tasks = list(compute_due(ledger, DueQuery(AS_OF)))
    with_tasks = {t.liaison_id for t in tasks if t.liaison_id}
    digests = notifications(ledger, "liaison_digest")
    assert {n.recipient_id for n in digests} == with_tasks
    assert digests  # the ledger has liaisons with open tasks
    for n in digests:
        theirs = [(t.member_id, t.rule) for t in tasks if t.liaison_id == n.recipient_id]
        assert [(t["member_id"], t["rule"]) for t in n.data["tasks"]] == theirs
        assert [t["number"] for t in n.data["tasks"]] == list(range(1, len(theirs) + 1))
        assert n.occasion == "digest:2026-11-30"


def test_nothing_is_planned_before_the_send_time_or_in_quiet_hours(ledger: Engine) -> None:
    early = plan(ledger, at(AS_OF, 8, 59))
    assert early.created[("liaison_digest", "sms")] == 0
    night = plan(ledger, at(AS_OF, 22, 0))
    assert night.total == 0 and night.quiet_orgs > 0


def test_an_organization_override_of_the_digest_time_moves_its_digests(ledger: Engine) -> None:
    with transaction(ledger) as session:
        set_override(session, "TH", "liaison_digest", "local_time", "08:30")
    report = plan(ledger, at(AS_OF, 8, 45))
    assert report.created[("liaison_digest", "sms")] > 0


def test_a_muted_member_gets_no_reminder_and_no_greeting(ledger: Engine) -> None:
    with Session(ledger) as session:
        muted = set(session.scalars(select(Mute.member_id).where(Mute.from_date <= AS_OF)))
    report = plan(ledger, at(AS_OF + timedelta(days=7), 9, 30), dry_run=True)
    members = {d.recipient_id for d in report.drafts if d.recipient_type == "member"}
    assert members and not (members & muted)


def test_a_dry_run_writes_nothing(ledger: Engine) -> None:
    report = plan(ledger, at(AS_OF, 9, 30), dry_run=True)
    assert report.drafts and report.total == len(report.drafts)
    with Session(ledger) as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 0


def test_the_refresher_leaves_out_a_task_resolved_since_planning_and_cancels_an_empty_digest(
    ledger: Engine,
) -> None:
    refresh = digest_refresher(FixedClock(at(AS_OF, 10)))
    plan(ledger, at(AS_OF, 9, 30))
    digests = [
        n
        for n in notifications(ledger, "liaison_digest")
        if any(t["rule"] == "monthly_contact" for t in n.data["tasks"])
    ]
    digest, other = digests[0], digests[1]
    contact = next(t for t in digest.data["tasks"] if t["rule"] == "monthly_contact")
    record_fact(
        ledger,
        "interactions",
        {"member_id": contact["member_id"], "kind": "phone", "on": AS_OF.isoformat()},
    )
    # Every member of the other liaison is muted (in hospital, say) from today.
    with transaction(ledger) as session:
        for member_id in {t["member_id"] for t in other.data["tasks"]}:
            session.add(Mute(member_id=member_id, from_date=AS_OF, to_date=None))
    with Session(ledger) as session:
        n, m = session.get(Notification, digest.id), session.get(Notification, other.id)
        assert n is not None and m is not None
        fresh, emptied = refresh(session, n), refresh(session, m)
    assert fresh is not None and emptied is None
    left = [(t["member_id"], t["rule"]) for t in fresh["tasks"]]
    assert (contact["member_id"], "monthly_contact") not in left
    planned = [(t["member_id"], t["rule"]) for t in digest.data["tasks"]]
    others = [task for task in planned if task[0] != contact["member_id"]]
    assert set(others) <= set(left) < set(planned)
    assert [t["number"] for t in fresh["tasks"]] == list(range(1, len(left) + 1))


def test_a_reminder_planned_late_says_how_many_days_are_really_left(ledger: Engine) -> None:
    # Find an event whose three-days-before reminder falls in the fortnight after AS_OF.
    reminder = None
    for offset in range(14):
        report = plan(ledger, at(AS_OF + timedelta(days=offset), 10), dry_run=True)
        reminder = next(
            (d for d in report.drafts if d.kind == "event_reminder" and d.data["days_before"] == 3),
            None,
        )
        if reminder is not None:
            break
    assert reminder is not None, "the synthetic ledger has no event in the fortnight"
    assert reminder.data["days_left"] == 3
    event_day = date.fromisoformat(reminder.data["starts_at_local"][:10])
    # A scheduler that was down until the day before the event: the same reminder, late.
    late = plan(ledger, at(event_day - timedelta(days=1), 10), dry_run=True)
    same = [
        d
        for d in late.drafts
        if d.kind == "event_reminder" and d.data["event_id"] == reminder.data["event_id"]
    ]
    assert same and {d.data["days_before"] for d in same} == {3}
    assert {d.data["days_left"] for d in same} == {1}


def test_the_batch_refresher_says_of_every_digest_what_the_single_refresher_says(
    ledger: Engine,
) -> None:
    clock = FixedClock(at(AS_OF, 10))
    plan(ledger, at(AS_OF, 9, 30))
    digests = notifications(ledger, "liaison_digest")
    assert len(digests) > REFRESH_LIAISONS  # more than one due computation
    # Something to leave out and something to cancel, as above.
    contact = next(t for t in digests[0].data["tasks"] if t["rule"] == "monthly_contact")
    record_fact(
        ledger,
        "interactions",
        {"member_id": contact["member_id"], "kind": "phone", "on": AS_OF.isoformat()},
    )
    with transaction(ledger) as session:
        for member_id in {t["member_id"] for t in digests[1].data["tasks"]}:
            session.add(Mute(member_id=member_id, from_date=AS_OF, to_date=None))

    with Session(ledger) as session:
        loaded = [session.get(Notification, n.id) for n in digests]
        batch = digest_batch_refresher(clock)(session, [n for n in loaded if n is not None])
        single = {n.id: digest_refresher(clock)(session, n) for n in loaded if n is not None}
    assert batch == single
    assert batch[digests[1].id] is None and batch[digests[0].id] is not None
