"""Organization-life reminders: each occurrence of an event, to every in-scope member of
the holding organization (home branch, 流出地) and of those hosted by it (流入地).

Who is reached (`event_reminder.reach`, docs/messages.md): with `subtree`, the default, an
event held by a town or county committee reminds the members of every organization under
it, as a branch's own event reminds its own; with `holding_branch`, only the members whose
home or host organization is the holding one (a town's meeting of its own committee
members, say). For a branch the two are the same.

A member is reminded only when in scope (rules.md: active, already mobile, not muted) both
on the day the reminder is planned and on the day of the event; the send-time refresher
(`event_refresher`) checks again on the day it leaves, and cancels a reminder for an event
that has already begun.

Recurring events are expanded from their RRULE, read on the organization's wall clock (a
theme day "on the 10th at 09:00" stays at 09:00 across a daylight-saving change).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlalchemy import Connection, and_, or_, select
from sqlalchemy.orm import Session

from services.notifier import Refresher
from services.scheduler.planning.message_policy import REACH_HOLDING_BRANCH
from services.scheduler.planning.recipients import Draft, drafts_for, member_in_scope
from services.scheduler.planning.schedules import local_date, reminder_offset_due
from services.scheduler.planning.shard_view import (
    MEMBER_COLUMNS,
    ShardView,
    chunks,
    in_scope,
    member_recipient,
)
from shared.clock import Clock
from shared.models import Event, Member, Notification

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


def due_reminders(conn: Connection, view: ShardView) -> list[ReminderUnit]:
    """The reminders whose time has come, not yet planned, for events held in the shard."""
    units: list[ReminderUnit] = []
    for part in chunks(view.orgs):
        for found in conn.execute(select(*EVENT_COLUMNS).where(Event.org.in_(part))):
            event = EventRow(*found)
            policy = view.policy(event.org)
            if not policy.events_enabled or view.quiet(event.org):
                continue
            tz = view.timezone(event.org)
            until = view.now + timedelta(days=max(policy.event_days_before) + 2)
            for occ in occurrences(event, tz, view.now - _EXPAND_BEFORE, until):
                days = reminder_offset_due(
                    occ.starts_at,
                    policy.event_days_before,
                    policy.event_local_time,
                    tz,
                    view.now,
                    (policy.quiet_start, policy.quiet_end),
                )
                if days is None:
                    continue
                unit = ReminderUnit(occ, days)
                if not view.marked(KIND, occ.event_id, unit.occasion):
                    units.append(unit)
    return units


def reached_orgs(view: ShardView, org: str) -> list[str]:
    """The organizations whose members an event held by `org` reminds (see the docstring)."""
    if view.policy(org).event_reach == REACH_HOLDING_BRANCH:
        return [org]
    return view.tree.subtree(org)


def members_reached(conn: Connection, orgs: list[str], days: tuple[date, ...]) -> list[Any]:
    """Members whose home or host organization is one of `orgs`, in scope on every day of
    `days`, each once, in member-id order."""
    scoped = and_(*(in_scope(day) for day in days))
    found: dict[str, Any] = {}
    for part in chunks(orgs):
        for row in conn.execute(
            select(*MEMBER_COLUMNS).where(
                or_(Member.home_org.in_(part), Member.host_org.in_(part)), scoped
            )
        ):
            found.setdefault(row.member_id, row)
    return [found[k] for k in sorted(found)]


def reminder_drafts(conn: Connection, view: ShardView, unit: ReminderUnit) -> list[Draft]:
    occ = unit.occurrence
    day = occ.local_start.date()
    drafts: list[Draft] = []
    org_name = view.tree.names.get(occ.org, occ.org)
    today = view.now.astimezone(ZoneInfo(view.timezone(occ.org))).date()
    # `days_before`/`days_left` are kept for override templates written before the
    # shipped ones worded the day from `event_date` and the send day (`today`).
    days_left = max(0, min(unit.days_before, (day - today).days))
    for row in members_reached(conn, reached_orgs(view, occ.org), (today, day)):
        tz = view.timezone(row.home_org)
        data = {
            "member_name": row.name,
            "event_id": occ.event_id,
            "event_title": occ.title or "",
            "event_type": occ.type,
            "starts_at_local": occ.local_start.strftime("%Y-%m-%d %H:%M"),
            "event_date": day.isoformat(),
            "starts_time": occ.local_start.strftime("%H:%M"),
            "starts_at": occ.starts_at.isoformat(),
            "location": occ.location,
            "online_url": occ.online_url,
            "org_name": org_name,
            "days_before": unit.days_before,
            "days_left": days_left,
            "planned_on": today.isoformat(),
        }
        occasion = f"{occ.event_id}@{unit.occasion}"
        recipient = member_recipient(row, tz)
        drafts.extend(drafts_for(recipient, KIND, occasion, data, view.sms_route(recipient.org)))
    return drafts


def event_refresher(clock: Clock) -> Refresher:
    """The refresher of event reminders: at send time, cancel the reminder of a member out
    of scope today or on the event day, or of an event that has begun; otherwise the data
    with the send day (`today`) the templates word the date from."""

    def refresh(session: Session, notification: Notification) -> dict[str, Any] | None:
        now = clock.now()
        data = dict(notification.data)
        _complete_from_occasion(data, notification.occasion)
        starts_at = data.get("starts_at")
        if starts_at and now >= datetime.fromisoformat(str(starts_at)):
            return None
        today = local_date(now, notification.timezone)
        event_day = date.fromisoformat(str(data["event_date"]))
        if not member_in_scope(session, notification.recipient_id, (today, event_day)):
            return None
        data["today"] = today.isoformat()
        return data

    return refresh


def _complete_from_occasion(data: dict[str, Any], occasion: str) -> None:
    """Fill `event_date` and `starts_time` of a reminder planned before they were stored,
    from its occasion (`E-1@2026-12-05T19:30/d3`) or its `starts_at_local`."""
    if "event_date" in data and "starts_time" in data:
        return
    local = str(data.get("starts_at_local", ""))
    if len(local) < 16 or local[4] != "-":
        local = occasion.partition("@")[2].partition("/")[0].replace("T", " ")
    data.setdefault("event_date", local[:10])
    data.setdefault("starts_time", local[11:16])
