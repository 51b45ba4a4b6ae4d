"""Import ledger files: validate every row, upsert by key, all or nothing.

The whole file set is one transaction. Kinds are taken in `KINDS` order (the kinds a row
refers to come first), rows stream in batches, and after the first problem nothing more
is written, but validation goes on so that every problem is listed; then the
transaction is rolled back and `ImportRejected` carries the list. `dry_run` always rolls
back. What is held in memory: the keys of entity rows in the file set (for duplicates and
references), the organizations, and one batch; never the fact rows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from shared.errors import ImportRejected
from shared.ledger import organizations as orgs
from shared.ledger import overlaps
from shared.ledger.kinds import ASSIGNMENTS, KINDS, KINDS_BY_NAME, ORGANIZATIONS, Kind
from shared.ledger.problems import problem
from shared.ledger.readers import Row, Table, TableError, open_tables
from shared.ledger.storage import collapse, db_column, db_row, table_for, upsert
from shared.ledger.validation import RowValidator, parse_cell, to_utc
from shared.ledger.values import InvalidValue
from shared.progress import Progress, no_progress

#: Rows in a batch: row number, typed values (the valid ones), cells as read, and whether
#: the row is valid whole (an invalid row still has its references checked, not written).
Batch = list[tuple[int, dict[str, object], dict[str, object], bool]]

BATCH_ROWS = 2_000  #: rows validated, checked and written together
LOOKUP_CHUNK = 500  #: keys asked of the database in one query
_NOUNS = {
    "organizations": "organization",
    "members": "member",
    "liaisons": "liaison",
    "events": "event",
    "campaigns": "campaign",
}


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
    return import_tables(
        engine, tables, dry_run=dry_run, progress=progress, warnings=warnings, problems=problems
    )


def import_tables(
    engine: Engine,
    tables: Sequence[Table],
    *,
    dry_run: bool = False,
    progress: Progress = no_progress,
    warnings: Sequence[str] = (),
    problems: Sequence[str] = (),
    then: Callable[[Connection], None] | None = None,
) -> ImportReport:
    """Import already opened tables (files, or rows built in code by `record`).

    `then` writes more in the same transaction once the tables went in clean (the liaison
    page's audit row beside the fact it recorded): both are kept, or neither."""
    run = _Run(list(tables), list(warnings), progress)
    for line in problems:
        run.add(-1, 0, line)
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            run.execute(conn)
            if then is not None and not run.problems and not dry_run:
                then(conn)
        finally:
            # Nothing is kept unless the whole set is clean, and a dry run keeps nothing.
            if run.problems or dry_run or sys.exc_info()[0] is not None:
                transaction.rollback()
            else:
                transaction.commit()
    if run.problems:
        raise ImportRejected(run.sorted_problems())
    return ImportReport(run.kind_counts(), tuple(run.warnings), dry_run)


@dataclass
class _Counter:
    read: int = 0
    written: int = 0


@dataclass
class _Run:
    """The state of one import: problems, counts and the keys seen so far."""

    tables: list[Table]
    warnings: list[str]
    progress: Progress
    problems: list[tuple[int, int, int, str]] = field(default_factory=list)
    counts: dict[str, _Counter] = field(default_factory=dict)
    #: entity keys of the file set → where first seen (`src << 32 | line`)
    keys: dict[str, dict[str, int]] = field(default_factory=dict)
    #: keys confirmed in the database, so that each is asked for once
    found: dict[str, set[str]] = field(default_factory=dict)
    org_tree: orgs.OrgTree | None = None

    # bookkeeping ----------------------------------------------------------------------

    def add(self, src: int, line: int, text: str) -> None:
        self.problems.append((src, line, len(self.problems), text))

    def sorted_problems(self) -> list[str]:
        return [text for *_, text in sorted(self.problems)]

    def kind_counts(self) -> tuple[KindCount, ...]:
        return tuple(
            KindCount(k.name, self.counts[k.name].read, self.counts[k.name].written)
            for k in KINDS
            if k.name in self.counts
        )

    @property
    def writing(self) -> bool:
        return not self.problems

    def where(self, src: int, line: int) -> str:
        return f"{self.tables[src].label}:{line}"

    def other_row(self, src: int, packed: int) -> str:
        other_src, other_line = packed >> 32, packed & 0xFFFFFFFF
        if other_src == src:
            return f"row {other_line}"
        return f"{self.tables[other_src].label}:{other_line}"

    # the run ---------------------------------------------------------------------------

    def execute(self, conn: Connection) -> None:
        for index, table in enumerate(self.tables):
            self.warnings.extend(table.warnings)
            for line in table.problems:
                self.add(index, 1, line)
        self.org_tree = orgs.OrgTree.load(conn)
        overlaps.create_stage(conn)
        for kind in KINDS:
            indexes = [i for i, t in enumerate(self.tables) if t.kind is kind]
            if not indexes:
                continue
            self.counts[kind.name] = _Counter()
            if kind is ORGANIZATIONS:
                self._organizations(conn, indexes)
                continue
            for index in indexes:
                self._table(conn, index)
            if kind is ASSIGNMENTS:
                self._overlaps(conn)
        overlaps.drop_stage(conn)

    # rows ------------------------------------------------------------------------------

    def _validate(
        self, index: int, validator: RowValidator, line: int, raw: dict[str, object]
    ) -> tuple[dict[str, object], bool]:
        kind = validator.kind
        found: list[str] = []
        row, ok = validator.validate(self.where(index, line), raw, found)
        for text in found:
            self.add(index, line, text)
        if kind.entity and not self._register_key(index, line, kind, raw):
            return row, False
        return row, ok

    def _register_key(self, index: int, line: int, kind: Kind, raw: dict[str, object]) -> bool:
        """Remember an entity's key; False (and a problem) when the file set repeats it."""
        column = kind.column(kind.key[0])
        value = raw.get(column.name)
        if value is None:
            return False
        try:
            key = str(parse_cell(column, value))
        except InvalidValue:
            return False  # already a problem of the row itself
        seen = self.keys.setdefault(kind.name, {})
        first = seen.get(key)
        if first is not None:
            where = self.where(index, line)
            what = f"duplicate key, also on {self.other_row(index, first)}"
            self.add(index, line, problem(where, column, column.name, value, what))
            return False
        seen[key] = index << 32 | line
        return True

    def _rows(self, index: int) -> Iterator[Row]:
        """The table's rows; a file that turns out unreadable part-way is one problem."""
        try:
            yield from self.tables[index].rows()
        except TableError as exc:
            self.add(index, 0, str(exc))

    def _table(self, conn: Connection, index: int) -> None:
        table = self.tables[index]
        validator = RowValidator(table.kind, table.columns)
        counter = self.counts[table.kind.name]
        batch: Batch = []
        read = 0
        self.progress(table.label, 0)
        for line, raw in self._rows(index):
            counter.read += 1
            read += 1
            row, ok = self._validate(index, validator, line, raw)
            batch.append((line, row, raw, ok))
            if len(batch) >= BATCH_ROWS:
                self._flush(conn, index, batch)
                self.progress(table.label, len(batch))
                batch = []
        self._flush(conn, index, batch)
        # The table's size is known only once read: telling it now fills its bar.
        self.progress(table.label, len(batch), total=read)

    def _flush(self, conn: Connection, index: int, batch: Batch) -> None:
        table = self.tables[index]
        kind = table.kind
        good = self._resolve_references(conn, index, batch)
        if table.problems:
            # A header problem (a required column missing, a column twice) is listed
            # already; its rows are still checked so that every problem shows, but none of
            # them can be staged or written as its kind (fuzzing found a KeyError here).
            return
        if kind.name == "events":
            good = self._events_in_utc(index, good)
        if kind is ASSIGNMENTS:
            overlaps.stage(
                conn,
                collapse(
                    kind,
                    (
                        {
                            "member_id": row["member_id"],
                            "from_date": row["from"],
                            "to_date": row.get("to"),
                            "src": index,
                            "line": line,
                        }
                        for line, row, _raw, _ok in good
                    ),
                ),
            )
        if self.writing and good:
            rows = collapse(kind, (db_row(kind, row, table.constants) for _l, row, _r, _o in good))
            key = [db_column(n) for n in kind.key]
            self.counts[kind.name].written += upsert(conn, table_for(kind), key, rows)

    def _events_in_utc(self, index: int, good: Batch) -> Batch:
        """Event times turned from their organization's wall time into UTC; a time that
        leaves the calendar in UTC (9999-12-31 23:00 in UTC−8) is a problem, not a crash."""
        assert self.org_tree is not None
        column = self.tables[index].kind.column("starts_at")
        converted: Batch = []
        for line, row, raw, ok in good:
            local = row.get("starts_at")
            if isinstance(local, datetime):
                try:
                    row["starts_at"] = to_utc(local, self.org_tree.timezone(str(row["org"])))
                except (OverflowError, ValueError):
                    where = self.where(index, line)
                    what = "out of range once converted to UTC"
                    cell = raw.get("starts_at")
                    self.add(index, line, problem(where, column, "starts_at", cell, what))
                    continue
            converted.append((line, row, raw, ok))
        return converted

    def _resolve_references(self, conn: Connection, index: int, batch: Batch) -> Batch:
        """The valid rows whose references all exist; a problem for each reference that does not."""
        kind = self.tables[index].kind
        columns = [kind.column(n) for n in self.tables[index].columns if kind.column(n).references]
        unknown: dict[str, set[str]] = {}
        for column in columns:
            target = str(column.references)
            wanted = {str(row[column.name]) for _l, row, _r, _o in batch if row.get(column.name)}
            unknown[column.name] = self._missing(conn, target, wanted)
        good: Batch = []
        for line, row, raw, valid in batch:
            ok = valid
            for column in columns:
                value = row.get(column.name)
                if value is not None and str(value) in unknown[column.name]:
                    noun = _NOUNS.get(str(column.references), str(column.references))
                    where = self.where(index, line)
                    cell = raw.get(column.name)
                    self.add(
                        index, line, problem(where, column, column.name, cell, f"unknown {noun}")
                    )
                    ok = False
            if ok:
                good.append((line, row, raw, ok))
        return good

    def _missing(self, conn: Connection, target: str, wanted: set[str]) -> set[str]:
        """The keys of `target` among `wanted` that neither the file set nor the database hold."""
        if target == "organizations":
            assert self.org_tree is not None
            return {k for k in wanted if not self.org_tree.has(k)}
        in_files = self.keys.get(target, {})
        found = self.found.setdefault(target, set())
        ask = [k for k in wanted if k not in in_files and k not in found]
        if not ask:
            return set()
        column = table_for(KINDS_BY_NAME[target]).c[db_column(KINDS_BY_NAME[target].key[0])]
        for start in range(0, len(ask), LOOKUP_CHUNK):
            chunk = ask[start : start + LOOKUP_CHUNK]
            found.update(conn.execute(select(column).where(column.in_(chunk))).scalars())
        return {k for k in ask if k not in found}

    # organizations -----------------------------------------------------------------------

    def _organizations(self, conn: Connection, indexes: list[int]) -> None:
        """Organizations are few: held whole, so a parent may come later and cycles show."""
        assert self.org_tree is not None
        counter = self.counts[ORGANIZATIONS.name]
        staged: list[orgs.StagedOrg] = []
        for index in indexes:
            table = self.tables[index]
            if table.problems:  # listed already; see `_table`
                continue
            validator = RowValidator(ORGANIZATIONS, table.columns)
            self.progress(table.label, 0)
            read = 0
            for line, raw in self._rows(index):
                counter.read += 1
                read += 1
                row, _ok = self._validate(index, validator, line, raw)
                self.progress(table.label, 1)
                # An invalid row still takes part in the parent checks; nothing is written.
                registered = self.keys.get(ORGANIZATIONS.name, {}).get(str(row.get("code")))
                if registered == index << 32 | line:
                    staged.append(orgs.StagedOrg(index, line, row, raw))
            self.progress(table.label, 0, total=read)
        parent_column = ORGANIZATIONS.column("parent_code")
        for org in staged:
            with_parent = "parent_code" in self.tables[org.src].columns
            self.org_tree.stage(org, has_parent_column=with_parent)
        for org, what in self.org_tree.parent_problems():
            where = self.where(org.src, org.line)
            value = org.raw.get("parent_code")
            self.add(org.src, org.line, problem(where, parent_column, "parent_code", value, what))
        if not self.writing:
            return
        for batch in self.org_tree.write_order(BATCH_ROWS):
            by_columns: dict[tuple[str, ...], list[dict[str, object]]] = {}
            for org in batch:
                row = db_row(ORGANIZATIONS, org.row, self.tables[org.src].constants)
                by_columns.setdefault(tuple(row), []).append(row)
            for rows in by_columns.values():
                counter.written += upsert(conn, table_for(ORGANIZATIONS), ["code"], rows)

    # assignments ---------------------------------------------------------------------------

    def _overlaps(self, conn: Connection) -> None:
        column = ASSIGNMENTS.column("from")
        for o in overlaps.find_overlaps(conn):
            if o.other_src is not None and o.other_line is not None:
                packed = o.other_src << 32 | o.other_line
                other = f"the assignment on {self.other_row(o.src, packed)}"
            else:
                other = "an assignment already recorded"
            span = f"{o.other_from.isoformat()}..{_end(o.other_to)}"
            where = self.where(o.src, o.line)
            what = f"overlaps {other} ({span})"
            self.add(o.src, o.line, problem(where, column, "from", o.from_date, what))


def _end(day: date | None) -> str:
    return "(open)" if day is None else day.isoformat()
