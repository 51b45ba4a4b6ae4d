"""The entity keys an import has met: the file set's (for repeats and references) and
those confirmed in the database (so that each is asked for once).

Only keys are held, never rows: a province's million members is a million short strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from shared.ledger.kinds import KINDS_BY_NAME
from shared.ledger.storage import db_column, table_for

LOOKUP_CHUNK = 500  #: keys asked of the database in one query


@dataclass
class EntityKeys:
    #: kind name → key → where the file set first has it (`import_problems.pack`)
    in_files: dict[str, dict[str, int]] = field(default_factory=dict)
    #: kind name → keys found in the database
    recorded: dict[str, set[str]] = field(default_factory=dict)

    def register(self, kind: str, key: str, packed: int) -> int | None:
        """Remember `key` at `packed`; if the file set has it already, where it was first."""
        seen = self.in_files.setdefault(kind, {})
        first = seen.get(key)
        if first is None:
            seen[key] = packed
        return first

    def first(self, kind: str, key: str) -> int | None:
        """Where the file set first has `key` of `kind`; None if it does not."""
        return self.in_files.get(kind, {}).get(key)

    def missing(self, conn: Connection, kind: str, wanted: set[str]) -> set[str]:
        """The keys of `kind` among `wanted` that neither the file set nor the database hold."""
        in_files = self.in_files.get(kind, {})
        recorded = self.recorded.setdefault(kind, set())
        ask = [k for k in wanted if k not in in_files and k not in recorded]
        if not ask:
            return set()
        target = KINDS_BY_NAME[kind]
        column = table_for(target).c[db_column(target.key[0])]
        for start in range(0, len(ask), LOOKUP_CHUNK):
            chunk = ask[start : start + LOOKUP_CHUNK]
            recorded.update(conn.execute(select(column).where(column.in_(chunk))).scalars())
        return {k for k in ask if k not in recorded}
