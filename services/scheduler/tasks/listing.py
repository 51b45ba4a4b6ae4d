"""Writes the `due` listing as jsonl, a table for a person, CSV or XLSX.

CSV and XLSX cells never carry a live formula (`shared/ledger/formulas.py`): an id or an
organization's code is the ledger's text, and the ledger is typed by people.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from json.encoder import encode_basestring
from pathlib import Path
from typing import TextIO

from services.scheduler.tasks.due import LISTING_FIELDS, Task
from shared.ledger.formulas import csv_cell, xlsx_cell

FORMATS = ("jsonl", "table", "csv", "xlsx")
_TABLE_WIDTHS = {
    "member_id": 12,
    "rule": 22,
    "window_start": 10,
    "window_end": 10,
    "liaison_id": 12,
    "org": 14,
    "overdue_days": 7,
    "done": 4,
    "required": 8,
}
_TABLE_HEADERS = {"overdue_days": "overdue"}


def write_listing(tasks: Iterable[Task], fmt: str, out: TextIO | None, path: Path | None) -> int:
    """Write every task; returns how many. XLSX needs `path`; the others write to `out`."""
    if fmt == "xlsx":
        if path is None:
            raise ValueError("xlsx needs an output file (--out)")
        return _write_xlsx(tasks, path)
    assert out is not None
    count = 0
    if fmt == "jsonl":
        for task in tasks:
            count += 1
            out.write(jsonl_line(task))
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(LISTING_FIELDS)
        for task in tasks:
            count += 1
            writer.writerow(csv_cell("" if v is None else v) for v in task.as_listing().values())
    elif fmt == "table":
        out.write(_table_row({f: _TABLE_HEADERS.get(f, f) for f in LISTING_FIELDS}) + "\n")
        for task in tasks:
            count += 1
            out.write(_table_row(task.as_listing()) + "\n")
        out.write(f"{count} open task(s)\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return count


def jsonl_line(task: Task) -> str:
    """The task as one line of the jsonl contract: byte for byte what
    `json.dumps(task.as_listing(), ensure_ascii=False)` writes, plus the newline, without
    building the dict (a province-wide listing writes millions of lines)."""
    return (
        f'{{"member_id": {encode_basestring(task.member_id)}, '
        f'"rule": {encode_basestring(task.rule)}, '
        f'"window_start": {_json_date(task.window_start)}, '
        f'"window_end": {_json_date(task.window_end)}, '
        f'"liaison_id": {_json_text(task.liaison_id)}, '
        f'"org": {encode_basestring(task.org)}, '
        f'"overdue_days": {task.overdue_days!r}, "done": {task.done!r}, '
        f'"required": {task.required!r}}}\n'
    )


def _json_date(day: date | None) -> str:
    return "null" if day is None else f'"{day.isoformat()}"'


def _json_text(text: str | None) -> str:
    return "null" if text is None else encode_basestring(text)


def _table_row(values: dict[str, object]) -> str:
    cells = []
    for field, width in _TABLE_WIDTHS.items():
        value = values[field]
        text = "-" if value is None else str(value)
        cells.append(text.rjust(width) if isinstance(value, int) else text.ljust(width))
    return "  ".join(cells).rstrip()


def _write_xlsx(tasks: Iterable[Task], path: Path) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("due")
    sheet.append(list(LISTING_FIELDS))
    count = 0
    for task in tasks:
        count += 1
        sheet.append([xlsx_cell(sheet, v) for v in task.as_listing().values()])
    book.save(path)
    return count
