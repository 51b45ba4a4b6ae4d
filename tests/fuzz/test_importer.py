"""Fuzz: whatever bytes or cells a ledger file holds, an import either succeeds or raises
ImportRejected/LedgerError, and a rejected import leaves the database byte-for-byte as it
was (compared through a full export)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from shared.errors import LedgerError
from shared.ledger.importer import import_files
from shared.ledger.kinds import KINDS_BY_NAME
from tests.integration.ledger.conftest import clear_ledger, export_bytes
from tests.integration.ledger.sample import write_csv

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-32", "latin-1", "big5", "shift_jis")
KINDS = ("members", "interactions", "assignments", "organizations", "events")


class Ledger:
    """A database holding a base ledger, and its full export to compare against."""

    def __init__(self, engine: Engine, directory: Path) -> None:
        self.engine = engine
        self.directory = directory
        self.serial = 0
        clear_ledger(engine)
        import_files(engine, write_csv(directory / "base"))
        self.snapshot = export_bytes(engine, self.fresh("export"))

    def fresh(self, name: str) -> Path:
        self.serial += 1
        path = self.directory / f"{name}-{self.serial}"
        path.mkdir()
        return path

    def try_import(self, paths: list[Path]) -> None:
        """Import; a rejection must be a LedgerError and change nothing."""
        try:
            import_files(self.engine, paths)
        except LedgerError:
            assert export_bytes(self.engine, self.fresh("export")) == self.snapshot
        else:  # the fuzz happened to write a valid file: it becomes the new baseline
            self.snapshot = export_bytes(self.engine, self.fresh("export"))


@pytest.fixture
def ledger(engine: Engine, tmp_path: Path) -> Iterator[Ledger]:
    yield Ledger(engine, tmp_path)


@FUZZ
@given(
    kind=st.sampled_from(KINDS),
    encoding=st.sampled_from(ENCODINGS),
    cut=st.integers(min_value=0, max_value=400),
    noise=st.binary(max_size=40),
    at=st.integers(min_value=0, max_value=400),
)
def test_a_ledger_file_in_any_encoding_mangled_anyhow_is_rejected_cleanly(
    ledger: Ledger, kind: str, encoding: str, cut: int, noise: bytes, at: int
) -> None:
    source = next(p for p in (ledger.directory / "base").glob("*.csv") if p.stem == kind)
    text = source.read_text(encoding="utf-8-sig")
    raw = text.encode(encoding, errors="replace")
    raw = raw[: max(cut, 1) * 8]  # truncated, possibly inside a multibyte character
    raw = raw[:at] + noise + raw[at:]
    target = ledger.fresh("mangled") / f"{kind}.csv"
    target.write_bytes(raw)
    ledger.try_import([target])


xlsx_cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31)),
    st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=30),
    st.sampled_from(["=1/0", "=NOW()", "#REF!", "110105199001011234", "+86 138 0000 0000",
                     "2026年2月30日", "４５", "M0000001", "   "]),
)  # fmt: skip


@FUZZ
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_a_workbook_with_hostile_cells_is_imported_or_rejected_cleanly(
    ledger: Ledger, kind: str, data: st.DataObject
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = kind
    names = list(KINDS_BY_NAME[kind].column_names)
    sheet.append(names)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="rows")):
        row = [data.draw(xlsx_cells, label=name) for name in names]
        # openpyxl refuses to write NaN/inf into a sheet; a spreadsheet cannot hold them
        sheet.append([None if isinstance(c, float) and not math.isfinite(c) else c for c in row])
    path = ledger.fresh("xlsx") / "ledger.xlsx"
    book.save(path)
    ledger.try_import([path])


@FUZZ
@given(payload=st.binary(min_size=0, max_size=300), zip_header=st.booleans())
def test_a_file_that_only_claims_to_be_a_workbook_is_rejected_cleanly(
    ledger: Ledger, payload: bytes, zip_header: bool
) -> None:
    path = ledger.fresh("fake") / "ledger.xlsx"
    path.write_bytes((b"PK\x03\x04" if zip_header else b"") + payload)
    ledger.try_import([path])


def test_an_assignments_file_without_its_from_column_is_rejected_not_crashed(
    ledger: Ledger,
) -> None:
    # Found by the fuzz above: the importer raised KeyError('from') here.
    lines = (ledger.directory / "base" / "assignments.csv").read_text("utf-8-sig").splitlines()
    columns = lines[0].split(",")
    drop = columns.index("from")
    rows = [",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in lines]
    path = ledger.fresh("no-from") / "assignments.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(LedgerError):
        import_files(ledger.engine, [path])
    assert export_bytes(ledger.engine, ledger.fresh("export")) == ledger.snapshot
