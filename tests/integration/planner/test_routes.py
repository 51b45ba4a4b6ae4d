"""Which channel and which SMS provider a planned message takes: the person's `channels`
(WeCom included) and their organization's `sms_route` policy, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from services.scheduler.planning.digest import digest_refresher
from services.scheduler.planning.planner import plan
from services.scheduler.planning.recipients import Draft
from services.scheduler.tasks.policy import set_override
from shared.clock import FixedClock
from shared.db import transaction
from shared.models import Liaison, Member, Notification, Organization

AS_OF = date(2026, 11, 30)  # a Monday: digest day in the synthetic county


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """Shanghai wall-clock time as UTC."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC) - timedelta(hours=8)


def roots(session: Session) -> list[str]:
    found = list(
        session.scalars(select(Organization.code).where(Organization.parent_code.is_(None)))
    )
    assert found, "the synthetic ledger has no root organization"
    return found


def digests(engine: Engine) -> list[Draft]:
    drafts = plan(engine, at(AS_OF, 9, 30), dry_run=True).drafts
    return [d for d in drafts if d.kind == "liaison_digest"]


def a_liaison_with_a_digest(engine: Engine) -> str:
    found = digests(engine)
    assert found, "the synthetic county plans no digest on its digest day"
    return found[0].recipient_id


def test_a_liaison_who_chose_wecom_gets_the_digest_in_wecom_at_their_wecom_account(
    ledger: Engine,
) -> None:
    liaison = a_liaison_with_a_digest(ledger)
    with transaction(ledger) as session:
        session.execute(
            update(Liaison)
            .where(Liaison.liaison_id == liaison)
            .values(channels="wecom", wecom_userid="ZhangWei")
        )
    theirs = [d for d in digests(ledger) if d.recipient_id == liaison]
    assert [(d.channel, d.address) for d in theirs] == [("wecom", "ZhangWei")]


def test_sms_plus_wecom_gives_one_message_on_each_and_wecom_without_an_account_gives_sms_only(
    ledger: Engine,
) -> None:
    found = digests(ledger)
    assert len({d.recipient_id for d in found}) >= 2
    both, missing = sorted({d.recipient_id for d in found})[:2]
    with transaction(ledger) as session:
        session.execute(
            update(Liaison)
            .where(Liaison.liaison_id == both)
            .values(channels="sms+wecom", wecom_userid="LiNa")
        )
        session.execute(
            update(Liaison)
            .where(Liaison.liaison_id == missing)
            .values(channels="sms+wecom", wecom_userid=None)
        )
    by_liaison: dict[str, set[str]] = {}
    for d in digests(ledger):
        by_liaison.setdefault(d.recipient_id, set()).add(d.channel)
    assert by_liaison[both] == {"sms", "wecom"}
    assert by_liaison[missing] == {"sms"}


def test_a_member_who_chose_wecom_gets_event_reminders_in_wecom(ledger: Engine) -> None:
    with transaction(ledger) as session:
        session.execute(update(Member).values(channels="wecom", wecom_userid=Member.member_id))
    reminders = []
    for offset in range(14):
        drafts = plan(ledger, at(AS_OF + timedelta(days=offset), 10), dry_run=True).drafts
        reminders = [d for d in drafts if d.kind == "event_reminder"]
        if reminders:
            break
    assert reminders, "the synthetic ledger has no event reminder in the fortnight"
    assert {d.channel for d in reminders} == {"wecom"}
    assert all(d.address == d.recipient_id for d in reminders)


def test_an_organization_s_sms_route_travels_with_its_sms_and_nowhere_else(
    ledger: Engine,
) -> None:
    with transaction(ledger) as session:
        for root in roots(session):
            set_override(session, root, "sms_route", "provider", "aliyun")
            set_override(session, root, "sms_route", "sign_name", "红旗镇党委")
    found = digests(ledger)
    sms = [d for d in found if d.channel == "sms"]
    assert sms, "no SMS digest planned"
    assert all(
        d.data["sms_route"] == {"provider": "aliyun", "sign_name": "红旗镇党委"} for d in sms
    )
    others = [d for d in found if d.channel != "sms"]
    assert all("sms_route" not in d.data for d in others)


def test_an_organization_without_a_route_of_its_own_plans_sms_without_one(ledger: Engine) -> None:
    sms = [d for d in digests(ledger) if d.channel == "sms"]
    assert sms and all("sms_route" not in d.data for d in sms)


def test_the_digest_refresher_keeps_the_sms_route_the_planner_put_in(ledger: Engine) -> None:
    with transaction(ledger) as session:
        for root in roots(session):
            set_override(session, root, "sms_route", "provider", "aliyun")
    plan(ledger, at(AS_OF, 9, 30))
    with Session(ledger) as session:
        digest = session.scalars(
            select(Notification).where(
                Notification.kind == "liaison_digest", Notification.channel == "sms"
            )
        ).first()
        assert digest is not None and digest.data["sms_route"] == {"provider": "aliyun"}
        fresh = digest_refresher(FixedClock(at(AS_OF, 10)))(session, digest)
    assert fresh is not None and fresh["sms_route"] == {"provider": "aliyun"}
