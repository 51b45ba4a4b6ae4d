"""Where each ledger kind lives in the database, and the batched upsert that writes it.

The format's `from`, `to` and `on` are the columns `from_date`, `to_date`, `on_date`;
the kind `deliveries` is the table `material_deliveries`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

import shared.models  # noqa: F401  (registers every table)
from shared.ledger.kinds import Kind
from shared.models import Base

TABLE_NAMES = {"deliveries": "material_deliveries"}
DB_COLUMN_NAMES = {"from": "from_date", "to": "to_date", "on": "on_date"}


def table_for(kind: Kind) -> Table:
    return Base.metadata.tables[TABLE_NAMES.get(kind.name, kind.name)]


def db_column(name: str) -> str:
    return DB_COLUMN_NAMES.get(name, name)


def key_columns(kind: Kind) -> list[ColumnElement[Any]]:
    table = table_for(kind)
    return [table.c[db_column(name)] for name in kind.key]


def _empty_default(table: Table, name: str) -> object:
    """What an empty cell stores in a NOT NULL column that has a default (e.g. timezone)."""
    column = table.c[name]
    default = column.default
    if not column.nullable and default is not None and getattr(default, "is_scalar", False):
        return default.arg  # type: ignore[attr-defined]
    return None


def db_row(
    kind: Kind, row: Mapping[str, object], constants: Mapping[str, object]
) -> dict[str, object]:
    """A validated row (canonical names) as the table's column values."""
    table = table_for(kind)
    out: dict[str, object] = {}
    for name, value in row.items():
        column = db_column(name)
        out[column] = _empty_default(table, column) if value is None else value
    out.update(constants)
    for name in kind.key:  # a key column the file lacks is empty, not absent (collapse)
        out.setdefault(db_column(name), None)
    return out


def collapse(kind: Kind, rows: Iterable[dict[str, object]]) -> list[dict[str, object]]:
    """Rows with a key repeated inside one batch collapsed to the last (a later row wins).

    One INSERT … ON CONFLICT may not touch a row twice, so repeats must go first.
    """
    names = [db_column(n) for n in kind.key]
    by_key: dict[tuple[object, ...], dict[str, object]] = {}
    for row in rows:
        key = tuple(row[n] for n in names)
        by_key.pop(key, None)  # re-insert, so that the order is the order of last sight
        by_key[key] = row
    return list(by_key.values())


def upsert(
    conn: Connection, table: Table, key: Sequence[str], rows: list[dict[str, object]]
) -> int:
    """Insert `rows`, updating on a key already present only the columns the rows carry."""
    if not rows:
        return 0
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(table)
    updated = [c for c in rows[0] if c not in key]
    if updated:
        statement = statement.on_conflict_do_update(
            index_elements=list(key), set_={c: statement.excluded[c] for c in updated}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    conn.execute(statement, rows)
    return len(rows)
