"""Organization-life reminders: each occurrence of an event, to every in-scope member of
the holding organization (home branch, 流出地) and of those hosted by it (流入地).

Recurring events are expanded from their RRULE, read on the organization's wall clock (a
theme day "on the 10th at 09:00" stays at 09:00 across a daylight-saving change).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlalchemy import Connection, select

from services.scheduler.context import PlanningContext, chunks, member_recipient, members_of
from services.scheduler.recipients import Draft, drafts_for
from services.scheduler.schedules import reminder_offset_due
from shared.models import Event

log = logging.getLogger(__name__)

KIND = "event_reminder"
_EXPAND_BEFORE = timedelta(days=1)  #: occurrences that began this long ago are looked at


@dataclass(frozen=True)
class Occurrence:
    event_id: str
    org: str
    type: str
    title: str | None
    location: str | None
    online_url: str | None
    starts_at: datetime  #: aware, UTC
    local_start: datetime  #: naive wall-clock time of the organization


class EventRow(NamedTuple):
    event_id: str
    org: str
    type: str
    starts_at: datetime
    title: str | None
    location: str | None
    online_url: str | None
    rrule: str | None


EVENT_COLUMNS = (
    Event.event_id,
    Event.org,
    Event.type,
    Event.starts_at,
    Event.title,
    Event.location,
    Event.online_url,
    Event.rrule,
)


def occurrences(
    row: EventRow, timezone: str, since: datetime, until: datetime
) -> Iterator[Occurrence]:
    """The event's occurrences starting in [since, until] (aware instants)."""
    zone = ZoneInfo(timezone)
    first_local = row.starts_at.astimezone(zone).replace(tzinfo=None)
    lo = since.astimezone(zone).replace(tzinfo=None)
    hi = until.astimezone(zone).replace(tzinfo=None)
    if row.rrule:
        try:
            rule = rrulestr(row.rrule, dtstart=first_local)
            starts = list(rule.between(lo, hi, inc=True))
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("event %s: unreadable rrule %r: %s", row.event_id, row.rrule, exc)
            return
    else:
        starts = [first_local] if lo <= first_local <= hi else []
    for local in starts:
        yield Occurrence(
            row.event_id,
            row.org,
            row.type,
            row.title,
            row.location,
            row.online_url,
            local.replace(tzinfo=zone).astimezone(UTC),
            local,
        )


@dataclass(frozen=True)
class ReminderUnit:
    occurrence: Occurrence
    days_before: int

    @property
    def occasion(self) -> str:
        return f"{self.occurrence.local_start.isoformat(timespec='minutes')}/d{self.days_before}"


def due_reminders(conn: Connection, ctx: PlanningContext) -> list[ReminderUnit]:
    """The reminders whose time has come, not yet planned, for events held in the shard."""
    units: list[ReminderUnit] = []
    for part in chunks(ctx.orgs):
        for found in conn.execute(select(*EVENT_COLUMNS).where(Event.org.in_(part))):
            event = EventRow(*found)
            policy = ctx.policy(event.org)
            if not policy.events_enabled or ctx.quiet(event.org):
                continue
            tz = ctx.timezone(event.org)
            until = ctx.now + timedelta(days=max(policy.event_days_before) + 2)
            for occ in occurrences(event, tz, ctx.now - _EXPAND_BEFORE, until):
                days = reminder_offset_due(
                    occ.starts_at,
                    policy.event_days_before,
                    policy.event_local_time,
                    tz,
                    ctx.now,
                    (policy.quiet_start, policy.quiet_end),
                )
                if days is None:
                    continue
                unit = ReminderUnit(occ, days)
                if not ctx.marked(KIND, occ.event_id, unit.occasion):
                    units.append(unit)
    return units


def reminder_drafts(conn: Connection, ctx: PlanningContext, unit: ReminderUnit) -> list[Draft]:
    occ = unit.occurrence
    day = occ.local_start.date()
    seen: set[str] = set()
    drafts: list[Draft] = []
    org_name = ctx.tree.names.get(occ.org, occ.org)
    # The reminder is named by its offset (d3, d0), but a late one (a scheduler that was
    # down) must say how far off the event really is, not "in 3 days" on the day before.
    today = ctx.now.astimezone(ZoneInfo(ctx.timezone(occ.org))).date()
    days_left = max(0, min(unit.days_before, (day - today).days))
    for row in members_of(conn, [occ.org], day):
        member_id = row.member_id  # type: ignore[attr-defined]
        if member_id in seen:
            continue
        seen.add(member_id)
        tz = ctx.timezone(row.home_org)  # type: ignore[attr-defined]
        data = {
            "member_name": row.name,  # type: ignore[attr-defined]
            "event_id": occ.event_id,
            "event_title": occ.title or "",
            "event_type": occ.type,
            "starts_at_local": occ.local_start.strftime("%Y-%m-%d %H:%M"),
            "location": occ.location,
            "online_url": occ.online_url,
            "org_name": org_name,
            "days_before": unit.days_before,
            "days_left": days_left,
        }
        occasion = f"{occ.event_id}@{unit.occasion}"
        drafts.extend(drafts_for(member_recipient(row, tz), KIND, occasion, data))
    return drafts
