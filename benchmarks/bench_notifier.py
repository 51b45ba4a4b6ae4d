"""Notifier throughput and pacing, on real servers.

    .venv/bin/python benchmarks/bench_notifier.py [--count 10000] [--threads 16]
        [--rate 50 --rate-seconds 60] [--namespace liaison-bench]

1. Enqueue: `send()` one message at a time versus the pipelined batch path.
2. Throughput: a do-nothing dramatiq actor versus the notifier driving N notifications
   end to end (enqueued as `send_notifications` batches; real Redis, the loopback Twilio
   server through the twilio SDK, the delivery log in PostgreSQL), in the same run, same
   worker settings; both figures and their ratio. The loopback Twilio server runs in its
   own process (benchmarks/loopback_providers.py, its asyncio server), not under the
   worker's GIL.
3. Pacing: with the SMS limit set to `--rate` messages/s, the rate Twilio sees per 10 s
   window over `--rate-seconds`.

`--profile out.html` profiles the throughput phase with pyinstrument (all threads).

Needs PostgreSQL (LIAISON_BENCH_POSTGRES_URL, default the local `test` server; a database
`liaison_bench_notifier` is created afresh) and Redis (LIAISON_BENCH_REDIS_URL, default db 15 of
the local server, flushed).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import text

from services.bootstrap import bootstrap
from services.notifier.broker import NOTIFICATIONS_QUEUE, build_broker
from services.notifier.claim_marks import ClaimMarks
from services.notifier.enqueuing import BATCH_SIZE, enqueue, push_messages
from services.notifier.outbox import create_notification
from services.notifier.rate_limit import RedisLimiter
from services.notifier.rendering import render_message
from services.notifier.runtime import Runtime
from services.notifier.senders.twilio_sms import TwilioSmsSender
from services.notifier.testing.twilio_server import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from shared.db import make_engine, transaction, upgrade
from shared.settings import load_settings

try:
    from benchmarks.loopback_providers import LoopbackTwilio
except ImportError:  # run as a script: benchmarks/ is on sys.path, not its parent
    from loopback_providers import LoopbackTwilio  # type: ignore[no-redef]

POSTGRES = os.environ.get(
    "LIAISON_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("LIAISON_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
NOOP_QUEUE = "bench_noop"


#: the benchmark's own database, dropped and created at each run; never the import
#: benchmark's `liaison_bench`, which a 1,000,000-member load may be filling at the time
DATABASE = "liaison_bench_notifier"


def fresh_database() -> Any:
    admin = make_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    engine = make_engine(POSTGRES.rsplit("/", 1)[0] + "/" + DATABASE, pool_size=20)
    upgrade(engine)
    return engine


def create(engine: Any, count: int, tag: str) -> list[int]:
    now = datetime.now(UTC)
    ids = []
    with transaction(engine) as session:
        for i in range(count):
            ids.append(
                create_notification(
                    session, kind="political_birthday", channel="sms", recipient_type="member",
                    recipient_id=f"M{i}", address=f"+86138{i:08d}", locale="zh-CN",
                    timezone="UTC", occasion=f"bench:{tag}",
                    data={"member_name": "王芳", "years": 12, "org_name": "红旗村党支部"},
                    now=now,
                ).id
            )  # fmt: skip
    return ids


def loopback_runtime(engine: Any, client: redis.Redis, twilio_url: str) -> Runtime:
    """The notifier's runtime on the loopback Twilio, as production wires it
    (bootstrap.build_runtime): SMS through the twilio SDK, claim marks in Redis."""
    sender = TwilioSmsSender(
        account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, from_number="+15005550006",
        base_url=twilio_url, timeout_s=5.0,
    )  # fmt: skip
    return Runtime(
        engine=engine,
        senders={"sms": sender},
        render=render_message,
        claim_marks=ClaimMarks(client),
    )


def drain(broker: RedisBroker, queue: str, threads: int) -> tuple[float, float]:
    """Run a worker until `queue` is empty; the seconds it took, and the CPU seconds this
    process spent meanwhile (every thread's: the worker's and the benchmark's waiting).

    The worker has dramatiq's default settings but its thread count, as `liaison worker`
    runs it (dramatiq's command line sets no worker timeout: idle queues are polled at
    most once a second)."""
    worker = dramatiq.Worker(broker, worker_threads=threads)
    started, cpu = time.perf_counter(), time.process_time()
    worker.start()
    broker.join(queue)
    worker.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    worker.stop()
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--rate-seconds", type=int, default=60)
    parser.add_argument(
        "--profile", help="write a pyinstrument profile of phase 2 here (.html, else text)"
    )
    parser.add_argument("--skip-pacing", action="store_true", help="stop after phase 2")
    parser.add_argument(
        "--namespace",
        default="liaison-bench",
        help="dramatiq's key prefix; `liaison` lets a `liaison serve` on the same Redis"
        " database show the benchmark's queues on /metrics",
    )
    args = parser.parse_args()

    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    engine = fresh_database()
    settings = load_settings(
        {
            "LIAISON_MIN_BACKOFF_MS": "100",
            "LIAISON_MAX_BACKOFF_MS": "1000",
            "LIAISON_MAX_RETRIES": "3",
        }
    )
    broker = build_broker(REDIS, settings, namespace=args.namespace)

    twilio = LoopbackTwilio(server="asyncio")
    runtime = loopback_runtime(engine, client, twilio.base_url)
    # Wired by the one bootstrap, on the benchmark's broker and loopback sender; the
    # notifications are synthetic (no ledger behind them), so no refreshers.
    wiring = bootstrap(settings, engine=engine, runtime=runtime, broker=broker, refreshers=False)
    assert wiring.actors.notifier.send_notification.actor_name == "send_notification"

    @dramatiq.actor(broker=broker, queue_name=NOOP_QUEUE, actor_name="noop")
    def noop(i: int) -> None:
        return None

    print(f"# notifier benchmark: {args.count} messages, {args.threads} worker threads")

    # 1. Enqueue paths.
    started = time.perf_counter()
    for i in range(args.count):
        noop.send(i)
    one_by_one = args.count / (time.perf_counter() - started)
    broker.flush(NOOP_QUEUE)
    started = time.perf_counter()
    push_messages(broker, [noop.message(i) for i in range(args.count)])
    pipelined = args.count / (time.perf_counter() - started)
    print(f"enqueue, send() one by one: {one_by_one:,.0f} msg/s")
    print(f"enqueue, pipelined batch:   {pipelined:,.0f} msg/s ({pipelined / one_by_one:.1f}x)")

    # 2. Throughput: do-nothing actor, then the real thing.
    elapsed, noop_cpu = drain(broker, NOOP_QUEUE, args.threads)
    noop_rate = args.count / elapsed
    print(f"do-nothing actor:           {noop_rate:,.0f} msg/s, "
          f"{noop_cpu / args.count * 1e6:,.0f} µs of CPU per message")  # fmt: skip
    ids = create(engine, args.count, "throughput")
    enqueue(engine, broker, ids, now=datetime.now(UTC))
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    elapsed, cpu = drain(broker, NOTIFICATIONS_QUEUE, args.threads)
    if profiler is not None:
        profiler.stop()
        with open(args.profile, "w", encoding="utf-8") as out:
            if args.profile.endswith(".html"):
                out.write(profiler.output_html())
            else:
                out.write(profiler.output_text(unicode=True, show_all=False))
    with engine.connect() as conn:
        sent = conn.execute(text("select count(*) from notifications where status='sent'"))
        sent_count = sent.scalar_one()
    end_to_end = args.count / elapsed
    print(f"end to end (send_notifications, batches of {BATCH_SIZE}): {end_to_end:,.0f} msg/s "
          f"({sent_count} sent, {twilio.count()} Twilio requests), "
          f"{cpu / args.count * 1e6:,.0f} µs of CPU per notification")  # fmt: skip
    print(f"ratio to the do-nothing actor: {end_to_end / noop_rate:.1%}")
    if args.skip_pacing:
        twilio.close()
        broker.close()
        return

    # 3. Pacing at the configured rate.
    twilio.reset()
    runtime.limiters = {"sms": RedisLimiter(client, "sms-bench", args.rate, concurrency=10)}
    count = int(args.rate * (args.rate_seconds + 5))
    ids = create(engine, count, "rate")
    enqueue(engine, broker, ids, now=datetime.now(UTC))
    worker = dramatiq.Worker(broker, worker_threads=args.threads)
    worker.start()
    time.sleep(args.rate_seconds + 2)
    worker.stop()
    stamps = sorted(twilio.stamps())
    start = stamps[0]
    windows = [sum(1 for s in stamps if start + w <= s < start + w + 10) / 10
               for w in range(0, args.rate_seconds, 10)]  # fmt: skip
    overall = sum(1 for s in stamps if s < start + args.rate_seconds) / args.rate_seconds
    print(f"pacing at {args.rate:g} msg/s over {args.rate_seconds} s: {overall:.2f} msg/s "
          f"({(overall / args.rate - 1) * 100:+.2f}%)")  # fmt: skip
    print("  per 10 s window: " + ", ".join(f"{w:.1f}" for w in windows))
    twilio.close()
    broker.close()


if __name__ == "__main__":
    main()
