"""The member's attendance at organization life, for `liaison why`: no rule asks for it,
but the report counts members who attended no event this year, and a secretary asking
"why" about a member wants to see it beside the contacts and visits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from shared.models import Attendance, Event, Organization

SHOWN = 20  #: attendances listed, newest first; older ones are counted


def attendance_lines(engine: Engine, member_id: str, as_of: date) -> list[str]:
    """A heading and one line per attendance up to `as_of`, newest first."""
    query = (
        select(
            Attendance.on_date,
            Event.event_id,
            Event.type,
            Event.title,
            Event.org,
            Organization.name,
        )
        .join(Event, Event.event_id == Attendance.event_id)
        .outerjoin(Organization, Organization.code == Event.org)
        .where(Attendance.member_id == member_id, Attendance.on_date <= as_of)
        .order_by(Attendance.on_date.desc(), Event.event_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    this_year = sum(1 for r in rows if r.on_date.year == as_of.year)
    if not rows:
        return [f"attendance (organization life): none recorded up to {as_of.isoformat()}"]
    lines = [
        f"attendance (organization life): {len(rows)} recorded, {this_year} in {as_of.year}"
        + ("" if len(rows) <= SHOWN else f"; the latest {SHOWN}:")
    ]
    for r in rows[:SHOWN]:
        title = f" {r.title}" if r.title else ""
        held = f"{r.name} {r.org}" if r.name else r.org
        lines.append(f"  {r.on_date.isoformat()}  {r.type}{title} ({r.event_id}), held by {held}")
    return lines
