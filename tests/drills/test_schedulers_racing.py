"""Drill: two `liaison scheduler` processes on one Redis and one database, the one
holding the lease killed with SIGKILL in the middle of a tick; the other takes the lease
and finishes. Every notification the planner should produce is planned exactly once
(compared with one `liaison run` on a database of its own) and delivered."""

from __future__ import annotations

import re
import signal
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from shared.clock import FileClock
from shared.ledger.importer import import_files
from shared.ledger.synthetic import generate_ledger
from tests.drills.conftest import DrillWorld, ReferenceDatabase
from tests.drills.outcomes import count, statuses
from tests.drills.processes import (
    run_liaison,
    scheduler_command,
    start,
    stop,
    wait_until,
    worker_command,
)
from tests.integration.planner.ledger import seed_message_rules

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

MEMBERS = 3_000  #: a county of this size plans about 1,350 notifications at AT
AS_OF = date(2026, 11, 30)  #: the ledger's day, a Monday (digests and escalations go out)
#: the simulated instant the schedulers start at (Shanghai time): after the day's send
#: times, and with nothing falling due or ceasing to matter in the next hours, so that
#: a tick a few simulated minutes later plans the same set
AT = "2026-11-30T12:00"
STEP_S = 60  #: simulated seconds per tick, so that the sweep sees a crash's pending rows
TICK_S = 1.0  #: the lease lives max(10 s, 3 ticks): the survivor waits about 10 s
DEPTH = 2  #: one planning transaction per subtree two levels down: 46 of them, a long tick
WORKERS = 2
THREADS = 8
#: a stepping clock in the past of the workers' real one: the sweep's age checks on what
#: the workers wrote come out negative, so it never mistakes a live send for a lost one
SCHEDULER_ARGS = ["--shard-depth", str(DEPTH), "--clock-start", AT, "--clock-step-s", str(STEP_S)]
KILL_AFTER = 150  #: notifications committed by the lease holder before it is killed
PLAN_S = 150
DELIVER_S = 120
UNFINISHED = ("pending", "queued", "deferred", "sending")


def load_ledger(folder: Path, *engines: Engine) -> None:
    """One synthetic county, imported into each database."""
    summary = generate_ledger(folder, members=MEMBERS, as_of=AS_OF)
    for engine in engines:
        import_files(engine, list(summary.files))
        seed_message_rules(engine)


