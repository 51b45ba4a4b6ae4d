"""One synthetic mobile member's personal facts: name, ID number, dates, contacts, status.

Ages are drawn so that about 3.4% are 80 or over on the as-of date, some turning 80 during
the year; member numbers ending in 017 are born on 29 Feb and those ending in 523 joined
the party on 29 Feb, so every ledger of a thousand members or more has both.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import date

from stdnum.cn.ric import calc_check_digit

from shared.errors import LedgerError
from shared.ledger import synthetic_vocabulary as vocab
from shared.ledger.synthetic_dates import age_on, years_before
from shared.ledger.synthetic_draws import Weighted, between
from shared.ledger.synthetic_layout import person_name, phone_number

MEMBER_PREFIXES = ("138", "150", "151", "186", "187", "188", "158", "159", "152", "182", "199")
ELDERLY_SHARE = 0.032
LEAP_BIRTH_SLOT = 17  #: member numbers ≡ this (mod 1000) are born on 29 Feb and aged 80+
LEAP_JOIN_SLOT = 523  #: member numbers ≡ this (mod 1000) joined on 29 Feb and are aged 80+
_AREAS = Weighted([(index, weight) for index, (_, _, weight) in enumerate(vocab.ID_AREAS)])
_REASONS = Weighted(vocab.REASONS)
DAYS_18_YEARS = 6575


@dataclass(slots=True)
class Person:
    member_id: str
    name: str
    id_number: str
    born: int  #: ordinal
    birth_date_written: bool  #: False: the ledger leaves it empty, to be read from the ID
    join: int
    mobile_since: int
    phone: str
    email: str
    reason: str
    certificate_no: str
    certificate_issued: int | None
    status: str
    active_until: int  #: the as-of date, or the day a member left the ledger's care
    locale: str
    channels: str
    elderly_on_as_of: bool
    elderly_this_year: bool  #: 80 or over by the end of the as-of year
    frequent_mover: bool


def _birth(rng: random.Random, number: int, as_of: date) -> date:
    slot = number % 1000
    if slot == LEAP_BIRTH_SLOT:
        years = [y for y in range(as_of.year - 90, as_of.year - 80) if calendar.isleap(y)]
        return date(rng.choice(years), 2, 29)
    r = rng.random()
    if r < ELDERLY_SHARE or slot == LEAP_JOIN_SLOT:
        if rng.random() < 0.25:  # turned 80 within the last year
            oldest, youngest = 81, 80
        else:
            oldest, youngest = 96, 81
        low = years_before(as_of, oldest).toordinal() + 1
        return date.fromordinal(between(rng, low, years_before(as_of, youngest).toordinal()))
    if r < ELDERLY_SHARE + 0.005:  # aged 79, turning 80 later in the as-of year
        low = years_before(as_of, 80).toordinal() + 1
        high = date(as_of.year - 80, 12, 31).toordinal()
        if low <= high:
            return date.fromordinal(between(rng, low, high))
    u = rng.random()
    age = 20 + int(30 * u) if u < 0.72 else 50 + int(29 * rng.random() ** 1.5)
    end = years_before(as_of, age).toordinal()
    return date.fromordinal(end - int(rng.random() * 365))


class OrderCodes:
    """The order codes (the 3 digits after the birth date) given out so far.

    The code tells apart people born on the same day in the same place; handing them out
    in turn keeps every ID number in the ledger unique. A ledger written in `parts`
    parallel parts gives part k the turns k, k + parts, k + 2·parts… so parts never collide.
    """

    LIMIT = 499  #: turns per (day, place, sex): odd codes 001–997 for men, even for women

    def __init__(self, part: int = 0, parts: int = 1) -> None:
        self._part, self._parts = part, parts
        self._taken: dict[int, int] = {}

    def take(self, key: int) -> int | None:
        """The next turn for `key`, or None when its codes are used up."""
        n = self._taken.get(key, 0)
        turn = n * self._parts + self._part
        if turn >= self.LIMIT:
            return None
        self._taken[key] = n + 1
        return turn


def _id_number(rng: random.Random, born: date, male: bool, codes: OrderCodes) -> str:
    """An 18-digit ID number, unique within the ledger, with a correct check digit."""
    area = _AREAS.draw(rng)
    for offset in range(len(vocab.ID_AREAS)):
        index = (area + offset) % len(vocab.ID_AREAS)
        n = codes.take((born.toordinal() * 8 + index) * 2 + male)
        if n is not None:
            break
    else:
        raise LedgerError(f"too many people born on {born} for unique ID numbers")
    new_code, old_code, _ = vocab.ID_AREAS[index]
    code = new_code if born.year > 1988 else old_code
    order = 2 * n + 1 if male else 2 * n + 2
    body = f"{code}{born:%Y%m%d}{order:03d}"
    return body + calc_check_digit(body + "0")


def draw_person(rng: random.Random, as_of: date, number: int, codes: OrderCodes) -> Person:
    """One member, every attribute drawn from `rng`.

    Longer than our functions usually are, on purpose: the order of the draws *is* the
    ledger. Split into helpers it must keep exactly this order, or every synthetic
    ledger of a given seed changes (and with it the benchmarks' and drills' baselines).
    """
    today = as_of.toordinal()
    name, pinyin = person_name(rng)
    male = rng.random() < 0.6
    born = _birth(rng, number, as_of)
    born_ord = born.toordinal()
    elderly_now = age_on(born, as_of) >= 80
    elderly_this_year = age_on(born, date(as_of.year, 12, 31)) >= 80
    if number % 1000 == LEAP_JOIN_SLOT:
        years = [y for y in range(born.year + 19, born.year + 60) if calendar.isleap(y)]
        join = date(rng.choice(years), 2, 29).toordinal()
    else:
        latest = min(today - 30, born_ord + (60 * 365 if elderly_now else 50 * 365))
        join = between(rng, born_ord + DAYS_18_YEARS + 5, latest)
    r = rng.random()
    status = "active"
    if r < 0.04:
        status = "returned"
    elif r < 0.065:
        status = "transferred"
    elif r < 0.08:
        status = "deceased"
    frequent = status == "active" and rng.random() < 0.033
    month_start = as_of.replace(day=1).toordinal()
    if status == "active" and not frequent and rng.random() < 0.01:  # left this month
        mobile_since = between(rng, month_start, today)
    else:
        mobile_since = max(join, today - between(rng, 100 if frequent else 60, 3650))
    active_until = today if status == "active" else max(mobile_since + 1, today - between(
        rng, 5, 300))  # fmt: skip
    if active_until > today:
        active_until, status = today, "active"
    c = rng.random()
    channels = "sms" if c < 0.77 else ("sms+email" if c < 0.97 else "email")
    email = ""
    if channels != "sms" or rng.random() < 0.05:
        email = f"{pinyin}.{number + 1}@example.{'com' if number % 2 else 'net'}"
    phone = phone_number(MEMBER_PREFIXES[number % len(MEMBER_PREFIXES)], number)
    if channels == "email" and rng.random() < 0.5:
        phone = ""
    issued = None
    certificate_no = ""
    if rng.random() < 0.88:
        issued = max(mobile_since, today - between(rng, 0, 729))
        certificate_no = f"THLD{date.fromordinal(issued).year}{number + 1:07d}"
    return Person(
        member_id=f"M{number + 1:07d}",
        name=name,
        id_number=_id_number(rng, born, male, codes),
        born=born_ord,
        birth_date_written=rng.random() < 0.85,
        join=join,
        mobile_since=mobile_since,
        phone=phone,
        email=email,
        reason=_REASONS.draw(rng),
        certificate_no=certificate_no,
        certificate_issued=issued,
        status=status,
        active_until=active_until,
        locale="en" if rng.random() < 0.02 else "zh-CN",
        channels=channels,
        elderly_on_as_of=elderly_now,
        elderly_this_year=elderly_this_year,
        frequent_mover=frequent,
    )
