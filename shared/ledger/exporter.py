"""Export the ledger in exactly the import format, a kind at a time, streaming.

Canonical headers, rows ordered by key, dates as `2026-03-01`, event times as local
`2026-03-10 09:00` in the organization's time zone, empty cells for NULL. CSV is UTF-8
with a BOM and CRLF line ends (what Excel on a Chinese system opens correctly). Personal
columns are masked unless `full=True`: full values only in exports asked for explicitly.
A masked export also hides what would give a mask back: the birth date (the ID number's
hidden digits) in its column and wherever a member's row writes it, and phones, ID numbers
and emails typed into free text (`shared.masking.mask_text`).

XLSX is for people as well as for the importer (`shared/ledger/sheets.py`): typed date
cells, fitted widths, a frozen header and, with `chinese_headers`, each column's first
Chinese alias as its header (the importer reads the aliases, so the workbook still
imports back). CSV keeps the canonical headers and codes, byte for byte the contract.
Progress (`shared.progress`) is told the rows of each kind as they are written.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Literal, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Select, func, select

from shared.errors import LedgerError
from shared.ledger.formulas import csv_cell
from shared.ledger.kinds import KINDS, KINDS_BY_NAME, Column, Kind, ValueType
from shared.ledger.problems import show_value
from shared.ledger.sheets import SheetWriter
from shared.ledger.storage import db_column, key_columns, table_for
from shared.ledger.values import birth_date_from_id
from shared.masking import MASKED_DATE, mask_date, mask_text
from shared.models import Organization
from shared.progress import Progress, no_progress
from shared.settings import DEFAULT_TIMEZONE

STREAM_ROWS = 5_000  #: rows fetched from the database at a time
BOM = "\ufeff"
Format = Literal["csv", "xlsx"]


def _select(kind: Kind) -> Select[tuple[object, ...]]:
    table = table_for(kind)
    columns = [table.c[db_column(name)] for name in kind.column_names]
    query = select(*columns)
    if kind.name == "events":
        # Event times are stored in UTC and written in the organization's wall time.
        query = query.add_columns(Organization.timezone).outerjoin(
            Organization, Organization.code == table.c.org
        )
    return query.order_by(*key_columns(kind))


PROGRESS_ROWS = 1_000  #: rows between two reports to `progress`


def kind_rows(
    engine: Engine, kind: Kind, progress: Progress = no_progress
) -> Iterator[tuple[object, ...]]:
    """Every row of `kind` ordered by key, fetched in chunks (the event's time zone last);
    `progress` hears of them under the kind's name, with their total."""
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(table_for(kind))).scalar_one()
        if total:  # an empty kind has nothing to show (and a bar of 0 never finishes)
            progress(kind.name, 0, int(total))
        result = conn.execution_options(yield_per=STREAM_ROWS).execute(_select(kind))
        done = 0
        for row in result:
            yield tuple(row)
            done += 1
            if done % PROGRESS_ROWS == 0:
                progress(kind.name, PROGRESS_ROWS)
        if done % PROGRESS_ROWS:
            progress(kind.name, done % PROGRESS_ROWS)


def _local(value: datetime, timezone: object) -> datetime:
    return value.astimezone(ZoneInfo(str(timezone or DEFAULT_TIMEZONE))).replace(tzinfo=None)


