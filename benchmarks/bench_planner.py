"""Benchmark: one reminder run (a digest Monday) for N members, planned by 1, 2 and 4
dramatiq worker processes, one `plan_shard` job per organization subtree.

Usage:

    .venv/bin/python benchmarks/bench_planner.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/liaison_bench_planner \
        --redis-url redis://127.0.0.1:6379/13 --members 100000 [--workers 1 2 4] [--depth 1]

The database is created and loaded with a synthetic county ledger unless it already holds
exactly N members (loading is not timed). Before each measurement the outbox and the
planning marks are emptied and the benchmark's Redis database (13 by default: give it one
of its own) flushed, so each run plans the same work. The workers are `liaison worker
--queues planning` processes, as deployed, started and seen alive before the clock starts.
Wall time runs from the first job sent to the last report received.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

AS_OF = date(2026, 11, 30)  # a Monday and the last digest day of November
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
HEARTBEATS_KEY = "liaison:__heartbeats__"  #: dramatiq: one member per live worker process


def _prepare(url: str, members: int, ledger_dir: Path) -> dict[str, Any]:
    from services.scheduler.planning.message_policy import MESSAGE_RULES
    from shared.db import make_engine, upgrade
    from shared.ledger.importer import import_files
    from shared.ledger.synthetic import generate_ledger
    from shared.models import Member, Rule

    parsed = make_url(url)
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
        ).first()
        if not found:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        have = conn.scalar(select(func.count()).select_from(Member))
    loaded_s = 0.0
    if have != members:
        if have:
            raise SystemExit(f"{parsed.database} holds {have} members; drop it or change --members")
        started = time.perf_counter()
        summary = generate_ledger(ledger_dir, members=members, as_of=AS_OF)
        import_files(engine, list(summary.files))
        loaded_s = time.perf_counter() - started
    with engine.begin() as conn:
        names = set(conn.scalars(select(Rule.name)))
        rows = [r for r in MESSAGE_RULES if r["name"] not in names]
        if rows:
            conn.execute(Rule.__table__.insert(), rows)
    return {"loaded_s": loaded_s}


def _measure(url: str, redis_url: str, workers: int, depth: int) -> dict[str, Any]:
    """Plan once with `workers` `liaison worker` processes on the planning queue, as a
    deployment runs them, the scheduler's runner wired by the one bootstrap."""
    import redis
    from sqlalchemy.orm import Session

    from services.bootstrap import bootstrap
    from services.scheduler.planning.reconcile import reconcile
    from services.scheduler.planning.shards import shards_at
    from shared.db import make_engine
    from shared.org_tree import OrgTree
    from shared.settings import load_settings

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE notifications, notification_events, planning_marks CASCADE"))
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")},
        "LIAISON_DATABASE_URL": url,
        "LIAISON_REDIS_URL": redis_url,
        "LIAISON_LOG_LEVEL": "WARNING",
    }
    liaison = str(Path(sys.executable).parent / "liaison")
    procs = [
        subprocess.Popen(
            [liaison, "worker", "--queues", "planning", "--processes", "1", "--threads", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    settings = load_settings(
        {
            "LIAISON_DATABASE_URL": url,
            "LIAISON_REDIS_URL": redis_url,
            "LIAISON_PLANNING_TIMEOUT_S": "86400",  # a province may take long: measure it
        }
    )
    wiring = bootstrap(settings, engine=engine)
    deadline = time.monotonic() + 120
    while wiring.redis.zcard(HEARTBEATS_KEY) < workers:
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not start within 120 s")
        time.sleep(0.2)
    with Session(engine) as session:
        shards = len(shards_at(OrgTree.load(session), depth))
    try:
        started = time.perf_counter()
        report = reconcile(
            engine, NOW, depth=depth, broker=wiring.broker, runner=wiring.shard_runner()
        )
        seconds = time.perf_counter() - started
    finally:
        for p in procs:
            p.terminate()
            p.wait(60)
        wiring.close()
    return {
        "workers": workers,
        "shards": shards,
        "seconds": round(seconds, 2),
        "notifications": report.total,
        "per_s": round(report.total / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--ledger-dir", type=Path, default=Path("var/bench-planner-ledger"))
    args = parser.parse_args()
    prepared = _prepare(args.database_url, args.members, args.ledger_dir)
    if prepared["loaded_s"]:
        print(f"ledger of {args.members} members loaded in {prepared['loaded_s']:.0f} s")
    results = []
    for w in args.workers:
        results.append(_measure(args.database_url, args.redis_url, w, args.depth))
        # Each measurement as it ends: a million-member run takes a while per worker count.
        print(json.dumps({"measured": results[-1]}), flush=True)
    base = results[0]["seconds"]
    header = ("workers", 8), ("shards", 8), ("seconds", 10), ("speed-up", 10)
    print("".join(f"{h:>{w}}" for h, w in header) + f"{'notifications':>15}{'per s':>9}")
    for r in results:
        print(
            f"{r['workers']:>8}{r['shards']:>8}{r['seconds']:>10.1f}{base / r['seconds']:>10.2f}"
            f"{r['notifications']:>15}{r['per_s']:>9.0f}"
        )
    print(
        json.dumps(
            {
                "members": args.members,
                "cpus": os.cpu_count(),
                "depth": args.depth,
                "results": results,
                "as_of": NOW.isoformat(),
            }
        )
    )


if __name__ == "__main__":
    main()
