"""Record one fact from the command line (`liaison record`), validated like an imported row.

There is one code path: the values become a one-row table that goes through the
importer's validation, reference checks and upsert, so a recorded visit and an imported
one are held to the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine

from shared.errors import LedgerError
from shared.ledger.importer import ImportReport, import_tables
from shared.ledger.kinds import KINDS_BY_NAME
from shared.ledger.readers import memory_table

#: The kinds a person records one at a time: what happened to a member on a day.
RECORDABLE = ("interactions", "reviews", "deliveries", "attendance", "moves", "verifications")
SOURCE_LABEL = "command line"  #: what problem lines start with, in place of a file name


def record_fact(
    engine: Engine, kind: str, values: Mapping[str, object], *, dry_run: bool = False
) -> ImportReport:
    """Validate and upsert one row of `kind` (canonical column names → values as typed).

    Values that are None are left out; a value for a column the kind lacks is an error.
    """
    if kind not in RECORDABLE:
        raise LedgerError(f"{kind!r} cannot be recorded; record one of {', '.join(RECORDABLE)}")
    spec = KINDS_BY_NAME[kind]
    given = {name: value for name, value in values.items() if value is not None}
    stray = sorted(set(given) - set(spec.column_names))
    if stray:
        raise LedgerError(f"{kind} have no {', '.join(stray)}; leave those options out")
    # Interactions remember where they came from; the other kinds have no such column.
    constants = {"source": "cli"} if kind == "interactions" else {}
    table = memory_table(spec, SOURCE_LABEL, [given], constants)
    return import_tables(engine, [table], dry_run=dry_run)
