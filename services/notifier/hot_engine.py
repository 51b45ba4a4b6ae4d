"""The batch path's engine: the same database without a connection check per checkout.

`shared.db.make_engine` turns on `pool_pre_ping`, a `SELECT 1` round trip before every
transaction; on the hot path that was one round trip in thirteen per notification. A
connection that died meanwhile (PostgreSQL restarted) fails its statement instead; that
error is an outage (`outages.is_outage`), SQLAlchemy then empties the pool, and the actor
waits for the database and runs the batch's unfinished ids again: the same guarantees,
paid only when the database actually went away.
"""

from __future__ import annotations

import threading
import weakref

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import QueuePool

_lean: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def lean_engine(engine: Engine) -> Engine:
    """An engine on `engine`'s database whose pool does not ping (built once per engine).

    SQLite (the embedded database) keeps its own engine: its connection settings are
    made by `make_engine` and a ping costs no round trip there.
    """
    if engine.dialect.name != "postgresql":
        return engine
    with _lock:
        lean = _lean.get(engine)
        if lean is None:
            pool = engine.pool
            size, overflow = (
                (pool.size(), pool._max_overflow)  # the same bounds as the pinging pool
                if isinstance(pool, QueuePool)
                else (5, 10)
            )
            lean = create_engine(
                engine.url, pool_pre_ping=False, pool_size=size, max_overflow=overflow
            )
            _lean[engine] = lean
        return lean
