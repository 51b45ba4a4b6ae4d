"""Political-birthday greetings: on the anniversary of joining the Party (入党纪念日)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import Connection, and_, extract, or_, select

from services.scheduler.context import (
    MEMBER_COLUMNS,
    PlanningContext,
    chunks,
    in_scope,
    member_recipient,
)
from services.scheduler.recipients import Draft, drafts_for
from services.scheduler.schedules import CATCH_UP_HORIZON, anniversary, send_time
from shared.models import Member

KIND = "political_birthday"
POLICY = "political_birthday_greeting"


def due_days(ctx: PlanningContext) -> dict[date, list[str]]:
    """For each anniversary day whose greeting time has come within the horizon and is not
    yet planned, the organizations concerned."""
    out: dict[date, list[str]] = {}
    for org in ctx.orgs:
        policy = ctx.policy(org)
        if not policy.birthday_enabled or ctx.quiet(org):
            continue
        today = ctx.today(org)
        tz = ctx.timezone(org)
        for back in range(CATCH_UP_HORIZON.days + 1):
            day = today - timedelta(days=back)
            at = send_time(
                day, policy.birthday_local_time, tz, policy.quiet_start, policy.quiet_end
            )
            recent = at <= ctx.now and ctx.now - at <= CATCH_UP_HORIZON
            if recent and not ctx.marked(KIND, org, day.isoformat()):
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
    conn: Connection, ctx: PlanningContext, day: date, orgs: list[str]
) -> Iterator[Draft]:
    for part in chunks(orgs):
        rows = conn.execute(
            select(*MEMBER_COLUMNS)
            .where(
                Member.home_org.in_(part),
                in_scope(day),
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
                "org_name": ctx.tree.names.get(row.home_org, row.home_org),
            }
            yield from drafts_for(
                member_recipient(row, ctx.timezone(row.home_org)), KIND, f"birthday:{day}", data
            )
