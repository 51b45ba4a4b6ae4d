"""Reading ledger files: encodings, headers, aliases, row labels, without a database."""

from __future__ import annotations

import codecs
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from shared.ledger.kinds import MEMBERS, REVIEWS
from shared.ledger.readers import TableError, detect_encoding, map_header, open_tables


def test_utf8_with_or_without_bom_and_gb18030_are_told_apart(tmp_path: Path) -> None:
    text = "编号,姓名\r\nM1,张三\r\n"
    cases = {
        "bom.csv": codecs.BOM_UTF8 + text.encode(),
        "plain.csv": text.encode(),
        "gbk.csv": text.encode("gb18030"),
    }
    found = {}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        found[name] = detect_encoding(tmp_path / name)
    assert found == {"bom.csv": "utf-8-sig", "plain.csv": "utf-8-sig", "gbk.csv": "gb18030"}


def test_a_utf8_character_cut_by_the_end_of_the_first_chunk_is_still_utf8(
    tmp_path: Path,
) -> None:
    path = tmp_path / "members.csv"
    path.write_bytes(("a" * (64 * 1024 - 1) + "张").encode())
    assert detect_encoding(path) == "utf-8-sig"


def test_headers_match_canonical_names_ignoring_case_and_chinese_aliases() -> None:
    positions, warnings, problems = map_header(
        MEMBERS,
        "members.csv",
        [" Member_ID ", "姓名", "身份证号", "HOME_ORG", "入党日期", "外出日期", "备用"],
    )
    assert list(positions.values()) == [
        "member_id", "name", "id_number", "home_org", "join_date", "mobile_since",
    ]  # fmt: skip
    assert warnings == ["members.csv:1: column '备用' is not part of members; ignored"]
    assert problems == []


def test_a_column_given_twice_and_a_missing_required_column_are_header_problems() -> None:
    _, _, problems = map_header(REVIEWS, "reviews.csv", ["member_id", "编号"])
    assert problems == [
        "reviews.csv:1: member_id: 编号: the column appears twice",
        "reviews.csv:1: on: : required column is missing",
    ]


def test_csv_rows_carry_their_file_row_number_and_skip_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "reviews-2026.csv"
    path.write_text("member_id,on\r\nM1, 2026-01-01 \r\n,\r\nM2,\r\n", encoding="gb18030")
    [table], warnings = open_tables(path)
    assert (table.kind, table.label, warnings) == (REVIEWS, "reviews-2026.csv", [])
    assert list(table.rows()) == [
        (2, {"member_id": "M1", "on": "2026-01-01"}),
        (4, {"member_id": "M2", "on": None}),
    ]
    assert list(table.rows()) == list(table.rows())  # re-readable: streams from the file


def test_xlsx_sheets_named_after_kinds_are_read_with_date_cells(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Reviews"
    sheet.append(["编号", "审核日期"])
    sheet.append(["M1", datetime(2026, 1, 15)])
    sheet.append([1001, None])
    book.create_sheet("notes").append(["free text"])
    book.save(tmp_path / "book.xlsx")
    [table], warnings = open_tables(tmp_path / "book.xlsx")
    assert table.label == "book.xlsx[Reviews]"
    assert warnings == ["book.xlsx[notes]: not the name of a kind; sheet ignored"]
    assert list(table.rows()) == [
        (2, {"member_id": "M1", "on": datetime(2026, 1, 15)}),
        (3, {"member_id": 1001, "on": None}),
    ]


@pytest.mark.parametrize(
    ("name", "data", "kind", "message"),
    [
        ("members.csv", b"", None, "members.csv: the file is empty"),
        ("notes.csv", b"a,b\r\n", None, "notes.csv: the kind cannot be told"),
        ("members.pdf", b"%PDF", None, "members.pdf: not a CSV or XLSX file"),
        ("book.xlsx", b"not a zip", None, "book.xlsx: not a readable XLSX workbook"),
        ("members.csv", b"member_id\r\n", "nonsense", "'nonsense' is not a kind"),
    ],
)
def test_unreadable_files_raise_a_table_error_naming_the_file(
    tmp_path: Path, name: str, data: bytes, kind: str | None, message: str
) -> None:
    (tmp_path / name).write_bytes(data)
    with pytest.raises(TableError, match="^" + message.replace("(", r"\(")):
        open_tables(tmp_path / name, kind)
