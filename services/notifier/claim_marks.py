"""Claim marks: which claimed notifications were provably never handed to a provider.

A batch claims ten rows before it sends them one by one; a worker killed meanwhile
leaves all ten in `sending`, and a claim left in `sending` is dead-lettered for a person
(the provider may have taken it). The marks tell the unsent ones apart: when a chunk is
claimed, a mark per row is set in Redis; the mark is taken (deleted) right before that
row's request leaves. A row found in `sending`, older than any live run may hold a claim
unsent (`delivery.LIVE_SEND_S`), whose mark is still there was never sent: it is given
back and sent, not dead-lettered. A mark lost with Redis only means the old behaviour
(dead-lettered for a person), never a second SMS; a mark is worth only the claim it was
set for (its value is the claim's instant, the row's `updated_at`), so a mark left over
from an earlier claim never vouches for a later one.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import redis

KEY_PREFIX = "liaison:claim:unsent"
DEFAULT_TTL_MS = 24 * 3_600_000  #: longer than any claim can wait to be recovered


class ClaimMarks:
    def __init__(self, client: redis.Redis, *, ttl_ms: int = DEFAULT_TTL_MS) -> None:
        self.client = client
        self.ttl_ms = ttl_ms

    def _key(self, notification_id: int) -> str:
        return f"{KEY_PREFIX}:{notification_id}"

    def set_unsent(self, ids: Collection[int], claimed_at: datetime) -> None:
        """Mark rows claimed at `claimed_at` as not sent yet (one round trip)."""
        if not ids:
            return
        pipe = self.client.pipeline(transaction=False)
        for i in ids:
            pipe.set(self._key(i), _instant(claimed_at), px=self.ttl_ms)
        pipe.execute()

    def take(self, notification_id: int) -> None:
        """Remove the mark of a row whose request is about to leave."""
        self.client.delete(self._key(notification_id))

    def never_sent(self, notification_id: int, claimed_at: datetime) -> bool:
        """Take the mark of a row claimed at `claimed_at`; True if it was that claim's
        mark, still there: the row's request never left."""
        value = self.client.getdel(self._key(notification_id))
        if isinstance(value, bytes):
            value = value.decode()
        return value == _instant(claimed_at)

    def forget(self, ids: Collection[int]) -> None:
        """Remove the marks of rows given back unsent (their claim is gone)."""
        if ids:
            self.client.delete(*(self._key(i) for i in ids))


def _instant(at: datetime) -> str:
    return f"{at.timestamp():.6f}"
