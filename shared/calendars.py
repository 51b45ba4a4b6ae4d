"""China's calendar: the Spring Festival, public holidays and adjusted working days (调休).

Everything comes from the maintained `holidays` package; nothing is typed in by hand.
Official adjusted working days for a year are published late in the year before, so the
package may not know next year's yet: `adjusted_days_known` says so, and callers fall back
to weekends, the public holidays the package does know, and an organization's own overrides.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache

import holidays

#: the days the rules can be asked about (`--as-of`, the API's `as_of`, report periods):
#: the `holidays` package knows the Spring Festival of 1901..2099, and a rule's window may
#: reach into the year before or after the day asked about, hence a year's margin each end
FIRST_DAY = date(1902, 1, 1)
LAST_DAY = date(2098, 12, 31)

_SPRING_FESTIVAL = "Chinese New Year (Spring Festival)"


@lru_cache(maxsize=64)
def _china(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("CN", years=year, language="en_US")


@lru_cache(maxsize=256)
def spring_festival(year: int) -> date:
    """The lunar new year's day (春节, 正月初一) falling in `year`."""
    days = sorted(d for d, name in _china(year).items() if name == _SPRING_FESTIVAL)
    if not days:  # pragma: no cover - the package covers 1901..2099
        raise ValueError(f"the calendar library does not know the Spring Festival of {year}")
    return days[0]


def adjusted_days_known(year: int) -> bool:
    """Whether the library knows the official adjusted working days (调休) of `year`."""
    return any(d.year == year for d in _china(year).weekend_workdays)


def is_working_day(day: date, overrides: Mapping[date, bool] | None = None) -> bool:
    """A working day in China: weekdays that are not public holidays, plus adjusted
    weekend working days; an organization's own override for the day wins."""
    if overrides and day in overrides:
        return overrides[day]
    return bool(_china(day.year).is_working_day(day))


def first_working_day_of_month(
    year: int, month: int, overrides: Mapping[date, bool] | None = None
) -> date:
    day = date(year, month, 1)
    while not is_working_day(day, overrides):
        day = date.fromordinal(day.toordinal() + 1)
    return day
