"""Overlapping assignments, found set-based in SQL.

Every valid assignment row of the file set goes into a temporary staging table with
where it came from (source and row), whether or not the real table is written (it is
not once a problem has been found, yet every overlap must still be listed). The check
then compares the staging rows with each other and with the recorded assignments they
do not replace.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Column, Connection, Date, Integer, MetaData, String, Table, text

from shared.ledger.storage import upsert

_metadata = MetaData()
STAGE = Table(
    "liaison_import_assignments",
    _metadata,
    Column("member_id", String(64), primary_key=True),
    Column("from_date", Date, primary_key=True),
    Column("to_date", Date),
    Column("src", Integer),
    Column("line", Integer),
    prefixes=["TEMPORARY"],
)
FAR_FUTURE = date(9999, 12, 31)


@dataclass(frozen=True)
class Overlap:
    """The staged row at (`src`, `line`) overlaps another staged row or a recorded one."""

    src: int
    line: int
    from_date: date
    other_from: date
    other_to: date | None
    other_src: int | None  #: None when the other assignment is already recorded
    other_line: int | None


def create_stage(conn: Connection) -> None:
    STAGE.drop(conn, checkfirst=True)  # SQLite keeps temporary tables on pooled connections
    STAGE.create(conn)


def drop_stage(conn: Connection) -> None:
    STAGE.drop(conn, checkfirst=True)


def stage(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Stage assignments: dicts with member_id, from_date, to_date, src and line."""
    upsert(conn, STAGE, ("member_id", "from_date"), rows)


_WITHIN = text(
    """
    SELECT b.src, b.line, b.from_date, a.from_date, a.to_date, a.src, a.line
    FROM liaison_import_assignments a
    JOIN liaison_import_assignments b
      ON b.member_id = a.member_id AND a.from_date < b.from_date
     AND (a.to_date IS NULL OR a.to_date >= b.from_date)
    ORDER BY b.src, b.line, a.from_date
    """
)
_AGAINST_RECORDED = text(
    """
    SELECT s.src, s.line, s.from_date, d.from_date, d.to_date
    FROM liaison_import_assignments s
    JOIN assignments d
      ON d.member_id = s.member_id AND d.from_date <> s.from_date
     AND s.from_date <= COALESCE(d.to_date, :far)
     AND d.from_date <= COALESCE(s.to_date, :far)
    WHERE NOT EXISTS (
      SELECT 1 FROM liaison_import_assignments r
      WHERE r.member_id = d.member_id AND r.from_date = d.from_date
    )
    ORDER BY s.src, s.line, d.from_date
    """
)


def _day(value: object) -> date:
    # SQLite hands back raw text from a textual query.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def find_overlaps(conn: Connection) -> Iterator[Overlap]:
    """Each overlapping pair once, on the later of two staged rows."""
    for src, line, start, other_from, other_to, other_src, other_line in conn.execute(_WITHIN):
        yield Overlap(
            src,
            line,
            _day(start),
            _day(other_from),
            None if other_to is None else _day(other_to),
            other_src,
            other_line,
        )
    for src, line, start, other_from, other_to in conn.execute(
        _AGAINST_RECORDED, {"far": FAR_FUTURE}
    ):
        yield Overlap(
            src,
            line,
            _day(start),
            _day(other_from),
            None if other_to is None else _day(other_to),
            None,
            None,
        )
