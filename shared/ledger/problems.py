"""Problem lines: `file:row: column: value: what is wrong`, with personal values masked."""

from __future__ import annotations

from datetime import date, datetime

from shared.ledger.kinds import Column, ValueType
from shared.masking import mask_email, mask_id_number, mask_phone, mask_text

MAX_SHOWN_CHARS = 60  #: longer values are cut in problem lines


def show_value(column: Column | None, value: object) -> str:
    """The value as a person may see it in a problem line: masked when personal."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    text = " ".join(text.split())  # a problem stays on one line
    if column is not None and column.personal:
        if column.type is ValueType.PHONE:
            text = mask_phone(text)
        elif column.type is ValueType.EMAIL:
            text = mask_email(text)
        else:
            text = mask_id_number(text)
    if len(text) > MAX_SHOWN_CHARS:
        text = text[: MAX_SHOWN_CHARS - 1] + "…"
    return text


def problem(where: str, column: Column | None, name: str, value: object, what: str) -> str:
    """One problem line. Free text is masked too, in case a note holds a phone number."""
    return mask_text(f"{where}: {name}: {show_value(column, value)}: {what}")
