"""The systemd layout, run for real: the units' own commands as processes, as the runbook
starts them, on PostgreSQL and Redis, sending through the loopback Twilio and SMTP servers.

No systemd runs here, so the test does what the units say: the environment file is
`deploy/.env.example` with this machine's addresses and the loopback servers filled in,
`liaison-migrate` runs once, then the scheduler, two `liaison-worker@` instances and the
web service start from their `ExecStart` lines (the binary's path swapped for this
checkout's). A ledger is imported and one reminder run planned as the runbook's first
look does; every notification must then be delivered by the workers.
"""

from __future__ import annotations

import csv
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from services.notifier.testing.smtp_server import SmtpTestServer
from services.notifier.testing.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TwilioTestServer,
)
from shared.db import make_engine
from tests.conftest import POSTGRES_URL, require_server
from tests.deploy.layout import env_example_values, exec_start_args
from tests.drills.outcomes import statuses
from tests.drills.processes import (
    LIAISON,
    OwnRedis,
    daytime_zone,
    free_port,
    liaison_env,
    own_database,
    run_liaison,
    start,
    stop,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

MEMBERS = 300
#: a Monday: every liaison with open tasks gets a digest at 09:00 local
AS_OF = datetime(2026, 11, 30, 10, 0)
UNFINISHED = ("pending", "queued", "sending", "deferred")


@dataclass
class Installation:
    env: dict[str, str]
    engine: Engine
    twilio: TwilioTestServer
    smtp: SmtpTestServer
    web_port: int
    logs: Path


def environment_file(
    database_url: str, redis_url: str, home: Path, twilio: TwilioTestServer, smtp: SmtpTestServer
) -> dict[str, str]:
    """`.env.example` as an operator fills it in, pointed at this machine."""
    values = env_example_values()
    values.update(
        LIAISON_HOME=str(home),
        LIAISON_DATABASE_URL=database_url,
        LIAISON_REDIS_URL=redis_url,
        TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
        TWILIO_STATUS_CALLBACK_URL="",
        LIAISON_TWILIO_BASE_URL=twilio.base_url,
        LIAISON_SMTP_HOST=smtp.host,
        LIAISON_SMTP_PORT=str(smtp.port),
        LIAISON_SMTP_USERNAME="",
        LIAISON_SMTP_PASSWORD="",
        LIAISON_SMTP_SECURITY="none",
        LIAISON_OPS_EMAIL="",
        # Nothing leaves this machine: no WeCom robot, SMS through the loopback Twilio.
        LIAISON_OPS_WECOM_WEBHOOK="",
        LIAISON_SMS_PROVIDER="twilio",
        LIAISON_PUBLIC_URL="",
        LIAISON_COOKIE_SECURE="false",
        # A quick run: pacing is the production default's business, not this test's.
        LIAISON_SMS_RATE_PER_S="200",
        LIAISON_EMAIL_RATE_PER_S="200",
    )
    return liaison_env(**values)


def unit_command(name: str, **replace: str) -> list[str]:
    """A unit's ExecStart with this checkout's binary and the given option values."""
    args = exec_start_args(name)
    for option, value in replace.items():
        args[args.index(option) + 1] = value
    return [LIAISON, *args]


def ledger_in(directory: Path, zone: str) -> list[Path]:
    """A synthetic ledger whose organizations live in `zone`, one where it is now daytime,
    so that the workers' quiet hours (real clock) do not hold the run until morning."""
    run_liaison(
        ["demo-data", "--members", str(MEMBERS), "--out", str(directory), "--as-of", "2026-11-30"],
        liaison_env(),
    )
    orgs = directory / "organizations.csv"
    with orgs.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    with orgs.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "timezone": zone})
    return sorted(directory.glob("*.csv"))


def get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


@pytest.fixture
def installation(tmp_path: Path) -> Iterator[Installation]:
    name = f"liaison_systemd_{int(time.time() * 1000) % 10**9}"
    try:
        database = own_database(POSTGRES_URL, name)
        url = database.__enter__()
    except OperationalError as exc:
        require_server("PostgreSQL", str(exc).splitlines()[0])
    redis = OwnRedis(tmp_path / "redis").start()
    engine = make_engine(url)
    try:
        with TwilioTestServer() as twilio, SmtpTestServer() as smtp:
            env = environment_file(url, redis.url, tmp_path / "home", twilio, smtp)
            yield Installation(env, engine, twilio, smtp, free_port(), tmp_path)
    finally:
        engine.dispose()
        redis.stop()
        database.__exit__(None, None, None)


def test_the_units_commands_bring_up_scheduler_workers_and_web_and_a_run_is_delivered(
    installation: Installation,
) -> None:
    inst = installation
    # liaison-migrate.service: a oneshot the others require.
    migrate = subprocess.run(
        unit_command("liaison-migrate.service"),
        env=inst.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    services = [
        start(unit_command("liaison-scheduler.service"), inst.env, inst.logs / "scheduler.log"),
        start(unit_command("liaison-worker@.service"), inst.env, inst.logs / "worker-1.log"),
        start(unit_command("liaison-worker@.service"), inst.env, inst.logs / "worker-2.log"),
        start(
            unit_command("liaison-web.service", **{"--port": str(inst.web_port)}),
            inst.env,
            inst.logs / "web.log",
        ),
    ]
    try:
        assert wait_until(lambda: get(inst.web_port, "/healthz") == 200, 60), "web never came up"
        # The runbook's step 5: data, then a first reminder run.
        zone = daytime_zone()
        run_liaison(["import", *map(str, ledger_in(inst.logs / "ledger", zone))], inst.env, 300)
        as_of = AS_OF.replace(tzinfo=ZoneInfo(zone)).isoformat()
        planned = run_liaison(["run", "--as-of", as_of], inst.env, 300)
        assert "liaison_digest" in planned, planned
        assert wait_until(
            lambda: not any(statuses(inst.engine).get(s, 0) for s in UNFINISHED), 240, 1.0
        ), statuses(inst.engine)
        assert all(p.poll() is None for p in services), "a service died"
        # The scheduler ticked under its lease, which /readyz reports with the database
        # and Redis.
        assert wait_until(lambda: get(inst.web_port, "/readyz") == 200, 60)
    finally:
        for process in services:
            stop(process)
    final = statuses(inst.engine)
    total = sum(final.values())
    assert total > 0
    assert final.get("sent", 0) + final.get("delivered", 0) == total, final
    with inst.engine.connect() as conn:
        sms = conn.scalar(text("SELECT count(*) FROM notifications WHERE channel = 'sms'"))
        email = conn.scalar(text("SELECT count(*) FROM notifications WHERE channel = 'email'"))
    assert len(inst.twilio.sent()) == sms and sms
    assert len(inst.smtp.messages) == email
