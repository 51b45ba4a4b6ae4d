"""Streaming readers for ledger files: CSV (UTF-8 or GB18030) and XLSX (a sheet per kind).

A reader turns a path into `Table`s: one per CSV file, one per XLSX sheet named after a
kind. A table knows its kind, its label (`members.csv`, `book.xlsx[members]`), which
canonical columns its header holds, and re-opens the file each time its rows are asked
for, so that no file is ever held in memory whole.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.errors import LedgerError
from shared.ledger.formulas import restore, strip_cell
from shared.ledger.kinds import KINDS_BY_NAME, Kind, kind_for_filename
from shared.ledger.xlsx_budget import WorkbookTooLarge, check_workbook

SNIFF_BYTES = 64 * 1024  #: bytes read to decide between UTF-8 and GB18030

#: A cell as read: a stripped string, a number, a date/datetime cell, or None when empty.
Cell = Any
#: One data row: its row number in the file (the header is row 1) and its cells by column.
Row = tuple[int, dict[str, Cell]]


class TableError(LedgerError):
    """Raised when a file cannot be read as a ledger table; the message names the file."""


@dataclass(frozen=True)
class Table:
    """One kind's rows from one file (or one sheet)."""

    kind: Kind
    label: str  #: `members.csv` or `book.xlsx[members]`: what problem lines start with
    columns: tuple[str, ...]  #: the canonical columns present in the header
    open_rows: Callable[[], Iterator[Row]] = field(repr=False)
    warnings: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  #: header problems: nothing of this table can be imported
    #: values written with every row but not read from the file (e.g. an interaction's source)
    constants: Mapping[str, object] = field(default_factory=dict)

    def rows(self) -> Iterator[Row]:
        return self.open_rows()


def _clean(value: Cell) -> Cell:
    if isinstance(value, str):
        value = strip_cell(value)
        return value or None
    return value


def _csv_clean(value: str) -> Cell:
    """A CSV cell as the exporter had it: stripped, its formula apostrophe taken off."""
    cleaned = _clean(value)
    return restore(cleaned) if cleaned is not None else None


def map_header(
    kind: Kind, label: str, cells: Sequence[Cell]
) -> tuple[dict[int, str], list[str], list[str]]:
    """Positions → canonical column names, plus warnings and problems about the header.

    Canonical names match ignoring case; Chinese aliases match exactly (after stripping).
    """
    by_name: dict[str, str] = {}
    for column in kind.columns:
        by_name[column.name.lower()] = column.name
        for alias in column.aliases:
            by_name.setdefault(alias, column.name)
    positions: dict[int, str] = {}
    warnings: list[str] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells):
        text = "" if cell is None else str(cell).strip().lstrip("\ufeff")
        if not text:
            continue
        name = by_name.get(text) or by_name.get(text.lower())
        if name is None:
            warnings.append(f"{label}:1: column {text!r} is not part of {kind.name}; ignored")
            continue
        if name in seen:
            problems.append(f"{label}:1: {name}: {text}: the column appears twice")
            continue
        seen[name] = index
        positions[index] = name
    for column in kind.columns:
        if column.required and column.name not in seen:
            problems.append(f"{label}:1: {column.name}: : required column is missing")
    return positions, warnings, problems


def _row_dict(
    positions: Mapping[int, str],
    cells: Sequence[Cell],
    clean: Callable[[Cell], Cell] = _clean,
) -> dict[str, Cell] | None:
    """The row's cells by column, or None for a row with nothing in it."""
    values: dict[str, Cell] = {}
    anything = False
    for index, name in positions.items():
        value = clean(cells[index]) if index < len(cells) else None
        values[name] = value
        anything = anything or value is not None
    if not anything and not any(_clean(c) is not None for c in cells):
        return None
    return values


# CSV ---------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """`utf-8-sig` for UTF-8 (with or without BOM), else `gb18030` (a superset of GBK)."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # Incremental, so that a character cut by the end of the chunk is not an error.
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _csv_records(path: Path, encoding: str, label: str) -> Generator[list[str], None, None]:
    lines_read = 0
    try:
        with path.open("r", encoding=encoding, errors="strict", newline="") as handle:
            reader = csv.reader(handle)
            for record in reader:
                lines_read = reader.line_num
                yield record
    except UnicodeDecodeError as exc:
        # Text is decoded a block at a time, so the bad byte is somewhere after this line.
        raise TableError(
            f"{label}: the file is not valid {encoding.removesuffix('-sig')} text "
            f"after line {lines_read}; save it as UTF-8 or GB18030"
        ) from exc
    except csv.Error as exc:
        raise TableError(f"{label}: not a readable CSV file ({exc})") from exc
    except OSError as exc:
        raise TableError(f"{label}: cannot be read ({exc.strerror or exc})") from exc


