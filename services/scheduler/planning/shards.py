"""Planning split by organization subtree, so more workers plan a province faster.

At depth d, each organization d levels below a root is a shard holding its whole subtree,
and each organization above that depth is a shard of its own (its events, greetings and
liaisons; the deeper shards cover its descendants). Depth 0 is one shard per root: the
single-machine path, the same code with one shard.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import dramatiq
import redis
from dramatiq import Broker
from sqlalchemy import Engine

from services.scheduler.planning.planner import PlanReport, Shard, ShardRunner
from services.scheduler.planning.shard_view import PlanningBase
from shared.errors import LiaisonError
from shared.org_tree import OrgTree
from shared.status_keys import PLANNING_TIMEOUTS_KEY

log = logging.getLogger(__name__)

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
#: JSON of the distributed run whose shards were sent and not all reported yet:
#: `{"run": id, "now": ISO, "labels": [...]}`; a retried tick waits for it again instead
#: of sending a second full set of shard jobs
PENDING_RUN_KEY = "liaison:planning:pending"
RESULTS_TTL_S = 3600
DEFAULT_WAIT_S = 600.0  #: the longest one tick waits for its shard jobs
#: a shard job may plan a whole county: far longer than a send's time limit
PLAN_SHARD_TIME_LIMIT_MS = RESULTS_TTL_S * 1000


class PlanningTimedOut(LiaisonError):
    """Raised when the workers did not report every shard of a tick in time."""


class PlanningInterrupted(LiaisonError):
    """Raised when the scheduler is asked to stop while it waits for shard jobs."""


def declare_planner_actor(
    broker: Broker, engine: Callable[[], Engine], client: Callable[[], redis.Redis]
) -> dramatiq.Actor[[str, str, str], None]:
    """Declare `plan_shard(run, label, now)` on `broker`: plans one shard and stores its
    report under the run's results hash. Idempotent like the planner itself."""

    # The tree and policy of the reconcile this worker last planned a shard of: the other
    # shards of the same run (the same `run` id) reuse them instead of reading them again.
    bases: dict[str, PlanningBase] = {}

    def plan_shard(run: str, label: str, now: str) -> None:
        from services.scheduler.planning.planner import plan

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
        actor_name=PLAN_SHARD,
        queue_name=PLANNING_QUEUE,
        broker=broker,
        max_retries=3,
        time_limit=PLAN_SHARD_TIME_LIMIT_MS,
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


def _pending_run(client: redis.Redis, labels: list[str]) -> tuple[str, datetime] | None:
    """The run a timed-out or interrupted tick left for these very shards, if any."""
    raw = client.get(PENDING_RUN_KEY)
    if raw is None:
        return None
    try:
        pending = json.loads(raw)
        if sorted(pending["labels"]) != sorted(labels):
            return None  # the tree changed since: plan afresh
        return str(pending["run"]), datetime.fromisoformat(pending["now"])
    except (ValueError, KeyError, TypeError):
        return None


def dramatiq_runner(
    plan_shard: dramatiq.Actor[[str, str, str], None],
    client: redis.Redis,
    *,
    wait_s: float = DEFAULT_WAIT_S,
    poll_s: float = 0.05,
    stop: threading.Event | None = None,
) -> ShardRunner:
    """A runner that sends one `plan_shard` job per shard and waits for every report.

    The wait ends early when `stop` is set (SIGTERM), raising `PlanningInterrupted`, and
    after `wait_s` with `PlanningTimedOut`. Either way the run is left pending in Redis:
    the next tick (this replica's or a standby's) waits for the same jobs again instead
    of queueing a second full set; the tick after that plans its own instant.
    """
    stopping = stop or threading.Event()

    def run(shards: Sequence[Shard], now: datetime) -> list[PlanReport]:
        labels = [s.label for s in shards]
        pending = _pending_run(client, labels)
        if pending is not None:
            run_id, now = pending
            log.warning("waiting again for the %d shard job(s) of the run of %s", len(labels), now)
        else:
            run_id = uuid.uuid4().hex
            client.set(
                PENDING_RUN_KEY,
                json.dumps({"run": run_id, "now": now.isoformat(), "labels": labels}),
                ex=RESULTS_TTL_S,
            )
            for label in labels:
                plan_shard.send(run_id, label, now.isoformat())
        key = RESULTS_KEY.format(run=run_id)
        deadline = time.monotonic() + wait_s
        while (done := int(client.hlen(key))) < len(labels):
            if stopping.is_set():
                raise PlanningInterrupted(
                    f"stopped while waiting for planning jobs ({done} of {len(labels)} in)"
                )
            if time.monotonic() > deadline:
                client.incr(PLANNING_TIMEOUTS_KEY)
                raise PlanningTimedOut(
                    f"planning jobs did not finish within {wait_s:.0f} s ({done} of"
                    f" {len(labels)} in); are `liaison worker` processes running on the"
                    f" {PLANNING_QUEUE!r} queue?"
                )
            stopping.wait(poll_s)
        found = client.hgetall(key)
        client.delete(key, PENDING_RUN_KEY)
        return [report_from_json(now, json.loads(v)) for v in found.values()]

    return run
