"""Importing one table: rows streamed in batches, each row validated, its entity key
registered, its references resolved, then the kind's hooks, then the upsert."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.ledger.import_problems import pack
from shared.ledger.import_state import BATCH_ROWS, Batch, BatchRow, ImportState
from shared.ledger.kinds import Kind
from shared.ledger.storage import collapse, db_column, db_row, table_for, upsert
from shared.ledger.validation import RowValidator, parse_cell
from shared.ledger.values import InvalidValue

if TYPE_CHECKING:
    from shared.ledger.kind_hooks import KindHooks

#: how a problem names the kind a reference points to
NOUNS = {
    "organizations": "organization",
    "members": "member",
    "liaisons": "liaison",
    "events": "event",
    "campaigns": "campaign",
}


def import_table(state: ImportState, src: int, hooks: KindHooks) -> None:
    """Read, check and (while the set is clean) write table `src`, batch by batch."""
    table = state.tables[src]
    validator = RowValidator(table.kind, table.columns)
    counter = state.counts[table.kind.name]
    batch: Batch = []
    read = 0
    state.progress(table.label, 0)
    for line, raw in state.rows(src):
        counter.read += 1
        read += 1
        batch.append(validate_row(state, src, validator, line, raw))
        if len(batch) >= BATCH_ROWS:
            _flush(state, src, batch, hooks)
            state.progress(table.label, len(batch))
            batch = []
    _flush(state, src, batch, hooks)
    # The table's size is known only once read: telling it now fills its bar.
    state.progress(table.label, len(batch), total=read)


def validate_row(
    state: ImportState, src: int, validator: RowValidator, line: int, raw: dict[str, object]
) -> BatchRow:
    """One row checked by itself, its problems listed, its entity key registered."""
    found: list[str] = []
    row, ok = validator.validate(state.problems.where(src, line), raw, found)
    for text in found:
        state.problems.add(src, line, text)
    kind = validator.kind
    if kind.entity and not _register_key(state, src, line, kind, raw):
        ok = False
    return BatchRow(line, row, raw, ok)


def _register_key(
    state: ImportState, src: int, line: int, kind: Kind, raw: dict[str, object]
) -> bool:
    """Remember an entity's key; False (and a problem) when the file set repeats it."""
    column = kind.column(kind.key[0])
    value = raw.get(column.name)
    if value is None:
        return False
    try:
        key = str(parse_cell(column, value))
    except InvalidValue:
        return False  # already a problem of the row itself
    first = state.keys.register(kind.name, key, pack(src, line))
    if first is None:
        return True
    what = f"duplicate key, also on {state.problems.other_row(src, first)}"
    state.problems.add_cell(src, line, column, column.name, value, what)
    return False


def _flush(state: ImportState, src: int, batch: Batch, hooks: KindHooks) -> None:
    table = state.tables[src]
    good = resolve_references(state, src, batch)
    if table.problems:
        # A header problem (a required column missing, a column twice) is listed
        # already; its rows are still checked so that every problem shows, but none of
        # them can be staged or written as its kind (fuzzing found a KeyError here).
        return
    good = hooks.checked(state, src, good)
    if state.writing and good:
        kind = table.kind
        rows = collapse(kind, (db_row(kind, r.row, table.constants) for r in good))
        key = [db_column(n) for n in kind.key]
        state.counts[kind.name].written += upsert(state.conn, table_for(kind), key, rows)


def resolve_references(state: ImportState, src: int, batch: Batch) -> Batch:
    """The valid rows whose references all exist; a problem for each reference that does not."""
    table = state.tables[src]
    kind = table.kind
    columns = [kind.column(n) for n in table.columns if kind.column(n).references]
    unknown: dict[str, set[str]] = {}
    for column in columns:
        target = str(column.references)
        wanted = {str(r.row[column.name]) for r in batch if r.row.get(column.name)}
        if target == "organizations":
            unknown[column.name] = {k for k in wanted if not state.org_tree.has(k)}
        else:
            unknown[column.name] = state.keys.missing(state.conn, target, wanted)
    good: Batch = []
    for entry in batch:
        ok = entry.ok
        for column in columns:
            value = entry.row.get(column.name)
            if value is not None and str(value) in unknown[column.name]:
                noun = NOUNS.get(str(column.references), str(column.references))
                cell = entry.raw.get(column.name)
                state.problems.add_cell(
                    src, entry.line, column, column.name, cell, f"unknown {noun}"
                )
                ok = False
        if ok:
            good.append(entry)
    return good