def read_csv(path: Path, kind: Kind) -> Table:
    label = path.name
    try:
        encoding = detect_encoding(path)
    except OSError as exc:
        raise TableError(f"{label}: cannot be read ({exc.strerror or exc})") from exc
    records = _csv_records(path, encoding, label)
    header = next(records, None)
    records.close()
    if header is None or not any(c.strip() for c in header):
        raise TableError(f"{label}: the file is empty (a header row is expected on row 1)")
    positions, warnings, problems = map_header(kind, label, header)

    def open_rows() -> Iterator[Row]:
        source = _csv_records(path, encoding, label)
        try:
            next(source, None)
            for number, cells in enumerate(source, start=2):
                values = _row_dict(positions, cells, _csv_clean)
                if values is not None:
                    yield number, values
        finally:
            source.close()

    return Table(
        kind,
        label,
        tuple(positions.values()),
        open_rows,
        tuple(warnings),
        tuple(problems),
    )


# XLSX --------------------------------------------------------------------------------


def _load_workbook(path: Path) -> Any:
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise TableError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    except Exception as exc:  # openpyxl raises zip, XML and key errors for broken files
        raise TableError(f"{path.name}: not a readable XLSX workbook ({exc})") from exc


def _sheet_rows(path: Path, sheet: str, label: str) -> Generator[tuple[Cell, ...], None, None]:
    book = _load_workbook(path)
    try:
        yield from book[sheet].iter_rows(values_only=True)
    except TableError:
        raise
    except Exception as exc:  # a damaged sheet inside a readable workbook
        raise TableError(f"{label}: the sheet cannot be read ({exc})") from exc
    finally:
        book.close()


def read_xlsx(path: Path, only: Kind | None = None) -> tuple[list[Table], list[str]]:
    """A table per sheet named after a kind (only `only`'s when given), plus warnings.

    The workbook is checked against its decompressed-size budget first
    (`xlsx_budget.py`): a ZIP bomb is refused before openpyxl parses anything.
    """
    try:
        check_workbook(path)
    except WorkbookTooLarge as exc:
        raise TableError(str(exc)) from exc
    except OSError as exc:
        raise TableError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    except Exception as exc:  # zipfile's errors for a damaged archive or a lying part
        raise TableError(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
    book = _load_workbook(path)
    try:
        names = list(book.sheetnames)
    finally:
        book.close()
    sheets: dict[str, str] = {}
    warnings: list[str] = []
    for name in names:
        kind_name = name.strip().lower()
        if kind_name in KINDS_BY_NAME and (only is None or only.name == kind_name):
            sheets[kind_name] = name
        elif only is None:
            warnings.append(f"{path.name}[{name}]: not the name of a kind; sheet ignored")
    if only is not None and only.name not in sheets:
        raise TableError(f"{path.name}: no sheet named {only.name!r}")
    if not sheets:
        raise TableError(
            f"{path.name}: no sheet is named after a kind ({', '.join(KINDS_BY_NAME)})"
        )
    tables = [_xlsx_table(path, KINDS_BY_NAME[k], s) for k, s in sheets.items()]
    return tables, warnings


def _xlsx_table(path: Path, kind: Kind, sheet: str) -> Table:
    label = f"{path.name}[{sheet}]"
    rows = _sheet_rows(path, sheet, label)
    header = next(rows, None)
    rows.close()
    if header is None or all(_clean(c) is None for c in header):
        raise TableError(f"{label}: the sheet is empty (a header row is expected on row 1)")
    positions, warnings, problems = map_header(kind, label, header)

    def open_rows() -> Iterator[Row]:
        source = _sheet_rows(path, sheet, label)
        try:
            next(source, None)
            for number, cells in enumerate(source, start=2):
                values = _row_dict(positions, cells)
                if values is not None:
                    yield number, values
        finally:
            source.close()

    return Table(
        kind, label, tuple(positions.values()), open_rows, tuple(warnings), tuple(problems)
    )


# Any file ----------------------------------------------------------------------------


def open_tables(path: Path, kind: str | None = None) -> tuple[list[Table], list[str]]:
    """The tables in `path` and warnings about what was skipped; `TableError` if unreadable."""
    only = None
    if kind is not None:
        only = KINDS_BY_NAME.get(kind)
        if only is None:
            raise TableError(f"{kind!r} is not a kind ({', '.join(KINDS_BY_NAME)})")
    if not path.exists():
        raise TableError(f"{path.name}: no such file")
    if path.is_dir():
        raise TableError(f"{path.name}: a directory, not a ledger file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, only)
    if suffix in (".csv", ".txt", ""):
        csv_kind = only or kind_for_filename(path.stem)
        if csv_kind is None:
            raise TableError(
                f"{path.name}: the kind cannot be told from the file name; "
                f"name it after a kind (members.csv…) or pass --kind"
            )
        return [read_csv(path, csv_kind)], []
    raise TableError(f"{path.name}: not a CSV or XLSX file")


def memory_table(
    kind: Kind,
    label: str,
    rows: Sequence[dict[str, Cell]],
    constants: Mapping[str, object] | None = None,
) -> Table:
    """A table of rows given in code (the `record` command), validated like a file's."""
    # Required columns are always present, so that a value left out is reported as empty.
    columns = tuple(c.name for c in kind.columns if c.required or any(c.name in r for r in rows))

    def open_rows() -> Iterator[Row]:
        for number, row in enumerate(rows, start=1):
            yield number, {name: _clean(row.get(name)) for name in columns}

    return Table(kind, label, columns, open_rows, constants=dict(constants or {}))
