"""A ZIP bomb in an XLSX file is refused before openpyxl parses it, with one line.

Small bombs, with the budgets scaled down where the test needs a part over them; the
1 GiB bomb of the security review and its peak memory are in docs/security.md
(`benchmarks/xlsx_bomb.py`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.xlsx_bomb import write_bomb
from shared.ledger import xlsx_budget
from shared.ledger.readers import TableError, open_tables

MiB = 1024 * 1024


def test_a_cell_longer_than_excel_allows_is_refused_before_parsing(tmp_path: Path) -> None:
    bomb = write_bomb(tmp_path / "bomb.xlsx", 2 * MiB)
    with pytest.raises(TableError) as refused:
        open_tables(bomb)
    assert str(refused.value) == (
        "bomb.xlsx: xl/worksheets/sheet1.xml holds a text of more than 196,602 bytes; "
        "a spreadsheet cell holds at most 32,767 characters"
    )


def test_a_part_declared_beyond_the_budget_is_refused_without_inflating_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_budget, "MAX_PART_BYTES", 1 * MiB)
    bomb = write_bomb(tmp_path / "bomb.xlsx", 2 * MiB)
    monkeypatch.setattr(xlsx_budget, "_scan", _must_not_inflate)
    with pytest.raises(TableError) as refused:
        open_tables(bomb)
    assert str(refused.value) == (
        "bomb.xlsx: xl/worksheets/sheet1.xml inflates to 2 MiB, more than the 1 MiB an "
        "XLSX import reads; import it as CSV"
    )


def test_a_part_that_lies_about_its_size_is_refused_while_inflating(tmp_path: Path) -> None:
    """Declared 4 KB, inflating to 2 MiB: zipfile stops at the declared size and the CRC
    fails, so the file is refused whichever check sees it first."""
    bomb = write_bomb(tmp_path / "bomb.xlsx", 2 * MiB, lie=True)
    with pytest.raises(TableError) as refused:
        open_tables(bomb)
    assert str(refused.value).startswith("bomb.xlsx: ")
    assert "\n" not in str(refused.value)


def test_the_bytes_a_part_really_yields_are_held_to_its_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inflating pass counts what it gets, declared size aside: over the budget, the
    part is refused there too."""
    import zipfile

    bomb = write_bomb(tmp_path / "bomb.xlsx", 200_000)
    monkeypatch.setattr(xlsx_budget, "MAX_PART_BYTES", 100_000)
    with zipfile.ZipFile(bomb) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        with pytest.raises(xlsx_budget.WorkbookTooLarge, match="inflates to 131,072 bytes"):
            xlsx_budget._scan(bomb, archive, info)


def test_a_workbook_within_its_budget_is_read_as_before(tmp_path: Path) -> None:
    sheet = write_bomb(tmp_path / "fine.xlsx", 1_000)
    [table], _ = open_tables(sheet)
    [(_line, row)] = list(table.rows())
    assert row["name"] == "A" * 1_000


def _must_not_inflate(*_args: object) -> None:
    raise AssertionError("the declared size alone must refuse this part")
