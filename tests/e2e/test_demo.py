"""`liaison demo` from a fresh state: embedded SQLite and Redis, the outbox-file sender."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.redis_server import stop_embedded_redis

pytestmark = [pytest.mark.slow]


@pytest.fixture
def fresh_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "var"
    yield home
    stop_embedded_redis(home / "redis")


def test_the_demo_ends_with_its_summary_and_the_outbox_files_present(fresh_home: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIAISON_", "TWILIO_"))  # nothing but the embedded defaults
    }
    env["LIAISON_HOME"] = str(fresh_home)
    done = subprocess.run(
        [sys.executable, "-c", "from services.cli import main; main()", "demo", "--members", "400"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "liaison demo: summary" in out
    assert "tasks due by rule:" in out and "quarterly_visit" in out
    assert "liaison_digest" in out and "sent" in out
    assert out.count("  ┌") == 2  # two sample SMS bodies
    assert str((fresh_home / "outbox").resolve()) in out
    sms = list((fresh_home / "outbox" / "sms").glob("*.txt"))
    assert sms and (fresh_home / "liaison.sqlite3").exists()
    assert "+86" not in out  # addresses are never printed