def _local_text(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")


def _cells(kind: Kind, row: tuple[object, ...], full: bool, for_xlsx: bool) -> list[object]:
    cells: list[object] = []
    born = None if full else _birth_date(kind, row)
    for column, value in zip(kind.columns, row, strict=False):
        cells.append(_cell(column, value, row[-1], full, for_xlsx, born))
    return cells


def _birth_date(kind: Kind, row: tuple[object, ...]) -> date | None:
    """The birth date inside the row's ID number, which its mask hides; None without one."""
    if "id_number" not in kind.column_names:
        return None
    id_number = row[kind.column_names.index("id_number")]
    try:
        return birth_date_from_id(str(id_number)) if id_number else None
    except ValueError:  # python-stdnum's errors are ValueErrors: an ID imported long ago
        return None


def _cell(
    column: Column,
    value: object,
    timezone: object,
    full: bool,
    for_xlsx: bool,
    born: date | None = None,
) -> object:
    if value is None:
        return None if for_xlsx else ""
    if column.restores_personal and not full:
        return MASKED_DATE
    if column.type is ValueType.DATETIME and isinstance(value, datetime):
        local = _local(value, timezone)
        return local if for_xlsx else _local_text(local)
    if isinstance(value, date):
        return value if for_xlsx else value.isoformat()
    if column.personal and not full:
        return show_value(column, value)
    if full:
        return str(value)
    # Free text can hold what the masked columns hide: a phone or ID number typed into a
    # note, the birth date inside a certificate number.
    text = mask_text(str(value))
    return mask_date(text, born) if born else text


def write_csv(
    engine: Engine,
    kind: Kind,
    handle: TextIO,
    *,
    full: bool = False,
    progress: Progress = no_progress,
) -> int:
    """One kind as CSV on an open text handle (opened with newline=''); the row count."""
    handle.write(BOM)
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow(kind.column_names)
    count = 0
    for row in kind_rows(engine, kind, progress):
        writer.writerow([csv_cell(c) for c in _cells(kind, row, full, for_xlsx=False)])
        count += 1
    return count


def headers(kind: Kind, *, chinese: bool) -> list[str]:
    """The header row: canonical names, or each column's first Chinese alias."""
    if not chinese:
        return list(kind.column_names)
    return [c.aliases[0] if c.aliases else c.name for c in kind.columns]


def write_xlsx(
    engine: Engine,
    kinds: tuple[Kind, ...],
    path: Path,
    *,
    full: bool = False,
    chinese_headers: bool = False,
    progress: Progress = no_progress,
) -> int:
    """A workbook with a sheet per kind (named after it), written as it streams; the row
    count."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    count = 0
    for kind in kinds:
        with SheetWriter(book, kind.name, headers(kind, chinese=chinese_headers)) as sheet:
            for row in kind_rows(engine, kind, progress):
                sheet.append(_cells(kind, row, full, for_xlsx=True))
                count += 1
    book.save(path)
    return count


def export_kind(
    engine: Engine,
    kind: str,
    fmt: Format,
    out: Path | TextIO,
    *,
    full: bool = False,
    chinese_headers: bool = False,
    progress: Progress = no_progress,
) -> int:
    """Write `kind` (or `all`) as `fmt` to `out`; the number of rows written.

    `all` as CSV needs a directory (a `<kind>.csv` per kind); as XLSX, one workbook.
    `chinese_headers` is for XLSX only: CSV always has the contract's names.
    """
    if kind != "all" and kind not in KINDS_BY_NAME:
        raise LedgerError(f"{kind!r} is not a kind (all, {', '.join(KINDS_BY_NAME)})")
    kinds = KINDS if kind == "all" else (KINDS_BY_NAME[kind],)
    if fmt == "xlsx":
        if not isinstance(out, Path):
            raise LedgerError("an XLSX export needs a file to write (--out FILE)")
        return write_xlsx(
            engine, kinds, out, full=full, chinese_headers=chinese_headers, progress=progress
        )
    if fmt != "csv":
        raise LedgerError(f"{fmt!r} is not an export format (csv, xlsx)")
    if kind == "all":
        if not isinstance(out, Path):
            raise LedgerError("exporting every kind as CSV needs a directory (--out DIR)")
        out.mkdir(parents=True, exist_ok=True)
        total = 0
        for each in kinds:
            with (out / f"{each.name}.csv").open("w", encoding="utf-8", newline="") as handle:
                total += write_csv(engine, each, handle, full=full, progress=progress)
        return total
    if isinstance(out, Path):
        with out.open("w", encoding="utf-8", newline="") as handle:
            return write_csv(engine, kinds[0], handle, full=full, progress=progress)
    return write_csv(engine, kinds[0], out, full=full, progress=progress)
