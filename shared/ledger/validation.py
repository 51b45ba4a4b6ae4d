"""Row validation: raw cells of one kind → typed values, or problem lines.

Pure: no database. References to other rows are checked by the importer, which knows
what the file set and the database hold; this module only checks each row by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.ledger import spellings as words
from shared.ledger import values as v
from shared.ledger.formulas import strip_cell
from shared.ledger.kinds import BIRTH, Column, Kind, ValueType
from shared.ledger.problems import problem
from shared.settings import DEFAULT_TIMEZONE

#: Kinds whose phone tells one row from another: an inbound SMS is matched to its liaison
#: by the number it comes from, so two liaisons may not share one.
UNIQUE_PHONE_KINDS = frozenset({"liaisons"})


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number cell: 1001.0 was typed as 1001
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return strip_cell(str(value))


def _choice(column: Column) -> Callable[[object], str]:
    def parse(value: object) -> str:
        code = words.choice_from_word(_text(value), column.choices, column.spellings)
        if code is None:
            raise v.InvalidValue(f"not one of {_shown_choices(column)}")
        return code

    return parse


def _shown_choices(column: Column) -> str:
    """`active (正常), returned (已返乡), …`: each code with its first Chinese word."""
    shown = []
    for code in column.choices:
        word = words.first_word(code, column.spellings)
        shown.append(f"{code} ({word})" if word else code)
    return ", ".join(shown)


_PARSERS: dict[ValueType, Callable[[object], object]] = {
    ValueType.TEXT: _text,
    ValueType.DATE: v.parse_date,
    ValueType.DATETIME: v.parse_local_datetime,
    ValueType.PHONE: v.normalise_phone,
    ValueType.EMAIL: v.check_email,
    ValueType.ID_NUMBER: v.check_id_number,
    ValueType.TIMEZONE: v.check_timezone,
    ValueType.RRULE: v.check_rrule,
    ValueType.URL: v.check_url,
}


def parse_cell(column: Column, value: object) -> object:
    """The typed value of one non-empty cell; `InvalidValue` with the reason otherwise."""
    parser = _choice(column) if column.type is ValueType.CHOICE else _PARSERS[column.type]
    try:
        parsed = parser(value)
    except v.InvalidValue:
        raise
    except Exception as exc:  # a library parser failing in a way it does not document
        raise v.InvalidValue(f"not understood ({type(exc).__name__})") from exc
    if isinstance(parsed, str):
        if "\x00" in parsed:
            raise v.InvalidValue("contains a NUL character")
        if len(parsed) > column.max_length:
            raise v.InvalidValue(f"longer than {column.max_length} characters")
    return parsed


class RowValidator:
    """Checks rows of one kind, as read with the given columns present."""

    def __init__(self, kind: Kind, columns: tuple[str, ...]) -> None:
        self.kind = kind
        self.columns = tuple(kind.column(name) for name in columns)
        #: phone → where it was first seen, for the kinds whose phones must differ. Only
        #: this table's rows: a phone already in the database or in another file of the
        #: set is the importer's to check.
        self._phones: dict[str, str] | None = {} if kind.name in UNIQUE_PHONE_KINDS else None

    def validate(
        self, where: str, raw: Mapping[str, object], problems: list[str]
    ) -> tuple[dict[str, object], bool]:
        """Typed values by column name (the valid ones), and whether the whole row is valid.

        Every problem found is appended to `problems`.
        """
        row: dict[str, object] = {}
        before = len(problems)
        for column in self.columns:
            value = raw.get(column.name)
            if value is None:
                if column.required:
                    what = "required, but empty"
                    problems.append(problem(where, column, column.name, None, what))
                row[column.name] = column.default
                continue
            try:
                row[column.name] = parse_cell(column, value)
            except v.InvalidValue as exc:
                problems.append(problem(where, column, column.name, value, str(exc)))
        self._check_row(where, raw, row, problems)
        self._check_phone(where, raw, row, problems)
        return row, len(problems) == before

    def _check_phone(
        self, where: str, raw: Mapping[str, object], row: dict[str, object], problems: list[str]
    ) -> None:
        phone = row.get("phone")
        if self._phones is None or not isinstance(phone, str):
            return
        first = self._phones.setdefault(phone, where)
        if first != where:
            what = f"already the phone on {first} (replies are matched by phone)"
            problems.append(
                problem(where, self.kind.column("phone"), "phone", raw.get("phone"), what)
            )

    def _check_row(
        self, where: str, raw: Mapping[str, object], row: dict[str, object], problems: list[str]
    ) -> None:
        born = _birth_date(row)
        dates = {**row, BIRTH: born}
        for earlier, later in self.kind.date_order:
            a, b = dates.get(earlier), dates.get(later)
            if isinstance(a, date) and isinstance(b, date) and b < a:
                column = self.kind.column(later)
                what = f"before {'the birth date' if earlier == BIRTH else earlier} ({a})"
                problems.append(problem(where, column, later, raw.get(later), what))
        given, id_number = row.get("birth_date"), row.get("id_number")
        if (
            isinstance(given, date)
            and isinstance(id_number, str)
            and v.birth_date_from_id(id_number) != given
        ):
            column = self.kind.column("birth_date")
            what = "differs from the birth date inside the ID number"
            problems.append(problem(where, column, "birth_date", raw.get("birth_date"), what))


def _birth_date(row: Mapping[str, object]) -> date | None:
    """The birth date a row states, or else the one inside its (valid) ID number."""
    given, id_number = row.get("birth_date"), row.get("id_number")
    if isinstance(given, date):
        return given
    if isinstance(id_number, str):
        return v.birth_date_from_id(id_number)
    return None


def to_utc(local: datetime, timezone: str | None) -> datetime:
    """A local wall time in `timezone` (default Asia/Shanghai) as an aware UTC instant."""
    from datetime import UTC

    return local.replace(tzinfo=ZoneInfo(timezone or DEFAULT_TIMEZONE)).astimezone(UTC)
