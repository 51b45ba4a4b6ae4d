"""What the provider-outage drills read from the database besides the outcome counts.

`delivery_attempts` holds one row per provider call with its outcome (`sent`, `transient`,
`permanent`): the transient rows show that the fault was actually felt, so a drill cannot
pass just because the outage missed every send.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine, bindparam, text

#: the statuses a notification holds while something is still to happen to it
UNRESOLVED = ("pending", "queued", "sending", "deferred")

#: dramatiq's backoff for retry `n` is min(min_backoff * 2**n, max_backoff), and its jitter
#: takes off up to half; the drills' LIAISON_MIN_BACKOFF_MS / LIAISON_MAX_BACKOFF_MS
MIN_BACKOFF_MS = 200
MAX_BACKOFF_MS = 2_000


def least_retry_budget_s(retries: int) -> float:
    """The shortest total wait `retries` retries can add up to, jitter at its worst.

    A notification refused on every attempt is declared dead only after this long, so
    an outage shorter than this cannot exhaust its retries.
    """
    return float(sum(min(MIN_BACKOFF_MS * 2**n, MAX_BACKOFF_MS) / 2 for n in range(retries)) / 1000)


def unresolved(engine: Engine) -> int:
    """Notifications neither delivered nor given up on yet."""
    query = text("SELECT count(*) FROM notifications WHERE status IN :statuses").bindparams(
        bindparam("statuses", expanding=True)
    )
    with engine.connect() as conn:
        return int(conn.execute(query, {"statuses": list(UNRESOLVED)}).scalar_one())


def attempt_outcomes(engine: Engine) -> Counter[str]:
    """Provider calls by outcome, from `delivery_attempts`."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT outcome, count(*) FROM delivery_attempts GROUP BY outcome")
        )
        return Counter({str(outcome): int(n) for outcome, n in rows})


def most_attempts(engine: Engine) -> int:
    """The most provider calls any one notification took."""
    with engine.connect() as conn:
        return int(
            conn.execute(text("SELECT coalesce(max(attempts), 0) FROM notifications")).scalar_one()
        )
