"""Delivering a batch of notifications: the use case behind the `send_notifications` actor.

The same decisions as `delivery.deliver` (opt-outs, quiet hours, rendering, the claim,
the provider's answer) taken for many notifications with a few statements each:

- one SELECT reads every row of the batch and one the opt-outs among their addresses;
- a lost run's old claims are given back or recorded through their marks
  (`unsent_recovery`);
- kinds with a refresher are refreshed in one session, a kind's batch refresher once for
  all of its rows (a digest: one due computation for ten liaisons); the suppressed, the
  deferred, the cancelled and the unrenderable move in one transaction
  (`batch_decisions`);
- the rest are claimed, sent and recorded in small chunks (`chunk_sending`).

Every outcome is per notification: one refused message never sends the others again.
Rows not simply waiting (another run holds them, pending, a stale claim) go through
`delivery.deliver`, the single path, unchanged. Errors are not caught here: an outage
reaches the actor, which knows from `on_done` which notifications are finished.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from services.notifier import claims
from services.notifier.batch_decisions import OnDone, decide
from services.notifier.chunk_sending import CLAIM_CHUNK, RELEASED, chunk_size, send_chunk
from services.notifier.delivery import Outcome
from services.notifier.hot_engine import lean_engine
from services.notifier.outbox import CLAIMABLE_STATUSES
from services.notifier.runtime import Runtime
from services.notifier.unsent_recovery import RECOVERED, recover_unsent
from shared.models.notifications import TERMINAL_STATUSES

__all__ = [
    "BATCH_BUDGET_S",
    "CLAIM_CHUNK",
    "HANDED_ON",
    "RECOVERED",
    "RELEASED",
    "OnDone",
    "deliver_batch",
]

log = logging.getLogger(__name__)

#: a batch starts no new chunk after this long: well inside the broker's time limit
#: (`broker.DEFAULT_TIME_LIMIT_MS`, 300 s), which would interrupt a send anywhere
BATCH_BUDGET_S = 120.0
#: the outcome of a row left unclaimed when the budget ran out; the actor sends it on
HANDED_ON = "handed on unsent to a new batch: this one ran out of time"


def deliver_batch(
    runtime: Runtime, ids: Sequence[int], *, on_done: OnDone, fallback: Callable[[int], Outcome]
) -> None:
    """Deliver the notifications `ids` (first attempts: a transient failure is retried by
    the actor as a single message), telling `on_done` each one's outcome."""
    engine = lean_engine(runtime.engine)
    unique = list(dict.fromkeys(ids))
    with engine.connect() as conn:
        rows = claims.read_rows(conn, unique)
    rows.update(recover_unsent(runtime, engine, rows.values()))
    fast = [rows[i] for i in unique if i in rows and rows[i].status in CLAIMABLE_STATUSES]
    with engine.connect() as conn:
        stopped = claims.opted_out(conn, [(r.address, r.channel) for r in fast])
    fast_ids = {r.id for r in fast}
    for i in unique:
        row = rows.get(i)
        if row is None:
            log.warning("notification %s does not exist", i)
            on_done(i, Outcome("skipped", detail="no such notification"))
        elif row.status in TERMINAL_STATUSES:
            on_done(i, Outcome("skipped", detail=f"already {row.status}"))
        elif i not in fast_ids:
            on_done(i, fallback(i))
    sendable = decide(runtime, engine, fast, stopped, on_done)
    size = chunk_size(s.limiter for s in sendable)
    began = time.monotonic()
    for start in range(0, len(sendable), size):
        if time.monotonic() - began > BATCH_BUDGET_S:
            # Paced slower than a message may run (dramatiq's time limit would cut it
            # anywhere): the rest, still queued and unclaimed, go on in a new message.
            for s in sendable[start:]:
                on_done(s.row.id, Outcome("queued", detail=HANDED_ON))
            return
        send_chunk(runtime, engine, sendable[start : start + size], on_done)
