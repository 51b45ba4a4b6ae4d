"""Recording facts that arrive over the web (an SMS reply, an API call) through the
importer's validation, exactly as `liaison record` does, but naming where they came from."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine

from shared.errors import LedgerError
from shared.ledger.importer import ImportReport, import_tables
from shared.ledger.kinds import KINDS_BY_NAME
from shared.ledger.readers import memory_table
from shared.ledger.recording import RECORDABLE

SOURCE_SMS_REPLY = "sms-reply"
SOURCE_API = "api"


def record_from(
    engine: Engine, kind: str, values: Mapping[str, object], *, source: str
) -> ImportReport:
    """Validate and upsert one row of `kind`; interactions remember `source`.

    The same steps as `shared.ledger.recording.record_fact`, which always says "cli".
    """
    if kind not in RECORDABLE:
        raise LedgerError(f"{kind!r} cannot be recorded")
    spec = KINDS_BY_NAME[kind]
    given = {name: value for name, value in values.items() if value is not None}
    stray = sorted(set(given) - set(spec.column_names))
    if stray:
        raise LedgerError(f"{kind} have no {', '.join(stray)}")
    constants = {"source": source} if kind == "interactions" else {}
    table = memory_table(spec, source, [given], constants)
    return import_tables(engine, [table])
