"""Parsing and checking of single ledger values: dates, phones, ID numbers, emails…

Each parser returns the canonical value or raises `InvalidValue` with a short reason that
the importer places after `file:row: column: value:`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from dateutil.rrule import rrulestr
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from shared.settings import DEFAULT_PHONE_REGION


class InvalidValue(ValueError):
    """Raised when one cell's value cannot be taken as its column's type."""


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_TIME_PATTERN = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")
_EXCEL_EPOCH = date(1899, 12, 30)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def parse_date(value: object) -> date:
    """`2026-03-01`, `2026/3/1`, `2026年3月1日`, `20260301` or a spreadsheet date cell."""
    if isinstance(value, datetime):
        if value.time() != time(0):
            raise InvalidValue("a date is expected, not a date and time")
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A date cell read without its number format: days since Excel's epoch.
        if 1 <= value < 2958466 and float(value).is_integer():
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise InvalidValue("not a date")
    text = str(value).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            y, m, d = (int(g) for g in match.groups())
            try:
                return date(y, m, d)
            except ValueError as exc:
                raise InvalidValue(f"no such date ({exc})") from exc
    raise InvalidValue("not a date (write 2026-03-01, 2026/3/1 or 2026年3月1日)")


def parse_local_datetime(value: object) -> datetime:
    """A local wall time: a date as above followed by `9:30` or `09:30:00`, or a datetime cell."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)
    text = str(value).strip().replace("T", " ")
    day_part, _, time_part = text.partition(" ")
    day = parse_date(day_part)
    time_part = time_part.strip()
    if not time_part:
        return datetime.combine(day, time(0))
    match = _TIME_PATTERN.match(time_part)
    if not match:
        raise InvalidValue("not a time of day (write 2026-03-10 09:00)")
    h, mi, s = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    try:
        return datetime.combine(day, time(h, mi, s))
    except ValueError as exc:
        raise InvalidValue(f"no such time ({exc})") from exc


def normalise_phone(value: object, region: str = DEFAULT_PHONE_REGION) -> str:
    """A phone number in E.164 (`+8613812345678`); numbers without a country code are `region`'s."""
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():  # a number cell: 13812345678.0
        text = str(int(value))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue("not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_id_number(value: object) -> str:
    """An 18-digit resident ID number with a correct check digit and a plausible birth date.

    The region code is deliberately not looked up: region codes are reorganised over the
    years while people keep their numbers, and python-stdnum's table rejects real counties
    (340825, Taihu, for one). The check digit already catches mistyped numbers.
    """
    text = str(value).strip().upper()
    if len(text) != 18 or not re.fullmatch(r"\d{17}[\dX]", text):
        raise InvalidValue("an ID number has 18 characters: 17 digits and a digit or X")
    if text[-1] != ric.calc_check_digit(text):  # it expects the whole number
        raise InvalidValue("wrong check digit")
    try:
        born = ric.get_birth_date(text)
    except ValidationError as exc:
        raise InvalidValue("the birth date inside it is not a real date") from exc
    if born.year < 1900 or born > date.today():
        raise InvalidValue("the birth date inside it is not plausible")
    return text


def birth_date_from_id(id_number: str) -> date:
    return ric.get_birth_date(id_number)


def check_email(value: object) -> str:
    text = str(value).strip()
    if not _EMAIL.match(text):
        raise InvalidValue("not an email address")
    return text


def check_timezone(value: object) -> str:
    text = str(value).strip()
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidValue("not a time zone name (write Asia/Shanghai)") from exc
    return text


def check_rrule(value: object) -> str:
    text = str(value).strip()
    try:
        rrulestr(text, dtstart=datetime(2026, 1, 1))
    except (ValueError, TypeError) as exc:
        raise InvalidValue("not an iCalendar RRULE (e.g. FREQ=MONTHLY;BYMONTHDAY=10)") from exc
    return text


def check_url(value: object) -> str:
    text = str(value).strip()
    if not re.match(r"^https?://\S+$", text):
        raise InvalidValue("not a web address (http:// or https://)")
    return text
