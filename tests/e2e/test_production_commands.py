"""The features the README promises, run only through the production commands.

Each test starts `liaison worker`, `liaison scheduler` and `liaison run` as processes on
real PostgreSQL and Redis, wired by nothing but the one bootstrap, exactly as the
systemd units and the compose file run them. A feature that a test harness wires by hand
and a deployment lacks fails here.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from services.notifier.testing.wecom_server import WeComTestServer
from services.scheduler.planning.shards import PENDING_RUN_KEY
from services.scheduler.tasks.due import DueQuery, compute_due
from shared.clock import FileClock
from shared.db import make_engine, upgrade
from shared.models import Notification, NotificationEvent
from shared.status_keys import LAST_TICK_KEY, LEASE_KEY, PLANNING_TIMEOUTS_KEY
from tests.conftest import POSTGRES_URL
from tests.drills.processes import (
    LIAISON,
    free_port,
    liaison_env,
    own_database,
    run_liaison,
    start,
    stop,
    wait_until,
)
from tests.e2e.rehearsal import unsent
from tests.integration.planner.ledger import load_synthetic, seed_message_rules

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

DIGEST_DAY = date(2026, 12, 1)  #: the first working day of December: a digest day
PLANNED_AT = datetime.fromisoformat("2026-12-01T10:00+08:00")
#: the rules whose task one visit to the member's home finishes
FINISHED_BY_A_HOME_VISIT = {"monthly_contact", "quarterly_visit", "annual_site_visit"}
SENT_AT = datetime.fromisoformat("2026-12-01T10:30+08:00")


@pytest.fixture
def env(postgres_url: str, redis_server_url: str, tmp_path: Path) -> dict[str, str]:
    """A liaison process's environment: the test's database and Redis, a home of its own."""
    return liaison_env(
        LIAISON_DATABASE_URL=postgres_url,
        LIAISON_REDIS_URL=redis_server_url,
        LIAISON_HOME=str(tmp_path / "var"),
        LIAISON_LOG_LEVEL="INFO",
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; each is stopped (SIGTERM, then SIGKILL) at the end."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        stop(process, timeout_s=20)


def worker_args(*extra: str) -> list[str]:
    """`liaison worker` as a deployment runs it (one process here, to spare the machine)."""
    return [LIAISON, "worker", "--processes", "1", "--threads", "4", *extra]


def sms_digests(engine: Engine) -> list[Notification]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Notification)
                .where(Notification.kind == "liaison_digest", Notification.channel == "sms")
                .order_by(Notification.id)
            )
        )


def rules_by_member(digest: Notification) -> dict[str, set[str]]:
    rules: dict[str, set[str]] = {}
    for task in digest.data["tasks"]:
        rules.setdefault(task["member_id"], set()).add(task["rule"])
    return rules


def outbox_text(home: Path, notification_id: int) -> str:
    files = list((home / "outbox" / "sms").glob(f"*-n{notification_id}-*.txt"))
    assert len(files) == 1, files
    return files[0].read_text(encoding="utf-8")


def test_a_worker_sends_digests_as_they_stand_at_send_time_and_cancels_an_emptied_one(
    pg_engine: Engine,
    env: dict[str, str],
    processes: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    load_synthetic(pg_engine, tmp_path / "ledger", members=600, as_of=DIGEST_DAY)
    clock = tmp_path / "clock"
    FileClock.write(clock, PLANNED_AT)
    env = {**env, "LIAISON_CLOCK_FILE": str(clock)}
    run_liaison(["run", "--as-of", "2026-12-01T10:00"], env)
    digests = sms_digests(pg_engine)
    assert digests and all(n.status == "queued" for n in digests)

    # One liaison's digest loses one member's tasks; another's loses its only task.
    kept, done_member = next(
        (n, member)
        for n in digests
        if len(rules := rules_by_member(n)) > 1
        for member, theirs in rules.items()
        if theirs <= FINISHED_BY_A_HOME_VISIT
    )
    emptied = next(
        n
        for n in digests
        if len(rules := rules_by_member(n)) == 1
        and next(iter(rules.values())) <= FINISHED_BY_A_HOME_VISIT
        and n.recipient_id != kept.recipient_id
    )
    emptied_member = emptied.data["tasks"][0]["member_id"]
    for member in (done_member, emptied_member):
        run_liaison(
            ["record", "interactions", "--member", member, "--on", "2026-12-01",
             "--kind", "visit", "--place", "home"],
            env,
        )  # fmt: skip
    left = list(compute_due(pg_engine, DueQuery(DIGEST_DAY, liaison_id=kept.recipient_id)))
    assert not list(compute_due(pg_engine, DueQuery(DIGEST_DAY, liaison_id=emptied.recipient_id)))
    assert done_member not in {t.member_id for t in left}

    # Half an hour later, the worker: only the production command, nothing wired by hand.
    FileClock.write(clock, SENT_AT)
    processes.append(start(worker_args(), env, tmp_path / "worker.log"))
    assert wait_until(lambda: unsent(pg_engine) == 0, 180), (tmp_path / "worker.log").read_text()

    with Session(pg_engine) as session:
        sent = session.get(Notification, kept.id)
        cancelled = session.get(Notification, emptied.id)
        assert sent is not None and cancelled is not None
        assert sent.status == "sent"
        assert cancelled.status == "cancelled"
        reasons = session.scalars(
            select(NotificationEvent.detail).where(
                NotificationEvent.notification_id == emptied.id,
                NotificationEvent.status == "cancelled",
            )
        ).all()
    assert reasons == ["nothing left to send"]
    body = outbox_text(Path(env["LIAISON_HOME"]), kept.id)
    names = {t["member_id"]: t["member_name"] for t in kept.data["tasks"]}
    assert names[done_member] not in body
    assert len(left) >= 2
    for task in left[:2]:
        assert task.member_name in body


def _planned(engine: Engine) -> set[tuple[Any, ...]]:
    """What was planned, as a comparable set: everything but ids, times and status."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT idempotency_key, kind, channel, recipient_type, recipient_id,"
                " address, locale, occasion, data FROM notifications"
            )
        ).all()
    return {(*r[:-1], json.dumps(r[-1], sort_keys=True)) for r in rows}


