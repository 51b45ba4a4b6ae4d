"""A masked export carries nothing that gives back what it masks.

An ID number is masked as `110105********1234`: the eight hidden digits are the birth
date. So a masked export may show neither the `birth_date` column nor that date written
inside another column (a certificate number, a note), nor a phone or ID number typed into
free text.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Engine

from shared.ledger.exporter import export_kind
from shared.ledger.importer import import_files
from shared.ledger.values import birth_date_from_id
from tests.integration.ledger.sample import id_number, write_csv

Ledger = dict[str, list[dict[str, object]]]
FULL_ID = id_number("19900101", "321")


def spellings(day: date) -> list[str]:
    return [
        day.strftime("%Y%m%d"),
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
    ]


def leaky(ledger: Ledger) -> Ledger:
    ledger["members"].append(
        {
            "member_id": "M004",
            "name": "陈六",
            "id_number": FULL_ID,
            "home_org": "TH-XC-01",
            "join_date": "2010-07-01",
            "mobile_since": "2020-01-01",
            "birth_date": "1990-01-01",
            "certificate_no": "LD-19900101-01",
            "location": "生日1990年1月1日，电话139 1367 5655，证件 " + FULL_ID,
        }
    )
    return ledger


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_no_masked_member_row_gives_back_the_birth_date_hidden_in_its_id_number(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    import_files(engine, write_csv(tmp_path / "in", ledger=leaky(ledger)))
    full = {r["member_id"]: r for r in _rows_of(engine, tmp_path / "full.csv", full=True)}
    masked = _rows_of(engine, tmp_path / "masked.csv", full=False)
    assert len(masked) == 4
    for row in masked:
        born = birth_date_from_id(full[row["member_id"]]["id_number"])
        text = " ".join(row.values())
        for spelling in spellings(born):
            assert spelling not in text, (row["member_id"], spelling)
        if full[row["member_id"]]["birth_date"]:
            assert row["birth_date"] == "****-**-**"
    [m004] = [r for r in masked if r["member_id"] == "M004"]
    assert "1367" not in m004["location"] and FULL_ID not in m004["location"]


def test_a_masked_xlsx_export_hides_the_birth_date_too(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    import_files(engine, write_csv(tmp_path / "in", ledger=leaky(ledger)))
    export_kind(engine, "members", "xlsx", tmp_path / "members.xlsx")
    sheet = load_workbook(tmp_path / "members.xlsx", read_only=True)["members"]
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("birth_date")
    assert {r[column] for r in rows[1:]} == {None, "****-**-**"}
    assert all(date(1990, 1, 1) != r[column] for r in rows[1:])


def _rows_of(engine: Engine, path: Path, *, full: bool) -> list[dict[str, str]]:
    export_kind(engine, "members", "csv", path, full=full)
    return _rows(path)
