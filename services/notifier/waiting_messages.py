"""Which notifications still have a message waiting in Redis: the sweeper's question
before it re-enqueues one (after a Redis restart that lost the queues, say)."""

from __future__ import annotations

from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name

SCAN_CHUNK = 1_000  #: message ids read per round trip by `waiting_message_args`


def waiting_message_args(
    broker: RedisBroker, queue_name: str, actor_name: str, *, chunk: int = SCAN_CHUNK
) -> set[int]:
    """The first argument of every `actor_name` message waiting in `queue_name` or its
    delay queue: enqueued and not yet fetched by a worker.

    A message a worker holds (fetched, not acknowledged) is not counted: it is being
    worked on, waits in a worker's memory for its eta, or was orphaned by a connection
    lost at the wrong moment; the caller decides by the notification's age which it is.
    Messages taken by workers while this reads may be missed; a caller that re-enqueues
    on that basis sends a harmless duplicate (the actor's compare-and-set).
    """
    client = broker.client
    found: set[int] = set()
    for name in (queue_name, dq_name(queue_name)):
        key = f"{broker.namespace}:{name}"
        start = 0
        while True:
            ids = client.lrange(key, start, start + chunk - 1)
            if not ids:
                break
            start += len(ids)
            for data in client.hmget(f"{key}.msgs", ids):
                if not isinstance(data, bytes):
                    continue
                message = Message.decode(data)
                if message.actor_name == actor_name and message.args:
                    found.add(int(message.args[0]))
    return found
