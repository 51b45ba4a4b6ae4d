"""Record one fact as a person tells it: `liaison record`, an SMS reply, the API, the
liaison's page. One code path for all of them.

The values become a one-row table that goes through the importer's validation, reference
checks and upsert, so a recorded visit and an imported one are held to the same rules;
an interaction remembers where it came from (`source`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import Connection, Engine

from shared.errors import LedgerError
from shared.ledger.importer import ImportReport, import_tables
from shared.ledger.kinds import KINDS_BY_NAME
from shared.ledger.readers import memory_table

#: The kinds a person records one at a time: what happened to a member on a day.
RECORDABLE = ("interactions", "reviews", "deliveries", "attendance", "moves", "verifications")

SOURCE_CLI = "cli"
SOURCE_SMS_REPLY = "sms-reply"
SOURCE_API = "api"
SOURCE_PAGE = "page"
#: what problem lines start with, in place of a file name, by source
_LABELS = {SOURCE_CLI: "command line", SOURCE_PAGE: "page"}


def record_fact(
    engine: Engine,
    kind: str,
    values: Mapping[str, object],
    *,
    source: str = SOURCE_CLI,
    dry_run: bool = False,
    then: Callable[[Connection], None] | None = None,
) -> ImportReport:
    """Validate and upsert one row of `kind` (canonical column names → values as typed).

    Values that are None are left out; a value for a column the kind lacks is an error.
    `then` writes more in the same transaction (the page's audit row): both or neither.
    """
    if kind not in RECORDABLE:
        raise LedgerError(f"{kind!r} cannot be recorded; record one of {', '.join(RECORDABLE)}")
    spec = KINDS_BY_NAME[kind]
    given = {name: value for name, value in values.items() if value is not None}
    stray = sorted(set(given) - set(spec.column_names))
    if stray:
        raise LedgerError(f"{kind} have no {', '.join(stray)}; leave those options out")
    # Interactions remember where they came from; the other kinds have no such column.
    constants = {"source": source} if kind == "interactions" else {}
    table = memory_table(spec, _LABELS.get(source, source), [given], constants)
    return import_tables(engine, [table], dry_run=dry_run, then=then)