def test_a_distributed_scheduler_with_two_workers_plans_exactly_what_inline_planning_plans(
    pg_engine: Engine,
    env: dict[str, str],
    redis_server_url: str,
    processes: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    with own_database(POSTGRES_URL, f"liaison_e2e_inline_{id(tmp_path)}") as reference_url:
        reference = make_engine(reference_url)
        try:
            upgrade(reference)
            seed_message_rules(reference)
            for engine in (pg_engine, reference):
                load_synthetic(engine, tmp_path / "ledger", members=800, as_of=DIGEST_DAY)
            run_liaison(
                ["run", "--as-of", "2026-12-01T10:00"],
                {**env, "LIAISON_DATABASE_URL": reference_url},
            )
            inline = _planned(reference)
        finally:
            reference.dispose()
    assert len(inline) > 100
    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()  # the inline run's messages: no worker of this test is to send them

    # Planning workers only: a worker that also sent would rightly add the send day
    # (`today`) to a greeting's data at send time, and this test compares what was planned.
    # Before, it passed only when the run fell in Beijing's quiet hours (nothing sent).
    for i in range(2):
        processes.append(
            start(worker_args("--queues", "planning"), env, tmp_path / f"worker-{i}.log")
        )
    scheduler = start(
        [LIAISON, "scheduler", "--distribute", "--shard-depth", "1", "--tick-seconds", "1",
         "--max-ticks", "1", "--clock-start", "2026-12-01T10:00"],
        env,
        tmp_path / "scheduler.log",
    )  # fmt: skip
    processes.append(scheduler)
    assert scheduler.wait(300) == 0
    log = (tmp_path / "scheduler.log").read_text()
    assert client.get(LAST_TICK_KEY) is not None, log
    assert "tick failed" not in log
    assert _planned(pg_engine) == inline


def test_a_scheduler_waiting_for_shards_stops_on_sigterm_and_leaves_its_lease_to_a_standby(
    pg_engine: Engine,
    env: dict[str, str],
    redis_server_url: str,
    processes: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    load_synthetic(pg_engine, tmp_path / "ledger", members=300, as_of=DIGEST_DAY)
    client = redis.Redis.from_url(redis_server_url)
    tick_s = 3.0
    # No worker runs: the shard jobs wait in Redis; each tick gives up after 2 s.
    args = [LIAISON, "scheduler", "--distribute", "--shard-depth", "1",
            "--tick-seconds", str(tick_s), "--clock-start", "2026-12-01T10:00"]  # fmt: skip
    env = {**env, "LIAISON_PLANNING_TIMEOUT_S": "2"}
    first = start(args, env, tmp_path / "first.log")
    processes.append(first)
    assert wait_until(lambda: client.get(LEASE_KEY) is not None, 60, 0.1)
    holder = client.get(LEASE_KEY)
    standby = start(args, env, tmp_path / "standby.log")
    processes.append(standby)
    jobs = "liaison:planning"
    assert wait_until(lambda: client.get(PENDING_RUN_KEY) is not None, 60, 0.1)
    shards = len(json.loads(client.get(PENDING_RUN_KEY) or "{}")["labels"])
    assert shards > 1

    # A timed-out tick is counted, shown by `liaison status`, and retried without a
    # second set of jobs.
    assert wait_until(lambda: int(client.get(PLANNING_TIMEOUTS_KEY) or 0) >= 2, 60, 0.2)
    assert int(client.llen(jobs)) == shards
    assert "规划超时" in run_liaison(["status"], env)  # Chinese first
    assert "planning timeouts" in run_liaison(["status", "--lang", "en"], env)

    assert "standing by" in (tmp_path / "standby.log").read_text()
    signalled = time.monotonic()
    first.send_signal(signal.SIGTERM)
    first.wait(2 * tick_s + 5)
    assert time.monotonic() - signalled <= 2 * tick_s
    assert first.returncode == 0
    assert wait_until(lambda: client.get(LEASE_KEY) not in (None, holder), 3 * tick_s, 0.1), (
        tmp_path / "standby.log"
    ).read_text()
    assert wait_until(
        lambda: "waiting again" in (tmp_path / "standby.log").read_text(), 3 * tick_s, 0.2
    )
    assert int(client.llen(jobs)) == shards


def test_liaison_serve_sends_its_alerts_to_the_ops_wecom_robot(
    pg_engine: Engine,
    env: dict[str, str],
    redis_server_url: str,
    processes: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    # No scheduler has ever ticked and no incident is known: the "scheduler" alert is a
    # new incident at the first check.
    redis.Redis.from_url(redis_server_url).flushdb()
    with WeComTestServer() as wecom:
        env = {
            **env,
            "LIAISON_OPS_WECOM_WEBHOOK": wecom.robot_url,
            "LIAISON_ALERT_CHECK_S": "1",
        }
        processes.append(
            start(
                [LIAISON, "serve", "--host", "127.0.0.1", "--port", str(free_port())],
                env,
                tmp_path / "serve.log",
            )
        )
        assert wait_until(lambda: bool(wecom.robot_posts()), 60, 0.2), (
            tmp_path / "serve.log"
        ).read_text()
        posted = json.dumps(wecom.robot_posts()[0].body, ensure_ascii=False)
    assert "scheduler" in posted
