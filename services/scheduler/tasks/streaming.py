"""Streaming a query's rows in chunks, on PostgreSQL read ahead by a thread of its own.

Generic machinery, knowing nothing of the ledger: `stream_rows` streams a statement (a
server-side cursor of the driver's on PostgreSQL, SQLAlchemy's partitions on SQLite);
with a snapshot exported by the caller's connection (`shared_snapshot`), each stream
runs on a connection of its own in that snapshot, outside the caller's pool
(`unpooled`), and a thread fetches a few chunks ahead (`ReadAhead`), so that the
database works on every stream at once while the caller reads the first.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator, Sequence
from itertools import chain, count
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.pool import NullPool


class Closable(Protocol):
    def close(self) -> None: ...


def stream_rows(
    conn: Connection,
    stmt: Any,
    size: int,
    opened: list[Closable],
    snapshot: str | None = None,
    *,
    many: bool = True,
) -> Iterator[tuple[Any, ...]]:
    """The rows of `stmt`, streamed `size` at a time, as plain tuples; the stream is added
    to `opened`, for the caller to close while the connection is still its own.

    PostgreSQL: a server-side cursor of the driver's own (psycopg converts every column
    type read here, so SQLAlchemy's rows, several times dearer per row, are not needed).
    With `snapshot` (see `shared_snapshot`), the cursor runs on a connection of its own
    in that snapshot and is read ahead by a thread, so the database sorts every stream at
    once instead of one after the other while the caller waits. Otherwise it runs in the
    connection's own transaction. SQLite: SQLAlchemy's rows, which also turn its ISO date
    strings into dates.

    `many=False` (a few members' rows): SQLAlchemy's rows on PostgreSQL too, whose
    statement cache spares compiling the statement afresh for the driver (7 ms of a
    15 ms listing of one liaison, against a few rows' worth of dearer rows).
    """
    chunks: Closable
    if snapshot is not None:
        chunks = ReadAhead(conn.engine, snapshot, stmt, size)
    else:
        chunks = _chunks(conn, stmt, size, plain=many)
    opened.append(chunks)
    return chain.from_iterable(chunks)


def _chunks(
    conn: Connection, stmt: Any, size: int, *, plain: bool = True
) -> Generator[Sequence[tuple[Any, ...]], None, None]:
    """`stmt`'s rows, `size` at a time; `plain`: through the driver's own cursor when it
    can (PostgreSQL, no parameter needing SQLAlchemy's conversion)."""
    if plain and conn.dialect.name == "postgresql":
        sql = _plain_sql(conn, stmt)
        if sql is not None:
            raw: Any = conn.connection.driver_connection
            with raw.cursor(name=f"liaison_facts_{next(_CURSORS)}") as cursor:
                cursor.execute(*sql)
                while fetched := cursor.fetchmany(size):
                    yield fetched
            return
    yield from conn.execute(stmt.execution_options(yield_per=size)).partitions()


def _plain_sql(conn: Connection, stmt: Any) -> tuple[str, dict[str, Any]] | None:
    """`stmt` as the driver's SQL and parameters, when no parameter needs SQLAlchemy's own
    conversion on the way in (the dialect's implementation of its type has no bind
    processor)."""
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    for bind in compiled.binds.values():
        if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
            return None
    return compiled.string, compiled.construct_params()


def shared_snapshot(conn: Connection) -> str | None:
    """On PostgreSQL, the connection's snapshot exported for the streams' own connections
    (`pg_export_snapshot`), so every stream reads the ledger as of one instant; it stays
    valid while `conn`'s transaction is open. None elsewhere (SQLite streams share `conn`)."""
    if conn.dialect.name != "postgresql":
        return None
    snapshot: str = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    return snapshot


_STREAM_WORK_MEM = "64MB"  #: PostgreSQL's work_mem for each read-ahead stream's query
_READ_AHEAD = 2  #: chunks a stream's thread may hold ready beyond the one being read
_END = object()


_UNPOOLED: dict[str, Engine] = {}
_UNPOOLED_LOCK = threading.Lock()


def unpooled(engine: Engine) -> Engine:
    """An engine for the same database whose connections are opened and closed for each
    stream, outside `engine`'s pool: a worker planning eight shards at once would otherwise
    need up to 8 × 2 of its pool's connections, and wait for them."""
    key = engine.url.render_as_string(hide_password=False)
    with _UNPOOLED_LOCK:
        found = _UNPOOLED.get(key)
        if found is None:
            found = _UNPOOLED[key] = create_engine(engine.url, poolclass=NullPool)
        return found


class ReadAhead:
    """`_chunks` of a statement on a connection of its own in a shared snapshot, fetched
    by a thread a few chunks ahead of the reader. Started at once, not at the first read:
    the point is that the database works on every stream while the caller reads the first.
    """

    def __init__(self, engine: Engine, snapshot: str, stmt: Any, size: int) -> None:
        self._engine, self._snapshot = unpooled(engine), snapshot
        self._stmt, self._size = stmt, size
        self._ready: queue.Queue[Any] = queue.Queue(maxsize=_READ_AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="liaison-stream", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[Sequence[tuple[Any, ...]]]:
        while (item := self._ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop the thread (also when the stream was never read) and wait for it, so its
        connection is back in the pool when this returns."""
        self._stop.set()
        self._thread.join()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.execution_options(isolation_level="REPEATABLE READ")
                # The first statement of the transaction, as PostgreSQL requires.
                conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{self._snapshot}'")
                # Compiling code for a query read once costs more than it saves (about
                # a second per stream on a 1,000,000-member ledger).
                conn.exec_driver_sql("SET LOCAL jit = off")
                # The default 4 MB spills a whole-ledger listing's hash aggregates and sorts
                # to disk: at 1,000,000 members the member stream's first row came after
                # 12.1 s, 9.7 s with 64 MB (no better with 256 MB). Only this transaction's.
                conn.exec_driver_sql(f"SET LOCAL work_mem = '{_STREAM_WORK_MEM}'")
                # A cursor is planned for its first rows (cursor_tuple_fraction 0.1) unless
                # told it is read to the end: on a fresh import not yet ANALYZEd, that chose
                # nested loops for the member stream, which ran for over 30 minutes.
                conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
                for chunk in _chunks(conn, self._stmt, self._size):
                    if not self._put(chunk):
                        return
            self._put(_END)
        except BaseException as exc:  # handed to the reader, who raises it
            self._put(exc)


_CURSORS = count()
