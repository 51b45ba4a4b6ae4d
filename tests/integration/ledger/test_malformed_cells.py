"""Whatever the cells hold, an import succeeds or raises ImportRejected and writes nothing."""

from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from shared.errors import ImportRejected
from shared.ledger.importer import import_files
from shared.ledger.kinds import KINDS_BY_NAME
from tests.integration.ledger.conftest import clear_ledger, ledger_rows
from tests.integration.ledger.sample import write_csv

# Text a spreadsheet could hold: anything encodable, including NUL, quotes and newlines.
cells = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.sampled_from(["", " ", "2026-02-30", "2026/13/1", "0000-01-01", "13800000000", "+",
                     "FREQ=NEVER", "Asia/Nowhere", "../etc", "1e400", "\x00", "٣"]),
)  # fmt: skip
ROW_KINDS = ("members", "events", "interactions", "assignments", "organizations")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kind=st.sampled_from(ROW_KINDS), data=st.data())
def test_malformed_cells_never_raise_anything_but_import_rejected_and_never_write(
    engine: Engine, tmp_path_factory: object, kind: str, data: st.DataObject
) -> None:
    clear_ledger(engine)
    directory = Path(tmp_path_factory.mktemp("ledger"))  # type: ignore[attr-defined]
    paths = write_csv(directory / "base")
    names = KINDS_BY_NAME[kind].column_names
    row = [data.draw(cells, label=name) for name in names]
    path = directory / f"{kind}-extra.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([names, row])
    try:
        import_files(engine, [*paths, path])
    except ImportRejected as rejected:
        assert rejected.problems
        assert not any(ledger_rows(engine).values())
