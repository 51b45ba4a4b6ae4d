"""A synthetic county ledger in the import format, for the demo, the tests and benchmarks.

`generate_ledger` writes one CSV file per kind (canonical headers and column order from
`kinds.py`, UTF-8 with BOM, CRLF line ends, as Excel saves them). It streams: the layout
(one record per branch) is the only thing kept, and each branch's rows are written as soon
as the branch is drawn, so a million members take no more memory than a thousand.
The same (members, seed, as_of) always gives byte-identical files.
"""

from __future__ import annotations

import csv
import multiprocessing
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from shared.errors import LedgerError
from shared.ledger.kinds import KINDS_BY_NAME
from shared.ledger.synthetic_branch import BranchDrawer, Tally
from shared.ledger.synthetic_dates import IsoDays
from shared.ledger.synthetic_layout import TIMEZONE, Layout, build_layout
from shared.ledger.synthetic_people import OrderCodes

#: the files written, in the order a reader of the directory expects them
FILE_KINDS: tuple[str, ...] = (
    "organizations",
    "liaisons",
    "members",
    "assignments",
    "interactions",
    "moves",
    "events",
    "attendance",
    "campaigns",
    "deliveries",
    "reviews",
    "mutes",
    "verifications",
)
_BUFFER_BYTES = 1 << 20
#: the branches are always drawn in this many parts, so the files never depend on the
#: number of processors; 2 matches the machines liaison is benchmarked on
PARTS = 2
PARALLEL_FROM_MEMBERS = 20_000  #: below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class SyntheticSummary:
    """What `generate_ledger` wrote, and the rule-exercising populations in it."""

    out: Path
    members: int
    seed: int
    as_of: date
    rows: dict[str, int]  #: rows written per kind (headers not counted)
    elderly: int  #: members aged 80 or over on as_of, whatever their status
    frequent_movers: int  #: members with 2+ moves in [as_of − 89, as_of]
    unassigned: int  #: active members without a liaison on as_of
    muted: int  #: members muted for a span including as_of
    seconds: float  #: wall time taken to write the files

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(self.out / f"{kind}.csv" for kind in FILE_KINDS)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def generate_ledger(out: Path, *, members: int, seed: int = 1, as_of: date) -> SyntheticSummary:
    """Write a county ledger of `members` mobile members into `out` (created if missing).

    The branches are drawn in `PARTS` parts, side by side in worker processes for a large
    ledger, and the parts are joined in order; the files do not depend on whether the parts
    ran in parallel. Files are written under a temporary name and renamed when complete, so
    a directory never holds a half-written ledger under the real names.
    """
    if members < 1:
        raise LedgerError("a synthetic ledger needs at least one member")
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    layout = build_layout(members, seed, as_of)
    jobs = [(out, members, seed, as_of, part) for part in range(PARTS)]
    if members >= PARALLEL_FROM_MEMBERS:
        # fork, where there is one: it needs no importable __main__ (spawn re-imports the
        # caller's script, which fails under `python -c` or a REPL) and starts at once
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(PARTS, mp_context=context) as pool:
            tallies = list(pool.map(_draw_part, jobs))
    else:
        tallies = [_draw_part(job) for job in jobs]
    tally = Tally(rows=dict.fromkeys(FILE_KINDS, 0))
    for part in tallies:
        for kind, count in part.rows.items():
            tally.rows[kind] += count
        tally.elderly += part.elderly
        tally.frequent_movers += part.frequent_movers
        tally.unassigned += part.unassigned
        tally.muted += part.muted
    tally.rows["organizations"] = len(layout.organizations)
    tally.rows["campaigns"] = len(layout.campaigns)
    for kind in FILE_KINDS:
        _join_parts(out, kind, layout)
    return SyntheticSummary(
        out=out,
        members=members,
        seed=seed,
        as_of=as_of,
        rows=tally.rows,
        elderly=tally.elderly,
        frequent_movers=tally.frequent_movers,
        unassigned=tally.unassigned,
        muted=tally.muted,
        seconds=time.perf_counter() - started,
    )


def _part_path(out: Path, kind: str, part: int) -> Path:
    return out / f".{kind}.csv.part{part}"


def _draw_part(job: tuple[Path, int, int, date, int]) -> Tally:
    """Draw one part's branches into headerless part files; a worker process's whole job."""
    out, members, seed, as_of, part = job
    layout = build_layout(members, seed, as_of)  # cheap, and identical in every process
    branches = layout.branches
    mine = branches[part * len(branches) // PARTS : (part + 1) * len(branches) // PARTS]
    tally = Tally(rows=dict.fromkeys(FILE_KINDS, 0))
    days = IsoDays(as_of - timedelta(days=4000), as_of + timedelta(days=400))
    codes = OrderCodes(part, PARTS)
    with ExitStack() as stack:
        writers: dict[str, Any] = {}
        for kind in FILE_KINDS:
            handle = stack.enter_context(
                open(
                    _part_path(out, kind, part),
                    "w",
                    encoding="utf-8",
                    newline="",
                    buffering=_BUFFER_BYTES,
                )
            )
            writers[kind] = csv.writer(handle)
        for branch in mine:
            drawer = BranchDrawer(layout, branch, seed, as_of, days, codes)
            drawer.draw_liaisons()
            drawer.draw_events()
            for number in range(branch.first_member, branch.first_member + branch.size):
                drawer.draw_member(number, tally)
            for kind, rows in drawer.rows.items():
                writers[kind].writerows(rows)
                tally.rows[kind] += len(rows)
    return tally


def _join_parts(out: Path, kind: str, layout: Layout) -> None:
    """BOM, header, the layout's own rows, then every part in order; renamed when whole."""
    partial = out / f".{kind}.csv.partial"
    with open(partial, "w", encoding="utf-8", newline="", buffering=_BUFFER_BYTES) as handle:
        # the BOM by hand: the utf-8-sig codec encodes every write in Python, 3x slower
        handle.write("\ufeff")
        writer = csv.writer(handle)
        writer.writerow(KINDS_BY_NAME[kind].column_names)
        if kind == "organizations":
            writer.writerows(_organization_rows(layout))
        elif kind == "campaigns":
            writer.writerows(_campaign_rows(layout))
        handle.flush()
        for part in range(PARTS):
            path = _part_path(out, kind, part)
            with open(path, "rb") as source:
                shutil.copyfileobj(source, handle.buffer, _BUFFER_BYTES)
            path.unlink()
    partial.replace(out / f"{kind}.csv")


def _organization_rows(layout: Layout) -> list[tuple[str, ...]]:
    return [
        (o.code, o.name, o.parent_code or "", TIMEZONE, o.secretary_name, o.secretary_phone, "")
        for o in layout.organizations
    ]


def _campaign_rows(layout: Layout) -> list[tuple[str, ...]]:
    return [
        (c.campaign_id, c.title, c.org, c.start.isoformat(), c.end.isoformat())
        for c in layout.campaigns
    ]
