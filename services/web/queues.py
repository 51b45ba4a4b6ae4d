"""dramatiq's queues as its Redis broker keeps them, read directly (see dramatiq's
`brokers/redis/dispatch.lua`), and the requeue of a dead letter.

For a queue `q` in namespace `ns`:
  ns:q          list of waiting message ids (pushed right, fetched from the left)
  ns:q.msgs     hash id → message, for waiting and fetched-but-unacked messages
  ns:q.DQ.msgs  hash of delayed messages (retries, quiet hours); workers hold their ids
  ns:q.XQ       sorted set of dead-lettered ids, scored by when they died (ms)
  ns:q.XQ.msgs  hash id → dead message
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis

from services.notifier import NOTIFICATIONS_QUEUE
from services.scheduler.planning.shards import PLANNING_QUEUE

#: always reported, even before the first message: a queue no worker consumes shows 0
KNOWN_QUEUES = (NOTIFICATIONS_QUEUE, PLANNING_QUEUE)
MAX_DEAD_LETTERS_SHOWN = 50


@dataclass(frozen=True)
class QueueFigures:
    name: str
    waiting: int  #: messages on the queue, not yet fetched by a worker
    in_flight: int  #: fetched by a worker, not yet acknowledged
    delayed: int  #: on the delay queue (retries, deferrals)
    dead: int  #: dead-lettered
    oldest_waiting_s: float | None  #: age of the message at the head of the queue


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    redis_id: str
    message_id: str
    actor: str
    args: list[Any]
    died_at_ms: int
    reason: str  #: the last line of the traceback dramatiq kept, or what is known


def queue_names(client: redis.Redis, namespace: str) -> list[str]:
    """Every queue with keys in Redis, plus the known ones."""
    names = set(KNOWN_QUEUES)
    prefix = f"{namespace}:"
    for key in client.scan_iter(match=f"{prefix}*.msgs", count=500):
        name = key.decode() if isinstance(key, bytes) else str(key)
        base = name[len(prefix) : -len(".msgs")]
        for suffix in (".DQ", ".XQ"):
            base = base.removesuffix(suffix)
        if not base.startswith("__"):
            names.add(base)
    return sorted(names)


def _decode(raw: bytes | str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def waiting_since_ms(message: dict[str, Any]) -> int | None:
    """When a message started waiting: its eta if it was delayed, else when it was made."""
    options = message.get("options") or {}
    stamps = [message.get("message_timestamp"), options.get("eta")]
    known = [int(s) for s in stamps if isinstance(s, int | float)]
    return max(known) if known else None


def queue_figures(client: redis.Redis, namespace: str, name: str, now_ms: int) -> QueueFigures:
    key = f"{namespace}:{name}"
    pipe = client.pipeline(transaction=False)
    pipe.llen(key)
    pipe.hlen(f"{key}.msgs")
    pipe.hlen(f"{key}.DQ.msgs")
    pipe.zcard(f"{key}.XQ")
    pipe.lindex(key, 0)
    waiting, held, delayed, dead, head = pipe.execute()
    oldest: float | None = None
    if head is not None:
        message = _decode(client.hget(f"{key}.msgs", head))
        since = waiting_since_ms(message) if message else None
        if since is not None:
            oldest = max(0.0, (now_ms - since) / 1000)
    return QueueFigures(
        name=name,
        waiting=int(waiting),
        in_flight=max(0, int(held) - int(waiting)),
        delayed=int(delayed),
        dead=int(dead),
        oldest_waiting_s=oldest,
    )


def all_queue_figures(client: redis.Redis, namespace: str, now_ms: int) -> list[QueueFigures]:
    return [queue_figures(client, namespace, q, now_ms) for q in queue_names(client, namespace)]


def dead_letters(
    client: redis.Redis, namespace: str, queue: str, *, limit: int = MAX_DEAD_LETTERS_SHOWN
) -> list[DeadLetter]:
    """The most recent dead letters of `queue`, newest first."""
    key = f"{namespace}:{queue}.XQ"
    entries: list[tuple[bytes, float]] = client.zrevrange(  # type: ignore[assignment]
        key, 0, limit - 1, withscores=True
    )
    if not entries:
        return []
    ids = [e[0] for e in entries]
    raws = client.hmget(f"{key}.msgs", ids)
    out = []
    for (rid, score), raw in zip(entries, raws, strict=True):
        message = _decode(raw) or {}
        options = message.get("options") or {}
        trace = str(options.get("traceback") or "").strip()
        reason = trace.splitlines()[-1] if trace else "no traceback kept"
        out.append(
            DeadLetter(
                queue=queue,
                redis_id=rid.decode() if isinstance(rid, bytes) else str(rid),
                message_id=str(message.get("message_id", "")),
                actor=str(message.get("actor_name", "")),
                args=list(message.get("args") or []),
                died_at_ms=int(score),
                reason=reason,
            )
        )
    return out


def take_dead_letter(
    client: redis.Redis, namespace: str, queue: str, redis_id: str
) -> dict[str, Any] | None:
    """Remove one dead letter and return its message (None if it is gone already)."""
    key = f"{namespace}:{queue}.XQ"
    pipe = client.pipeline(transaction=True)
    pipe.hget(f"{key}.msgs", redis_id)
    pipe.zrem(key, redis_id)
    pipe.hdel(f"{key}.msgs", redis_id)
    raw, removed, _ = pipe.execute()
    if not removed:
        return None
    return _decode(raw)
