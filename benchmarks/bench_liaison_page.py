"""Benchmark: one liaison's listing and the whole liaison page, on a province-sized ledger.

Usage (PostgreSQL; `--build` drops and creates the database named in the URL and fills
it by SQL, see benchmarks/page_ledger_sql.py):

    .venv/bin/python benchmarks/bench_liaison_page.py --build --members 1000000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/liaison_bench_page \\
        --redis-url redis://127.0.0.1:6395 [--liaisons 200]

The listing is `liaison_tasks` (what the page, the digest's refresh and the SMS reply
read), timed in this process on a warm engine for each of N random liaisons, with the
policy book held as the page holds it (`PolicyCache`, read again once a minute). The page is
a GET of `/p/<link>` from a real `liaison serve` on loopback (the link checked, the
listing, the members' names, phones and last contacts, the HTML rendered), timed by the
client, for the same liaisons. Figures are p50, p95 and the slowest, in milliseconds,
with the machine's load beside them.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SECRET = "bench-page-secret-0123456789"


def _load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank


def _figures(name: str, samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    return (
        f"{name}: n={len(ordered)} p50={statistics.median(ordered):.1f} ms "
        f"p95={_p95(ordered):.1f} ms max={ordered[-1]:.1f} ms (load {_load()})"
    )


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _build(url: str, members: int, as_of: date) -> None:
    from sqlalchemy import text

    from benchmarks.page_ledger_sql import build_ledger
    from shared.db import make_engine, upgrade

    base, name = url.rsplit("/", 1)
    admin = make_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    print(f"building {members:,} members by SQL (load {_load()})", flush=True)
    build_ledger(engine, members, as_of)
    print(f"built in {time.perf_counter() - started:.0f} s (load {_load()})", flush=True)
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--liaisons", type=int, default=200)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    if args.build:
        _build(args.database_url, args.members, as_of)

    import httpx
    from sqlalchemy import func, select

    from services.web.page_listing import PolicyCache, liaison_tasks
    from shared.db import make_engine, transaction, upgrade
    from shared.models import Liaison, Member
    from shared.page_links import issue_link, load_page_settings

    engine = make_engine(args.database_url)
    upgrade(engine)  # a ledger built by an earlier checkout: `liaison serve` wants it current
    with engine.connect() as conn:
        counts = (
            conn.execute(select(func.count()).select_from(Member)).scalar(),
            conn.execute(select(func.count()).select_from(Liaison)).scalar(),
        )
    print(f"ledger: {counts[0]:,} members, {counts[1]:,} liaisons; as of {as_of}")
    rng = random.Random(args.seed)
    chosen = [f"L{rng.randrange(counts[1] or 1)}" for _ in range(args.liaisons)]

    policy = PolicyCache()  # as the page holds it: the policy read once a minute
    for liaison in chosen[:5]:  # warm the engine's pool and the server's caches
        liaison_tasks(engine, liaison, as_of, book=policy.book(engine))
    listing_ms, cpu_ms, tasks_seen = [], [], 0
    for liaison in chosen:
        started, cpu = time.perf_counter(), time.process_time()
        tasks_seen += len(liaison_tasks(engine, liaison, as_of, book=policy.book(engine)))
        listing_ms.append((time.perf_counter() - started) * 1000)
        cpu_ms.append((time.process_time() - cpu) * 1000)
    print(_figures("listing (liaison_tasks)", listing_ms) + f"; {tasks_seen} tasks in all")
    # The client's CPU (this process), which a busy machine disturbs less than the wall.
    print(f"  its CPU: p50={statistics.median(cpu_ms):.1f} ms p95={_p95(cpu_ms):.1f} ms")

    page = load_page_settings({"LIAISON_PAGE_SECRET": SECRET})
    with transaction(engine) as session:
        now = datetime.now(UTC)
        tokens = [
            issue_link(session, page, liaison, now=now, issued_by="cli").token for liaison in chosen
        ]
    port = _free_port()
    env = {
        **os.environ,
        "LIAISON_DATABASE_URL": args.database_url,
        "LIAISON_REDIS_URL": args.redis_url,
        "LIAISON_PAGE_SECRET": SECRET,
        "LIAISON_HOME": str(REPO / "var" / "bench-page"),
        "LIAISON_LOG_LEVEL": "WARNING",
    }
    liaison_cmd = str(Path(sys.executable).with_name("liaison"))
    server = subprocess.Popen(
        [liaison_cmd, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("liaison serve did not start") from None
                    time.sleep(0.3)
            for token in tokens[:5]:
                client.get(f"/p/{token}")
            page_ms, sizes = [], 0
            server_cpu = _cpu_s(server.pid)
            for token in tokens:
                started = time.perf_counter()
                response = client.get(f"/p/{token}")
                page_ms.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text[:300]
                sizes += len(response.content)
            server_cpu = _cpu_s(server.pid) - server_cpu
        print(_figures("whole page (GET /p/<link>)", page_ms) + f"; {sizes // len(tokens)} B avg")
        print(f"  the server's CPU: {server_cpu * 1000 / len(tokens):.1f} ms a page on average")
    finally:
        server.terminate()
        server.wait(timeout=20)
    engine.dispose()


if __name__ == "__main__":
    main()
