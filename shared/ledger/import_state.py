"""What one import of a file set holds while it runs, shared by the table import and the
kinds' hooks: the open transaction, the tables, the problems, the keys met so far, the
organization tree, the counts, and where progress is reported."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import Connection

from shared.ledger.entity_keys import EntityKeys
from shared.ledger.import_problems import ProblemList
from shared.ledger.organizations import StagingTree
from shared.ledger.readers import Row, Table, TableError
from shared.progress import Progress

BATCH_ROWS = 2_000  #: rows validated, checked and written together


class BatchRow(NamedTuple):
    line: int  #: the row number in its file (the header is row 1)
    row: dict[str, object]  #: the typed values (the valid ones)
    raw: dict[str, object]  #: the cells as read, for problem lines
    #: the whole row is valid (an invalid row still has its references checked, unwritten)
    ok: bool


Batch = list[BatchRow]


@dataclass
class Counter:
    read: int = 0  #: data rows read from the file set
    written: int = 0  #: rows upserted; in a dry run, rows that would be


@dataclass
class ImportState:
    conn: Connection
    tables: list[Table]
    problems: ProblemList
    progress: Progress
    org_tree: StagingTree
    keys: EntityKeys = field(default_factory=EntityKeys)
    counts: dict[str, Counter] = field(default_factory=dict)

    @property
    def writing(self) -> bool:
        """Rows are written until the first problem; after it, only checked."""
        return not self.problems

    def rows(self, src: int) -> Iterator[Row]:
        """Table `src`'s rows; a file that turns out unreadable part-way is one problem."""
        try:
            yield from self.tables[src].rows()
        except TableError as exc:
            self.problems.add(src, 0, str(exc))
