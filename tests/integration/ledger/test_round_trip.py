"""Export → import → export gives byte-identical CSV, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from shared.errors import ImportRejected
from shared.ledger.exporter import export_kind
from shared.ledger.importer import import_files
from tests.integration.ledger.conftest import export_bytes, ledger_rows
from tests.integration.ledger.sample import write_csv


def test_export_import_export_of_a_small_ledger_is_byte_identical(
    engine: Engine, tmp_path: Path, fresh: Callable[[], None]
) -> None:
    import_files(engine, write_csv(tmp_path / "ledger"))
    first = export_bytes(engine, tmp_path / "first")
    counts = ledger_rows(engine)
    fresh()
    import_files(engine, sorted((tmp_path / "first").glob("*.csv")))
    assert ledger_rows(engine) == counts
    assert export_bytes(engine, tmp_path / "second") == first
    # Importing the same export again changes nothing either.
    import_files(engine, sorted((tmp_path / "first").glob("*.csv")))
    assert export_bytes(engine, tmp_path / "third") == first


def test_an_xlsx_export_imports_back_to_the_same_ledger(
    engine: Engine, tmp_path: Path, fresh: Callable[[], None]
) -> None:
    import_files(engine, write_csv(tmp_path / "ledger"))
    first = export_bytes(engine, tmp_path / "first")
    export_kind(engine, "all", "xlsx", tmp_path / "ledger.xlsx", full=True)
    fresh()
    import_files(engine, [tmp_path / "ledger.xlsx"])
    assert export_bytes(engine, tmp_path / "second") == first


def test_an_xlsx_export_with_chinese_headers_and_typed_dates_imports_back_the_same(
    engine: Engine, tmp_path: Path, fresh: Callable[[], None]
) -> None:
    from openpyxl import load_workbook

    import_files(engine, write_csv(tmp_path / "ledger"))
    first = export_bytes(engine, tmp_path / "first")
    book_path = tmp_path / "台账.xlsx"
    export_kind(engine, "all", "xlsx", book_path, full=True, chinese_headers=True)
    book = load_workbook(book_path)
    members = book["members"]
    header = [c.value for c in members[1]]
    assert header[:6] == ["编号", "姓名", "身份证号", "流出地党组织", "入党日期", "外出日期"]
    assert members.freeze_panes == "A2"
    joined = members.cell(2, 5)
    assert joined.is_date and joined.number_format == "yyyy-mm-dd"
    assert members.column_dimensions["C"].width >= 18  # an ID number is 18 characters
    fresh()
    import_files(engine, [book_path])
    assert export_bytes(engine, tmp_path / "second") == first


def test_a_masked_export_cannot_be_mistaken_for_data(engine: Engine, tmp_path: Path) -> None:
    import_files(engine, write_csv(tmp_path / "ledger"))
    export_kind(engine, "members", "csv", tmp_path / "members.csv")
    try:
        import_files(engine, [tmp_path / "members.csv"])
    except ImportRejected as rejected:
        masked = ("id_number", "phone", "email", "birth_date")
        assert all(any(name in p for name in masked) for p in rejected.problems)
    else:
        raise AssertionError("a masked export imported as if it were data")


def test_a_synthetic_ledger_of_300_members_round_trips_byte_identical(
    engine: Engine, tmp_path: Path, fresh: Callable[[], None]
) -> None:
    from shared.ledger.synthetic import generate_ledger

    generate_ledger(tmp_path / "demo", members=300, seed=7, as_of=date(2026, 11, 1))
    report = import_files(engine, sorted((tmp_path / "demo").glob("*.csv")))
    assert report.written("members") == 300
    first = export_bytes(engine, tmp_path / "first")
    fresh()
    import_files(engine, sorted((tmp_path / "first").glob("*.csv")))
    assert export_bytes(engine, tmp_path / "second") == first
