"""Working days per organization: China's calendar, with each organization's own overrides.

An organization's `calendar_overrides` hold for its whole subtree (the nearest ancestor's
entry for a day wins), as policy does. When the calendar library does not yet know a
year's adjusted working days (调休), `shared.calendars.is_working_day` already falls back
to weekends and the known public holidays; `calendar_gaps` says which years that is, so the
scheduler can warn and a dashboard can show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.calendars import adjusted_days_known, is_working_day
from shared.models import CalendarOverride
from shared.org_tree import OrgTree

#: how far ahead a calendar counts as "in use" (digests, reminders three days out)
LOOKAHEAD_DAYS = 45
#: a stretch of days off longer than this is taken as a misconfiguration, not a holiday
MAX_DAYS_OFF = 31


def calendar_gaps(today: date) -> list[int]:
    """The years in use (this one and, near its end, the next) whose adjusted working days
    the calendar library does not know."""
    years = sorted({today.year, (today + timedelta(days=LOOKAHEAD_DAYS)).year})
    return [y for y in years if not adjusted_days_known(y)]


@dataclass
class OrgCalendars:
    """Which days are working days for each organization."""

    tree: OrgTree
    own: dict[str, dict[date, bool]]  #: each organization's own overrides
    _merged: dict[str, dict[date, bool]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, tree: OrgTree) -> OrgCalendars:
        own: dict[str, dict[date, bool]] = {}
        for row in session.execute(
            select(CalendarOverride.org, CalendarOverride.day, CalendarOverride.is_working_day)
        ):
            own.setdefault(row.org, {})[row.day] = row.is_working_day
        return cls(tree, own)

    def overrides(self, org: str) -> dict[date, bool]:
        merged = self._merged.get(org)
        if merged is None:
            merged = {}
            for code in reversed(self.tree.lineage(org)):  # the nearest is applied last
                merged.update(self.own.get(code, {}))
            self._merged[org] = merged
        return merged

    def is_working_day(self, org: str, day: date) -> bool:
        return is_working_day(day, self.overrides(org))

    def working_day_on_or_after(self, org: str, day: date) -> date:
        for offset in range(MAX_DAYS_OFF + 1):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(org, candidate):
                return candidate
        return day  # a month of days off is a data error: send on the day rather than never
