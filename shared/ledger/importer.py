"""Import ledger files: validate every row, upsert by key, all or nothing.

The public face of the import. The work is spread over small modules, one job each:
`readers` open the files as tables, `file_set` runs the one transaction kind by kind,
`kind_hooks` holds what each kind does of its own, `table_import` streams one table in
batches, `validation` checks a row by itself, `entity_keys` remembers the keys met and
`import_problems` the problems. What is held in memory: the keys of entity rows in the
file set (for duplicates and references), the organizations, and one batch; never the
fact rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import Connection, Engine

from shared.ledger.file_set import ImportReport, KindCount, import_file_set
from shared.ledger.readers import Table, TableError, open_tables
from shared.progress import Progress, no_progress

__all__ = ["ImportReport", "KindCount", "import_files", "import_tables"]


def import_files(
    engine: Engine,
    paths: Sequence[Path],
    *,
    kind: str | None = None,
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> ImportReport:
    """Import `paths` (CSV or XLSX) in one transaction; `ImportRejected` on any problem.

    `progress` is told, table by table, how many rows have been read and checked.
    """
    tables: list[Table] = []
    warnings: list[str] = []
    problems: list[str] = []
    for path in paths:
        try:
            found, skipped = open_tables(Path(path), kind)
        except TableError as exc:
            problems.append(str(exc))
            continue
        tables.extend(found)
        warnings.extend(skipped)
    return import_file_set(
        engine, tables, dry_run=dry_run, progress=progress, warnings=warnings, problems=problems
    )


def import_tables(
    engine: Engine,
    tables: Sequence[Table],
    *,
    dry_run: bool = False,
    progress: Progress = no_progress,
    then: Callable[[Connection], None] | None = None,
) -> ImportReport:
    """Import already opened tables (files, or rows built in code by `record`).

    `then` writes more in the same transaction once the tables went in clean (the liaison
    page's audit row beside the fact it recorded): both are kept, or neither."""
    return import_file_set(
        engine, tables, dry_run=dry_run, progress=progress, warnings=(), problems=(), then=then
    )
