"""The batch path's claim, record and opt-out read on PostgreSQL: one statement each, the
same text every time.

`claims.claim` and `claims.mark_sent` move rows and write an event per row moved; in
portable SQL that is an UPDATE … IN (…) and a many-row INSERT, whose text changes with the
number of ids. Here the ids and values travel as arrays, so that:

- the UPDATE and its events are one statement (a data-modifying CTE): one round trip;
- the text never changes: psycopg parses it once and, from the fifth execution on a
  connection, PostgreSQL runs it as a prepared statement (psycopg re-parsed the old
  `mark_sent` on every call: its 75 parameters were over psycopg's cache limit of 50).

The semantics are those of `claims`: a row moves only from the statuses named (a
compare-and-set against another run), and only the rows that moved get an event. The
portable versions in `claims` remain the SQLite path and the reference; every test of
the batch path runs on both databases.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

_CLAIM = text(
    """
    WITH claimed AS (
        UPDATE notifications
           SET status = 'sending', updated_at = CAST(:now AS TIMESTAMP),
               attempts = attempts + 1, not_before = NULL
         WHERE id = ANY(CAST(:ids AS INTEGER[]))
           AND status = ANY(CAST(:from_statuses AS VARCHAR[]))
     RETURNING id, attempts
    ), logged AS (
        INSERT INTO notification_events (notification_id, status, at, detail)
        SELECT id, 'sending', CAST(:now AS TIMESTAMP), 'attempt ' || attempts FROM claimed
    )
    SELECT id, attempts FROM claimed
    """
)

_MARK_SENT = text(
    """
    WITH answers AS (
        SELECT * FROM unnest(CAST(:ids AS INTEGER[]), CAST(:message_ids AS VARCHAR[]),
                             CAST(:details AS TEXT[])) AS a(id, message_id, detail)
    ), moved AS (
        UPDATE notifications AS n
           SET status = 'sent', updated_at = CAST(:now AS TIMESTAMP), last_error = NULL,
               provider_message_id = answers.message_id
          FROM answers
         WHERE n.id = answers.id AND n.status = 'sending'
     RETURNING n.id, answers.detail
    ), logged AS (
        INSERT INTO notification_events (notification_id, status, at, detail)
        SELECT id, 'sent', CAST(:now AS TIMESTAMP), detail FROM moved
    )
    SELECT id FROM moved
    """
)

_ATTEMPT_COLUMNS = (
    "notification_id", "attempt", "provider", "provider_message_id", "started_at",
    "latency_ms", "outcome", "error_code", "error_text",
)  # fmt: skip

_LOG_ATTEMPTS = text(
    """
    INSERT INTO delivery_attempts (notification_id, attempt, provider, provider_message_id,
                                   started_at, latency_ms, outcome, error_code, error_text)
    SELECT * FROM unnest(
        CAST(:notification_id AS INTEGER[]), CAST(:attempt AS INTEGER[]),
        CAST(:provider AS VARCHAR[]), CAST(:provider_message_id AS VARCHAR[]),
        CAST(:started_at AS TIMESTAMP[]), CAST(:latency_ms AS INTEGER[]),
        CAST(:outcome AS VARCHAR[]), CAST(:error_code AS VARCHAR[]), CAST(:error_text AS TEXT[])
    )
    """
)


_OPTED_OUT = text(
    """
    SELECT o.address, o.channel
      FROM opt_outs AS o
      JOIN unnest(CAST(:addresses AS VARCHAR[]), CAST(:channels AS VARCHAR[]))
           AS wanted(address, channel)
        ON o.address = wanted.address AND o.channel = wanted.channel
    """
)


def opted_out(conn: Connection, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """As `claims.opted_out` (whose (address, channel) IN list has two parameters a pair,
    over psycopg's cache limit for a batch of fifty)."""
    result = conn.execute(
        _OPTED_OUT, {"addresses": [a for a, _ in pairs], "channels": [c for _, c in pairs]}
    )
    return {(str(a), str(c)) for a, c in result}


def claim(
    conn: Connection, ids: Collection[int], *, from_statuses: Collection[str], now: datetime
) -> dict[int, int]:
    """As `claims.claim`: the attempt number of each row claimed, by id."""
    result = conn.execute(
        _CLAIM, {"ids": list(ids), "from_statuses": list(from_statuses), "now": _naive_utc(now)}
    )
    return {int(i): int(attempts) for i, attempts in result}


def mark_sent(
    conn: Connection, sent: Mapping[int, str | None], details: Mapping[int, str], now: datetime
) -> list[int]:
    """As `claims.mark_sent`; `details` is each row's event text."""
    ids = list(sent)
    result = conn.execute(
        _MARK_SENT,
        {
            "ids": ids,
            "message_ids": [sent[i] for i in ids],
            "details": [details[i] for i in ids],
            "now": _naive_utc(now),
        },
    )
    return [int(i) for (i,) in result]


def log_attempts(conn: Connection, attempts: Sequence[Mapping[str, Any]]) -> None:
    """As `claims.log_attempts`: every row in one INSERT … SELECT FROM unnest(…)."""
    columns: dict[str, list[Any]] = {name: [] for name in _ATTEMPT_COLUMNS}
    for attempt in attempts:
        for name, values in columns.items():
            values.append(attempt[name])
    columns["started_at"] = [_naive_utc(at) for at in columns["started_at"]]
    conn.execute(_LOG_ATTEMPTS, columns)


def _naive_utc(at: datetime) -> datetime:
    # The columns hold naive UTC (shared.models.base.UTCDateTime); a text() statement
    # skips that type's conversion, so it is done here. An aware datetime would be cast
    # to the server's time zone instead.
    if at.tzinfo is None:
        raise ValueError("an instant needs a time zone")
    return at.astimezone(UTC).replace(tzinfo=None)
