"""Two `liaison scheduler` processes on one Redis and one database act as one."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from shared.models import Notification
from tests.integration.planner.ledger import load_synthetic

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

#: six simulated hours from Monday 30 November 2026 08:00 local, one per tick
ARGS = [
    "scheduler",
    "--tick-seconds", "0.2",
    "--max-ticks", "6",
    "--clock-start", "2026-11-30T08:00",
    "--clock-step-s", "3600",
]  # fmt: skip


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-c", "from services.cli import main; main()", *ARGS],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )


def count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Notification)) or 0)


def test_two_schedulers_started_together_produce_exactly_the_notifications_of_one(
    pg_engine: Engine,
    postgres_url: str,
    redis_server_url: str,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    load_synthetic(pg_engine, tmp_path / "ledger", members=500, as_of=date(2026, 11, 30))
    env = {
        **os.environ,
        "LIAISON_DATABASE_URL": postgres_url,
        "LIAISON_REDIS_URL": redis_server_url,
        "LIAISON_HOME": str(tmp_path / "var"),
    }
    pair = [start(env, tmp_path / f"pair-{i}.log") for i in range(2)]
    for p in pair:
        assert p.wait(timeout=300) == 0
    logs = "".join((tmp_path / f"pair-{i}.log").read_text() for i in range(2))
    two = count(pg_engine)

    with pg_engine.begin() as conn:
        conn.execute(text("TRUNCATE notifications, notification_events, planning_marks CASCADE"))
    redis_client.flushdb()
    one_process = start(env, tmp_path / "one.log")
    assert one_process.wait(timeout=300) == 0
    one = count(pg_engine)

    assert one > 0 and two == one
    assert "standing by" in logs  # the second replica waited for the lease
