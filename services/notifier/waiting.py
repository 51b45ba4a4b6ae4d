"""Which notifications have a message waiting in Redis, whichever actor it addresses.

The scheduler's sweeper enqueues again the queued notifications whose message was lost;
it asks here which still wait. A `send_notification` message carries one id, a
`send_notifications` message a list of them; both count.
"""

from __future__ import annotations

from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name

from services.notifier.enqueuing import message_notification_ids

SCAN_CHUNK = 1_000  #: message ids read per round trip


def waiting_notification_ids(
    broker: RedisBroker, queue_name: str, *, chunk: int = SCAN_CHUNK
) -> set[int]:
    """The notification ids of every message waiting in `queue_name` or its delay queue:
    enqueued and not yet fetched by a worker.

    A message a worker holds (fetched, not acknowledged) is not counted: it is being
    worked on, waits in a worker's memory for its eta, or was orphaned by a connection
    lost at the wrong moment; the caller decides by the notification's age which it is.
    Messages taken by workers while this reads may be missed; a caller that re-enqueues
    on that basis sends a harmless duplicate (the actor's compare-and-set)."""
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
                if isinstance(data, bytes):
                    message = Message.decode(data)
                    found.update(message_notification_ids(message.actor_name, message.args))
    return found