def keys(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {str(k) for (k,) in conn.execute(text("SELECT idempotency_key FROM notifications"))}


def planned(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM notifications")).scalar_one())


def repeated_keys(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(
            list(
                conn.execute(
                    text(
                        "SELECT idempotency_key FROM notifications"
                        " GROUP BY idempotency_key HAVING count(*) > 1"
                    )
                )
            )
        )


def swept(log: str, what: str) -> int:
    """How many notifications the sweep's log lines say it enqueued for `what`."""
    return sum(
        int(n) for n in re.findall(rf"enqueuing (?:again )?(\d+) notification\(s\) {what}", log)
    )


def planned_shards(log: Path) -> int:
    return log.read_text(errors="replace").count("planned shard") if log.exists() else 0


def test_two_schedulers_racing_with_one_killed_mid_tick_plan_each_notification_once(
    world: DrillWorld, reference_database: ReferenceDatabase
) -> None:
    began = time.monotonic()
    load_ledger(world.home.parent / "ledger", world.engine, reference_database.engine)
    # The reference: one `liaison run` at the same instant, on a database and a Redis
    # database number of its own (no worker consumes its messages).
    run_liaison(
        ["run", "--as-of", AT, "--shard-depth", str(DEPTH)],
        world.env(
            LIAISON_DATABASE_URL=reference_database.url,
            LIAISON_REDIS_URL=world.redis.url.rsplit("/", 1)[0] + "/1",
        ),
    )
    expected = keys(reference_database.engine)
    assert len(expected) > 1_000

    logs = world.home.parent
    # The workers live at the schedulers' starting instant (a rehearsal clock): on the
    # real clock, days later, the send-time refreshers would rightly cancel reminders of
    # events already held and greetings long past, and quiet hours would hold the rest.
    clock = logs / "clock"
    FileClock.write(clock, datetime.fromisoformat(f"{AT}+08:00"))
    worker_env = world.env(LIAISON_CLOCK_FILE=str(clock))
    workers = [
        start(worker_command(THREADS), worker_env, logs / f"worker-{i}.log") for i in range(WORKERS)
    ]
    scheduler_env = world.env(LIAISON_LOG_LEVEL="INFO")  # "planned shard", "standing by"
    scheduler_logs = [logs / f"scheduler-{i}.log" for i in range(2)]
    schedulers = [
        start(scheduler_command(TICK_S, *SCHEDULER_ARGS), scheduler_env, log)
        for log in scheduler_logs
    ]
    try:
        # Kill the one holding the lease (the one planning) in the middle of its first
        # tick, once it has committed some of the tick's notifications.
        assert wait_until(lambda: planned(world.engine) >= KILL_AFTER, 90, 0.005)
        holder = next(i for i, p in enumerate(scheduler_logs) if planned_shards(p))
        victim, survivor = schedulers[holder], schedulers[1 - holder]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed_at = time.monotonic()
        victim_shards = planned_shards(scheduler_logs[holder])
        at_kill = statuses(world.engine)
        planned_at_kill = sum(at_kill.values())
        pending_at_kill = at_kill["pending"]
        assert planned_at_kill < len(expected), "the victim finished its tick before the kill"

        def all_planned() -> bool:
            now = statuses(world.engine)
            return sum(now.values()) >= len(expected)

        assert wait_until(all_planned, PLAN_S, 0.5), statuses(world.engine)
        took_over_s = time.monotonic() - killed_at
        # The survivor keeps ticking, as a service does: its sweep finds what the victim
        # committed as queued but died before pushing to Redis.
        delivered = wait_until(
            lambda: sum(statuses(world.engine)[s] for s in UNFINISHED) == 0, DELIVER_S, 1.0
        )
        stop(survivor)  # SIGTERM: its tick finishes, it releases the lease
    finally:
        for w in workers:
            stop(w)
        for s in schedulers:
            if s.poll() is None:
                s.kill()
                s.wait(10)
    survivor_log = scheduler_logs[1 - holder].read_text(errors="replace")
    swept_pending = swept(survivor_log, "left pending")
    swept_lost = swept(survivor_log, "whose message was lost")
    got = keys(world.engine)
    missing, extra, repeated = expected - got, got - expected, repeated_keys(world.engine)
    outcome = count(
        world.engine,
        "two schedulers racing, one killed mid-tick",
        twilio=world.twilio,
        smtp=world.smtp,
        in_flight=swept_pending + swept_lost,
        seconds=time.monotonic() - began,
        note=(
            f"the victim was killed after {victim_shards} of the tick's shards, with"
            f" {planned_at_kill} of {len(expected)} planned ({pending_at_kill} pending);"
            f" the survivor had everything planned {took_over_s:.0f} s later, and its sweep"
            f" enqueued {swept_pending} the victim left pending and {swept_lost} it had"
            f" marked queued but never pushed to Redis (the in-flight column); against the"
            f" reference `liaison run`: {len(missing)} missing, {len(extra)} extra,"
            f" {repeated} idempotency keys repeated; left behind:"
            f" {dict(statuses(world.engine))}"
        ),
    )
    assert "standing by" in survivor_log  # it waited for the lease, then took it
    assert (missing, extra, repeated) == (set(), set(), 0)
    assert outcome.planned == len(expected)
    assert delivered, statuses(world.engine)
    assert outcome.lost == 0, statuses(world.engine)
    assert outcome.duplicated == 0
