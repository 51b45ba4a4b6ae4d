"""Political-birthday greetings: on the anniversary of joining the Party (入党纪念日).

A greeting may be planned up to `CATCH_UP_HORIZON` after its day (a scheduler catching
up) and may leave later still (quiet hours, retries), so it carries the day it celebrates
(`anniversary`) and the templates say 今天 only when it is sent that day. It goes only to
a member in scope on the anniversary and on the planning day, and the send-time refresher
(`greeting_refresher`) checks scope again on the day it leaves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, extract, or_, select
from sqlalchemy.orm import Session

from services.notifier import Refresher
from services.scheduler.planning.recipients import Draft, drafts_for, member_in_scope
from services.scheduler.planning.schedules import (
    CATCH_UP_HORIZON,
    anniversary,
    local_date,
    send_time,
)
from services.scheduler.planning.shard_view import (
    MEMBER_COLUMNS,
    ShardView,
    chunks,
    in_scope,
    member_recipient,
)
from shared.clock import Clock
from shared.models import Member, Notification

KIND = "political_birthday"
POLICY = "political_birthday_greeting"


def due_days(view: ShardView) -> dict[date, list[str]]:
    """For each anniversary day whose greeting time has come within the horizon and is not
    yet planned, the organizations concerned."""
    out: dict[date, list[str]] = {}
    for org in view.orgs:
        policy = view.policy(org)
        if not policy.birthday_enabled or view.quiet(org):
            continue
        today = view.today(org)
        tz = view.timezone(org)
        for back in range(CATCH_UP_HORIZON.days + 1):
            day = today - timedelta(days=back)
            at = send_time(
                day, policy.birthday_local_time, tz, policy.quiet_start, policy.quiet_end
            )
            recent = at <= view.now and view.now - at <= CATCH_UP_HORIZON
            if recent and not view.marked(KIND, org, day.isoformat()):
                out.setdefault(day, []).append(org)
    return out


def _joined_on_anniversary(day: date) -> object:
    same = and_(
        extract("month", Member.join_date) == day.month,
        extract("day", Member.join_date) == day.day,
    )
    if day.month == 2 and day.day == 28 and anniversary(date(2000, 2, 29), day.year) == day:
        # In a common year those who joined on 29 February are greeted on the 28th.
        leap = and_(extract("month", Member.join_date) == 2, extract("day", Member.join_date) == 29)
        return or_(same, leap)
    return same


def greeting_drafts(
    conn: Connection, view: ShardView, day: date, orgs: list[str]
) -> Iterator[Draft]:
    for part in chunks(orgs):
        # In scope on the anniversary and today, the planning day (the same day unless
        # the greeting is caught up late).
        today = view.today(part[0])
        rows = conn.execute(
            select(*MEMBER_COLUMNS)
            .where(
                Member.home_org.in_(part),
                in_scope(day),
                in_scope(today),
                _joined_on_anniversary(day),  # type: ignore[arg-type]
            )
            .order_by(Member.member_id)
        ).all()
        for row in rows:
            years = day.year - row.join_date.year
            if years < 1:
                continue
            data = {
                "member_name": row.name,
                "years": years,
                "org_name": view.tree.names.get(row.home_org, row.home_org),
                "anniversary": day.isoformat(),
                "planned_on": today.isoformat(),
            }
            recipient = member_recipient(row, view.timezone(row.home_org))
            route = view.sms_route(recipient.org)
            yield from drafts_for(recipient, KIND, f"birthday:{day}", data, route)


def greeting_refresher(clock: Clock) -> Refresher:
    """The refresher of greetings: at send time, cancel the greeting of a member no longer
    in scope; otherwise the data with the send day (`today`) the templates word from."""

    def refresh(session: Session, notification: Notification) -> dict[str, Any] | None:
        today = local_date(clock.now(), notification.timezone)
        if not member_in_scope(session, notification.recipient_id, (today,)):
            return None
        data = dict(notification.data)
        if "anniversary" not in data:
            # A greeting planned before the anniversary was stored names it in its
            # occasion (`birthday:2026-11-29`); without one the templates claim no day.
            try:
                day = date.fromisoformat(notification.occasion.removeprefix("birthday:"))
                data["anniversary"] = day.isoformat()
            except ValueError:
                pass
        data["today"] = today.isoformat()
        return data

    return refresh
