"""Benchmark: `due` for all rules against a bare scan of the same tables, in one run.

Usage (the database must already hold a ledger, e.g. loaded by benchmarks/bench_import.py):

    .venv/bin/python benchmarks/bench_due.py --database-url URL --as-of 2026-11-22 [--repeat 1]

Each measurement runs in a child process of its own, so its peak memory (ru_maxrss) is its
own; each also reports its CPU time (the client's, not the server's), which a busy machine
disturbs less than the wall time. The bare scan reads every member row and every interaction
row once with a plain SELECT through the same driver; `due` computes every rule for every
member and serialises each task as jsonl to a null sink.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

# The checkout this script is in is the code measured, not whichever liaison the virtual
# environment installed (an editable install points at one checkout; a second worktree,
# for a before-and-after run, would otherwise measure that one).
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _bare_scan(url: str, queue: multiprocessing.Queue[dict[str, Any]]) -> None:
    from shared.db import make_engine
    from shared.models import Interaction, Member

    engine = make_engine(url)
    started, cpu = time.perf_counter(), _cpu()
    rows = 0
    with engine.connect() as conn:
        for table in (Member, Interaction):
            result = conn.execution_options(yield_per=10_000).execute(select(table.__table__))
            for _row in result:
                rows += 1
    queue.put(
        {
            "seconds": time.perf_counter() - started,
            "cpu": _cpu() - cpu,
            "rows": rows,
            "peak_mb": _peak_mb(),
        }
    )


def _due(url: str, as_of: str, queue: multiprocessing.Queue[dict[str, Any]]) -> None:
    from services.scheduler.tasks.due import DueQuery, compute_due
    from services.scheduler.tasks.listing import write_listing
    from shared.db import make_engine

    engine = make_engine(url)
    started, cpu = time.perf_counter(), _cpu()
    with open("/dev/null", "w") as sink:  # the listing `liaison due --format jsonl` writes
        tasks = write_listing(
            compute_due(engine, DueQuery(date.fromisoformat(as_of))), "jsonl", sink, None
        )
    queue.put(
        {
            "seconds": time.perf_counter() - started,
            "cpu": _cpu() - cpu,
            "tasks": tasks,
            "peak_mb": _peak_mb(),
        }
    )


def _cpu() -> float:
    """This process's CPU seconds (the database server's are not counted)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(target: Any, *args: Any) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[dict[str, Any]] = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--as-of", default="2026-11-22")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    from shared.db import make_engine
    from shared.models import Interaction, Member

    with make_engine(args.database_url).connect() as conn:
        members = conn.scalar(select(func.count()).select_from(Member))
        interactions = conn.scalar(select(func.count()).select_from(Interaction))
    import services.scheduler.tasks.due as measured

    print(f"ledger: {members:,} members, {interactions:,} interactions; as of {args.as_of}")
    print(f"code: {Path(measured.__file__).resolve().parents[2]}")
    for attempt in range(1, args.repeat + 1):
        scan = _run(_bare_scan, args.database_url)
        due = _run(_due, args.database_url, args.as_of)
        ratio = due["seconds"] / scan["seconds"]
        cpu_ratio = due["cpu"] / scan["cpu"]
        print(
            f"run {attempt}: bare scan {scan['seconds']:.1f} s, cpu {scan['cpu']:.1f} s "
            f"({scan['rows']:,} rows, peak {scan['peak_mb']:.0f} MB); "
            f"due {due['seconds']:.1f} s, cpu {due['cpu']:.1f} s "
            f"({due['tasks']:,} tasks, peak {due['peak_mb']:.0f} MB); "
            f"ratio {ratio:.2f} (cpu {cpu_ratio:.2f}); load {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
