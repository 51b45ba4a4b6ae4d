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

import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import redis
from redis.connection import AbstractConnection

KEY_PREFIX = "liaison:claim:unsent"
SENT_PREFIX = "liaison:claim:sent"  #: what a provider answered, until the run records it
DEFAULT_TTL_MS = 24 * 3_600_000  #: longer than any claim can wait to be recovered


@dataclass(frozen=True)
class SentAnswer:
    """A provider's acceptance, as kept in Redis until it is written down."""

    provider: str
    provider_message_id: str | None
    started_at: datetime
    latency_ms: int


class ClaimMarks:
    def __init__(self, client: redis.Redis, *, ttl_ms: int = DEFAULT_TTL_MS) -> None:
        self.client = client
        self.ttl_ms = ttl_ms
        self._local = threading.local()

    def _own(self) -> AbstractConnection:
        """This thread's own connection, for the two calls made around every request (take
        and set_sent). A redis-py call through the client checks a connection out of the
        pool and back in, and wraps the command in its retry and instrumentation: more
        CPU than the round trip itself. A worker thread sends its messages one after
        another, so one connection each, used directly, serves as well. It comes from the
        client's pool (same server, timeouts) and is never shared with another thread."""
        own: AbstractConnection | None = getattr(self._local, "connection", None)
        if own is None:
            own = self.client.connection_pool.get_connection()
            self._local.connection = own
        return own

    def _call(self, *command: str | int) -> None:
        """Run a DEL or SET on this thread's connection. A connection the server dropped
        (a restart) fails its next command, where the pool would have found it closed at
        checkout: the command is run once more, on a new connection (DEL and SET of one
        value are idempotent). A Redis still away fails the second time, as before. A
        connection that failed in any way is closed, so that no late reply is ever read
        as the next command's."""
        own = self._own()
        try:
            _round_trip(own, command)
        except redis.ConnectionError:
            own.disconnect()  # type: ignore[no-untyped-call]
            _round_trip(own, command)

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
        self._call("DEL", self._key(notification_id))

    def never_sent(self, notification_id: int, claimed_at: datetime) -> bool:
        """Take the mark of a row claimed at `claimed_at`; True if it was that claim's
        mark, still there: the row's request never left."""
        value = self.client.getdel(self._key(notification_id))
        if isinstance(value, bytes):
            value = value.decode()
        return value == _instant(claimed_at)

    def set_sent(self, notification_id: int, claimed_at: datetime, answer: SentAnswer) -> None:
        """Keep what the provider answered until the chunk is recorded: a run lost before
        it wrote the chunk down leaves rows the provider took, which are then recorded
        as sent rather than dead-lettered as unknown."""
        value = "|".join(
            (_instant(claimed_at), answer.provider, answer.provider_message_id or "",
             answer.started_at.isoformat(), str(answer.latency_ms))
        )  # fmt: skip
        self._call("SET", f"{SENT_PREFIX}:{notification_id}", value, "PX", self.ttl_ms)

    def sent_answer(self, notification_id: int, claimed_at: datetime) -> SentAnswer | None:
        """Take what the provider answered for the claim made at `claimed_at`, if kept."""
        value = self.client.getdel(f"{SENT_PREFIX}:{notification_id}")
        if isinstance(value, bytes):
            value = value.decode()
        if not isinstance(value, str):
            return None
        instant, provider, sid, started_at, latency_ms = value.split("|")
        if instant != _instant(claimed_at):
            return None
        return SentAnswer(
            provider, sid or None, datetime.fromisoformat(started_at), int(latency_ms)
        )

    def forget_sent(self, ids: Collection[int]) -> None:
        """Remove the kept answers of rows now recorded."""
        if ids:
            self.client.delete(*(f"{SENT_PREFIX}:{i}" for i in ids))

    def forget(self, ids: Collection[int]) -> None:
        """Remove the marks of rows given back unsent (their claim is gone)."""
        if ids:
            self.client.delete(*(self._key(i) for i in ids))


def _round_trip(connection: AbstractConnection, command: tuple[str | int, ...]) -> None:
    try:
        connection.send_command(*command)  # type: ignore[no-untyped-call]
        connection.read_response()
    except BaseException:
        connection.disconnect()  # type: ignore[no-untyped-call]
        raise


def _instant(at: datetime) -> str:
    return f"{at.timestamp():.6f}"
