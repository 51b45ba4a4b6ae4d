"""The scheduler lease on the real Redis: one holder, compare-and-set renewal, takeover."""

from __future__ import annotations

import time

import redis

from services.scheduler.lease import RedisLease


def fresh(redis_server_url: str) -> redis.Redis:
    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    return client


def test_only_one_replica_holds_the_lease_and_the_other_cannot_renew_or_release_it(
    redis_server_url: str,
) -> None:
    client = fresh(redis_server_url)
    a, b = RedisLease(client, ttl_ms=5_000), RedisLease(client, ttl_ms=5_000)
    assert a.ensure() and not b.ensure()
    assert not b.renew() and not b.held
    b.release()
    assert a.renew() and client.get(a.key) == a.token.encode()


def test_a_replica_whose_lease_expired_loses_it_to_another_and_stops_acting(
    redis_server_url: str,
) -> None:
    client = fresh(redis_server_url)
    a, b = RedisLease(client, ttl_ms=100), RedisLease(client, ttl_ms=5_000)
    assert a.ensure()
    time.sleep(0.25)
    assert b.ensure()
    assert not a.ensure() and not a.held


def test_releasing_hands_the_lease_over_at_once(redis_server_url: str) -> None:
    client = fresh(redis_server_url)
    a, b = RedisLease(client), RedisLease(client)
    assert a.ensure()
    a.release()
    assert b.ensure()
