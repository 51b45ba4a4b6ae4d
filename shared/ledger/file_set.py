"""Importing a file set: every table in one transaction, kind after kind, all or nothing.

Kinds are taken in `KINDS` order (the kinds a row refers to come first), each by its
hooks (`kind_hooks.py`). After the first problem nothing more is written, but checking
goes on so that every problem is listed; then the transaction is rolled back and
`ImportRejected` carries the list. A dry run always rolls back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from shared.errors import ImportRejected
from shared.ledger.import_problems import ProblemList
from shared.ledger.import_state import Counter, ImportState
from shared.ledger.kind_hooks import hooks_for
from shared.ledger.kinds import KINDS
from shared.ledger.organizations import StagingTree
from shared.ledger.readers import Table
from shared.progress import Progress


@dataclass(frozen=True)
class KindCount:
    kind: str
    read: int  #: data rows read from the file set
    written: int  #: rows upserted (inserted or updated); in a dry run, rows that would be


@dataclass(frozen=True)
class ImportReport:
    """What an import read and wrote, kind by kind, in import order."""

    counts: tuple[KindCount, ...]
    warnings: tuple[str, ...] = ()
    dry_run: bool = False

    def read(self, kind: str) -> int:
        return sum(c.read for c in self.counts if c.kind == kind)

    def written(self, kind: str) -> int:
        return sum(c.written for c in self.counts if c.kind == kind)


def import_file_set(
    engine: Engine,
    tables: Sequence[Table],
    *,
    dry_run: bool,
    progress: Progress,
    warnings: Sequence[str],
    problems: Sequence[str],
    then: Callable[[Connection], None] | None = None,
) -> ImportReport:
    """Import `tables` in one transaction; `ImportRejected` with every problem found.

    `then` runs in the transaction after a clean, real import (see `import_tables`)."""
    found = ProblemList([t.label for t in tables])
    for line in problems:  # files that could not be opened at all come first
        found.add(-1, 0, line)
    all_warnings = list(warnings)
    for src, table in enumerate(tables):
        all_warnings.extend(table.warnings)
        for line in table.problems:
            found.add(src, 1, line)
    counts: dict[str, Counter] = {}
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            state = ImportState(conn, list(tables), found, progress, StagingTree.load(conn))
            _import_kinds(state)
            counts = state.counts
            if then is not None and not found and not dry_run:
                then(conn)
        finally:
            # Nothing is kept unless the whole set is clean, and a dry run keeps nothing.
            if found or dry_run or sys.exc_info()[0] is not None:
                transaction.rollback()
            else:
                transaction.commit()
    if found:
        raise ImportRejected(found.in_order())
    by_kind = tuple(
        KindCount(k.name, counts[k.name].read, counts[k.name].written)
        for k in KINDS
        if k.name in counts
    )
    return ImportReport(by_kind, tuple(all_warnings), dry_run)


def _import_kinds(state: ImportState) -> None:
    for kind in KINDS:
        sources = [src for src, t in enumerate(state.tables) if t.kind is kind]
        if sources:
            state.counts[kind.name] = Counter()
            hooks_for(kind).import_kind(state, sources)
