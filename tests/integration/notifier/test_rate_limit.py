"""Pacing through Redis: many threads and processes together hold the configured rate."""

from __future__ import annotations

import multiprocessing
import threading
import time

import redis

from services.notifier.rate_limit import RedisLimiter

RATE_PER_S = 40.0
DURATION_S = 2.0


def _take(url: str, count: int, stamps: list[float]) -> None:
    limiter = RedisLimiter(redis.Redis.from_url(url), "test", RATE_PER_S, concurrency=50)
    for _ in range(count):
        with limiter.slot():
            stamps.append(time.time())


def _take_in_process(url: str, count: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    stamps: list[float] = []
    _take(url, count, stamps)
    queue.put(stamps)


def test_threads_and_processes_together_respect_the_rate(
    redis_server_url: str, redis_client: redis.Redis
) -> None:
    per_taker = int(RATE_PER_S * DURATION_S / 8)
    stamps: list[float] = []
    threads = [
        threading.Thread(target=_take, args=(redis_server_url, per_taker, stamps)) for _ in range(4)
    ]
    queue: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()  # type: ignore[type-arg]
    processes = [
        multiprocessing.get_context("spawn").Process(
            target=_take_in_process, args=(redis_server_url, per_taker, queue)
        )
        for _ in range(4)
    ]
    for p in processes:
        p.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in processes:
        stamps.extend(queue.get(timeout=30))
    for p in processes:
        p.join()

    stamps.sort()
    assert len(stamps) == 8 * per_taker
    # The tokens are spaced by 1/rate, so n tokens span at least (n - 1)/rate seconds.
    span = stamps[-1] - stamps[0]
    assert span >= (len(stamps) - 1) / RATE_PER_S * 0.97
    # And no second-long window holds more than the rate (+1 for the window's edges).
    for i, start in enumerate(stamps):
        in_window = sum(1 for s in stamps[i:] if s < start + 1.0)
        assert in_window <= RATE_PER_S + 1


def test_the_concurrency_limit_caps_requests_in_flight(
    redis_server_url: str, redis_client: redis.Redis
) -> None:
    limiter = RedisLimiter(redis_client, "cap", rate_per_s=10_000, concurrency=3)
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal in_flight, peak
        for _ in range(5):
            with limiter.slot():
                with lock:
                    in_flight += 1
                    peak = max(peak, in_flight)
                time.sleep(0.01)
                with lock:
                    in_flight -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 3
