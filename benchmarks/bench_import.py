"""Benchmark: generate a synthetic county ledger and import the whole file set.

Usage:

    .venv/bin/python benchmarks/bench_import.py --members 1000000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/liaison_bench

The ledger is kept in `var/bench/ledger-<members>` (git-ignored) and reused when it was
generated with the same members, seed and as-of date (`--ledger DIR` names another
directory; `--regenerate` forces a new one). The database named in the URL is dropped and
created afresh (a SQLite file is deleted), migrated with `shared.db.upgrade`, and the file
set is imported with `shared.ledger.importer.import_files` in a child process of its own,
so that the peak memory reported (ru_maxrss) is the import's alone. `--profile` runs the
import under cProfile and prints where the time goes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MARKER = ".synthetic.json"  #: what the ledger in a directory was generated with


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _generate(out: str, members: int, seed: int, as_of: str, queue: Any) -> None:
    from shared.ledger.synthetic import generate_ledger

    summary = generate_ledger(
        Path(out), members=members, seed=seed, as_of=date.fromisoformat(as_of)
    )
    queue.put(
        {
            "seconds": summary.seconds,
            "rows": summary.rows,
            "total_rows": summary.total_rows,
            "elderly": summary.elderly,
            "frequent_movers": summary.frequent_movers,
            "unassigned": summary.unassigned,
            "files": [str(p) for p in summary.files],
            # the generator's own peak, and that of its worker processes
            "peak_mb": max(_peak_mb(), _children_peak_mb()),
        }
    )


def _import(url: str, files: list[str], profile: bool, queue: Any) -> None:
    from shared.db import make_engine
    from shared.ledger.importer import import_files

    engine = make_engine(url)
    paths = [Path(f) for f in files]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    report = import_files(engine, paths)
    seconds = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        # Fresh statistics, as autovacuum would gather them on a production server (it
        # may be off on a shared test server): the due benchmark's plans depend on them.
        from sqlalchemy import text

        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    result: dict[str, Any] = {
        "seconds": seconds,
        "read": {c.kind: c.read for c in report.counts},
        "written": {c.kind: c.written for c in report.counts},
        "peak_mb": _peak_mb(),
    }
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(25)
        result["profile"] = text.getvalue()
    queue.put(result)


def _run(target: Any, *args: Any) -> dict[str, Any]:
    """`target(*args, queue)` in a fresh interpreter; its result, or exit on failure."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    while True:
        try:
            result: dict[str, Any] = queue.get(timeout=5)
            break
        except Exception:  # queue.Empty: keep waiting while the child lives
            if not process.is_alive():
                sys.exit(f"{target.__name__} failed (exit code {process.exitcode})")
    process.join()
    return result


def _fresh_database(url: str) -> None:
    """Drop and create the database named in `url`, then migrate it to the current schema."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from shared.db import make_engine, upgrade

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).unlink(missing_ok=True)
    else:
        name = parsed.database
        admin = make_engine(
            parsed.set(database="postgres").render_as_string(hide_password=False),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def _ledger(args: argparse.Namespace) -> tuple[Path, dict[str, Any], bool]:
    """The ledger directory and what it holds; generated unless an identical one is there."""
    out = Path(args.ledger) if args.ledger else REPO / "var" / "bench" / f"ledger-{args.members}"
    wanted = {"members": args.members, "seed": args.seed, "as_of": args.as_of}
    marker = out / MARKER
    if marker.exists() and not args.regenerate:
        recorded = json.loads(marker.read_text())
        if {k: recorded.get(k) for k in wanted} == wanted or args.ledger:
            return out, recorded, False
    out.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    recorded = {**wanted, **_run(_generate, str(out), args.members, args.seed, args.as_of)}
    marker.write_text(json.dumps(recorded, indent=2, ensure_ascii=False))
    return out, recorded, True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--ledger", help="reuse (or generate into) this directory")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default="2026-11-22")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    parser.add_argument("--results", help="also write the figures to this JSON file")
    args = parser.parse_args()

    out, ledger, generated = _ledger(args)
    rows = ledger["rows"]
    total = sum(rows.values())
    how = "generated" if generated else "reused"
    print(
        f"ledger {out}: {ledger['members']:,} members, {total:,} rows "
        f"({rows['interactions']:,} interactions); {how}"
        + (f" in {ledger['seconds']:.1f} s, peak {ledger['peak_mb']:.0f} MB" if generated else "")
    )
    started = time.perf_counter()
    _fresh_database(args.database_url)
    print(f"database created and migrated in {time.perf_counter() - started:.1f} s")
    result = _run(_import, args.database_url, ledger["files"], args.profile)
    if result["read"] != rows:
        print(f"warning: rows read {result['read']} differ from rows generated {rows}")
    seconds = result["seconds"]
    figures = {
        "members": ledger["members"],
        "rows": total,
        "generation_seconds": ledger["seconds"] if generated else None,
        "generation_peak_mb": ledger["peak_mb"] if generated else None,
        "import_seconds": seconds,
        "rows_per_second": total / seconds,
        "members_per_second": ledger["members"] / seconds,
        "import_peak_mb": result["peak_mb"],
        "database": args.database_url.split("://", 1)[0],
    }
    print(
        f"import: {seconds:.1f} s wall, {total / seconds:,.0f} rows/s, "
        f"{ledger['members'] / seconds:,.0f} members/s, peak {result['peak_mb']:.0f} MB"
    )
    if "profile" in result:
        print(result["profile"])
    if args.results:
        Path(args.results).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
