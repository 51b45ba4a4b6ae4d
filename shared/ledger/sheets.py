"""Worksheets for people: typed dates, columns as wide as what they hold, a frozen header.

Shared by every workbook liaison writes (the ledger export, the `due` listing, the
report). The sheet is write-only (streamed: a province's listing does not fit in memory
as a normal workbook), so the column widths have to be fixed before the first row is
written: they come from the header and the first `SAMPLE_ROWS` rows, measured in display
cells (a Chinese character is two: Unicode's East Asian width, as a terminal counts it;
shared/ draws nothing, so not rich's `cell_len`). Text goes in as text cells,
never formulas (`shared/ledger/formulas.py`); dates and times go in as date cells with a
date format, so that a spreadsheet sorts and filters them as dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from unicodedata import east_asian_width

from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from shared.ledger.formulas import xlsx_cell

SAMPLE_ROWS = 500  #: rows read before the column widths are fixed
MIN_WIDTH = 6  #: characters: a column is never narrower than this
MAX_WIDTH = 60  #: characters: a long note wraps in the sheet rather than widening it
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


class SheetWriter:
    """One sheet of a write-only workbook: `append` rows, then `close` (or leave the
    `with` block) before the workbook is saved."""

    def __init__(self, book: Any, title: str, headers: Sequence[str]) -> None:
        self.sheet = book.create_sheet(title)
        self.headers = list(headers)
        self._pending: list[list[object]] | None = []
        self.rows = 0

    def __enter__(self) -> SheetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append(self, values: Sequence[object]) -> None:
        self.rows += 1
        if self._pending is None:
            self._write(values)
            return
        self._pending.append(list(values))
        if len(self._pending) >= SAMPLE_ROWS:
            self._start()

    def close(self) -> None:
        if self._pending is not None:
            self._start()

    def _start(self) -> None:
        pending, self._pending = self._pending or [], None
        widths = [cell_len(h) for h in self.headers]
        for row in pending:
            widths = [max(w, _width(v)) for w, v in zip(widths, row, strict=False)]
        for index, width in enumerate(widths, start=1):
            fitted = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
            self.sheet.column_dimensions[get_column_letter(index)].width = fitted
        self.sheet.freeze_panes = "A2"
        self.sheet.append([xlsx_cell(self.sheet, h) for h in self.headers])
        for row in pending:
            self._write(row)

    def _write(self, values: Sequence[object]) -> None:
        self.sheet.append([self._cell(v) for v in values])

    def _cell(self, value: object) -> object:
        if isinstance(value, datetime):
            cell = WriteOnlyCell(self.sheet, value)
            cell.number_format = DATETIME_FORMAT
            return cell
        if isinstance(value, date):
            cell = WriteOnlyCell(self.sheet, value)
            cell.number_format = DATE_FORMAT
            return cell
        return xlsx_cell(self.sheet, value)


def _width(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len("2026-01-01 00:00")
    if isinstance(value, date):
        return len("2026-01-01")
    return cell_len(str(value))


def cell_len(text: str) -> int:
    """Display cells of `text`: two for a wide or full-width character, one otherwise."""
    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)
