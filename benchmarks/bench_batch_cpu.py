"""CPU per notification of the batch path, one thread, no dramatiq: a figure for tuning.

    .venv/bin/python benchmarks/bench_batch_cpu.py [--count 2000] [--repeat 5] [--batch 50]

`bench_notifier.py` gives the figure issue 18 is judged by (end to end against a
do-nothing actor, 16 threads); its rates move with whatever else the two cores run. This
runs `batching.deliver_batch` in one thread over the same notifications, through the
same parts (PostgreSQL, claim marks in Redis, the twilio SDK to the loopback server in
its own process), and prints the process's CPU time per notification for each repetition
and the least of them: the least is the cost of the code itself, the rest is the
machine's noise. A change that makes the path cheaper lowers it; 16 threads then add the
cost of passing the GIL around.
"""

from __future__ import annotations

import argparse
import time

import redis
from sqlalchemy import text

from services.notifier.batching import deliver_batch
from services.notifier.delivery import Outcome

try:
    from benchmarks.bench_notifier import REDIS, create, fresh_database, loopback_runtime
    from benchmarks.loopback_providers import LoopbackTwilio
except ImportError:  # run as a script: benchmarks/ is on sys.path, not its parent
    from bench_notifier import (  # type: ignore[no-redef]
        REDIS,
        create,
        fresh_database,
        loopback_runtime,
    )
    from loopback_providers import LoopbackTwilio  # type: ignore[no-redef]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=50, help="ids per deliver_batch call")
    args = parser.parse_args()

    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    engine = fresh_database()
    with LoopbackTwilio(server="asyncio") as twilio:
        runtime = loopback_runtime(engine, client, twilio.base_url)
        outcomes: dict[int, Outcome] = {}
        figures = []
        for r in range(args.repeat):
            ids = create(engine, args.count, f"cpu{r}")
            with engine.begin() as conn:  # as `enqueuing.enqueue` leaves them, but no message
                conn.execute(
                    text("UPDATE notifications SET status = 'queued' WHERE occasion = :o"),
                    {"o": f"bench:cpu{r}"},
                )
            started, cpu = time.perf_counter(), time.process_time()
            for start in range(0, len(ids), args.batch):
                deliver_batch(
                    runtime,
                    ids[start : start + args.batch],
                    on_done=outcomes.__setitem__,
                    fallback=lambda i: Outcome("skipped", detail="not measured"),
                )
            cpu = time.process_time() - cpu
            wall = time.perf_counter() - started
            sent = sum(1 for i in ids if outcomes[i].status == "sent")
            figures.append(cpu / args.count * 1e6)
            print(f"run {r + 1}: {figures[-1]:,.0f} µs of CPU per notification, "
                  f"{args.count / wall:,.0f}/s in one thread, {sent} sent")  # fmt: skip
        print(f"least: {min(figures):,.0f} µs of CPU per notification "
              f"({twilio.count()} Twilio requests)")  # fmt: skip


if __name__ == "__main__":
    main()
