"""One reconcile: every shard planned at one instant, inline or as dramatiq jobs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from services.scheduler.planning.planner import PlanReport, Shard, ShardRunner, plan
from services.scheduler.planning.shard_view import PlanningBase
from services.scheduler.planning.shards import DEFAULT_SHARD_DEPTH, shards_at
from shared.org_tree import OrgTree

log = logging.getLogger(__name__)


def inline_runner(engine: Engine, broker: RedisBroker | None) -> ShardRunner:
    def run(shards: Sequence[Shard], now: datetime) -> list[PlanReport]:
        base = PlanningBase.read(engine)
        return [plan(engine, now, shard=s, broker=broker, base=base) for s in shards]

    return run


def reconcile(
    engine: Engine,
    now: datetime,
    *,
    org: str | None = None,
    depth: int = DEFAULT_SHARD_DEPTH,
    dry_run: bool = False,
    broker: RedisBroker | None = None,
    runner: ShardRunner | None = None,
) -> PlanReport:
    """Plan everything due at `now` in `org`'s subtree (or the whole tree), shard by shard."""
    with Session(engine) as session:
        tree = OrgTree.load(session)
    if org is not None:
        tree.require(org)
    shards = shards_at(tree, depth, org)
    total = PlanReport(now=now)
    if dry_run:
        base = PlanningBase.read(engine)
        for s in shards:
            total.merge(plan(engine, now, shard=s, dry_run=True, base=base))
        return total
    for report in (runner or inline_runner(engine, broker))(shards, now):
        total.merge(report)
    return total
