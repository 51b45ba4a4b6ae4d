"""Planning split by organization subtree, so more workers plan a province faster.

At depth d, each organization d levels below a root is a shard holding its whole subtree,
and each organization above that depth is a shard of its own (its events, greetings and
liaisons; the deeper shards cover its descendants). Depth 0 is one shard per root: the
single-machine path, the same code with one shard.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import dramatiq
import redis
from dramatiq import Broker
from sqlalchemy import Engine

from services.scheduler.context import PlanningBase
from services.scheduler.planner import PlanReport, Shard, ShardRunner
from services.scheduler.policy import OrgTree
from shared.errors import LiaisonError

DEFAULT_SHARD_DEPTH = 0


def org_depths(tree: OrgTree) -> dict[str, int]:
    return {code: len(tree.lineage(code)) - 1 for code in tree.parents}


def shards_at(tree: OrgTree, depth: int, root: str | None = None) -> list[Shard]:
    """The shards covering `root`'s subtree (the whole tree when None) at `depth` below
    the tree's roots; every organization belongs to exactly one shard."""
    if depth < 0:
        raise ValueError("the shard depth is a whole number ≥ 0")
    depths = org_depths(tree)
    scope = tree.subtree(root) if root is not None else sorted(tree.parents)
    if root is None and depth == 0:
        return [Shard(None)]
    if root is not None and depths[root] >= depth:
        return [Shard(root)]
    out = []
    for code in sorted(scope):
        if depths[code] == depth:
            out.append(Shard(code))
        elif depths[code] < depth:
            out.append(Shard(code, whole_subtree=False))
    return out


# Shard jobs on dramatiq ------------------------------------------------------------------

PLANNING_QUEUE = "planning"
PLAN_SHARD = "plan_shard"  #: the actor's name
RESULTS_KEY = "liaison:planning:results:{run}"  #: a hash: shard label → report JSON
RESULTS_TTL_S = 3600
DEFAULT_WAIT_S = 3600.0  #: the longest a reconcile waits for its shard jobs


def declare_planner_actor(
    broker: Broker, engine: Callable[[], Engine], client: Callable[[], redis.Redis]
) -> dramatiq.Actor[[str, str, str], None]:
    """Declare `plan_shard(run, label, now)` on `broker`: plans one shard and stores its
    report under the run's results hash. Idempotent like the planner itself."""

    # The tree and policy of the reconcile this worker last planned a shard of: the other
    # shards of the same run (the same `run` id) reuse them instead of reading them again.
    bases: dict[str, PlanningBase] = {}

    def plan_shard(run: str, label: str, now: str) -> None:
        from services.scheduler.planner import plan

        base = bases.get(run)
        if base is None:
            base = PlanningBase.read(engine())
            bases.clear()
            bases[run] = base
        report = plan(
            engine(),
            datetime.fromisoformat(now),
            shard=Shard.parse(label),
            broker=broker,  # type: ignore[arg-type]
            base=base,
        )
        key = RESULTS_KEY.format(run=run)
        pipe = client().pipeline()
        pipe.hset(key, label, json.dumps(report_to_json(report)))
        pipe.expire(key, RESULTS_TTL_S)
        pipe.execute()

    decorate = dramatiq.actor(
        actor_name=PLAN_SHARD, queue_name=PLANNING_QUEUE, broker=broker, max_retries=3
    )
    actor: dramatiq.Actor[[str, str, str], None] = decorate(plan_shard)
    return actor


def report_to_json(report: PlanReport) -> dict[str, Any]:
    return {
        "created": [[k, c, n] for (k, c), n in report.created.items()],
        "existing": report.existing,
        "occasions": dict(report.occasions),
        "quiet_orgs": report.quiet_orgs,
        "enqueued": report.enqueued,
        "calendar_gaps": report.calendar_gaps,
    }


def report_from_json(now: datetime, data: dict[str, Any]) -> PlanReport:
    report = PlanReport(now=now)
    report.created.update({(k, c): n for k, c, n in data["created"]})
    report.existing = data["existing"]
    report.occasions.update(data["occasions"])
    report.quiet_orgs = data["quiet_orgs"]
    report.enqueued = data["enqueued"]
    report.calendar_gaps = data["calendar_gaps"]
    return report


def dramatiq_runner(
    broker: Broker, client: redis.Redis, *, wait_s: float = DEFAULT_WAIT_S, poll_s: float = 0.05
) -> ShardRunner:
    """A runner that sends one `plan_shard` job per shard and waits for every report."""

    def run(shards: Sequence[Shard], now: datetime) -> list[PlanReport]:
        run_id = uuid.uuid4().hex
        key = RESULTS_KEY.format(run=run_id)
        for s in shards:
            broker.enqueue(
                dramatiq.Message(
                    queue_name=PLANNING_QUEUE,
                    actor_name=PLAN_SHARD,
                    args=(run_id, s.label, now.isoformat()),
                    kwargs={},
                    options={},
                )
            )
        deadline = time.monotonic() + wait_s
        while client.hlen(key) < len(shards):
            if time.monotonic() > deadline:
                raise LiaisonError(
                    f"planning jobs did not finish within {wait_s:.0f} s; are workers running?"
                )
            time.sleep(poll_s)
        found = client.hgetall(key)
        client.delete(key)
        return [report_from_json(now, json.loads(v)) for v in found.values()]

    return run
