"""`liaison demo` from a fresh state: embedded SQLite and Redis, the outbox-file sender."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.notifier.testing.aliyun_server import (
    TEST_ACCESS_KEY_ID,
    TEST_ACCESS_KEY_SECRET,
    AliyunSmsTestServer,
)
from shared.redis_server import stop_embedded_redis

pytestmark = [pytest.mark.slow]


@pytest.fixture
def fresh_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "var"
    yield home
    stop_embedded_redis(home / "redis")


def bare_environment(home: Path) -> dict[str, str]:
    """The environment with nothing of ours in it but the home: the embedded defaults."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIAISON_", "TWILIO_", "ALIBABA_CLOUD_"))
    }
    env["LIAISON_HOME"] = str(home)
    return env


def run_demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from services.cli import main; main()", "demo", "--members", "400"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_demo_ends_with_its_summary_and_the_outbox_files_present(fresh_home: Path) -> None:
    done = run_demo(bare_environment(fresh_home))
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


def test_the_demo_sends_through_alibaba_cloud_sms_and_its_summary_counts_what_the_provider_took(
    fresh_home: Path,
) -> None:
    # The loopback fake approves every template code, as an account with its templates
    # approved would; the demo plans at its rehearsal instant because every provider it
    # talks to is on loopback (at night, the real clock would hold everything for quiet hours).
    with AliyunSmsTestServer(any_template=True) as aliyun:
        env = bare_environment(fresh_home) | {
            "LIAISON_SMS_PROVIDER": "aliyun",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": TEST_ACCESS_KEY_SECRET,
            "LIAISON_ALIYUN_ENDPOINT": f"http://{aliyun.endpoint}",
            "LIAISON_ALIYUN_SIGN_NAME": "流动党员联络",
            "LIAISON_ALIYUN_TEMPLATE_CODES": (
                "liaison_digest=SMS_1,event_reminder=SMS_2,"
                "political_birthday=SMS_3,branch_escalation=SMS_4"
            ),
        }
        done = run_demo(env)
        accepted = len(aliyun.sent())
    assert done.returncode == 0, done.stderr[-2000:]
    assert accepted > 0
    out = done.stdout
    assert "provider calls by provider and outcome:" in out
    line = next(ln for ln in out.splitlines() if ln.split()[:2] == ["aliyun", "sent"])
    assert int(line.split()[-1]) == accepted
    assert not list((fresh_home / "outbox" / "sms").glob("*.txt"))  # SMS went to the provider
    assert "+86" not in out and "1380" not in out  # addresses are never printed


def test_the_demo_on_a_terminal_draws_its_import_and_its_sending_as_bars(
    fresh_home: Path,
) -> None:
    import re

    from tests.e2e.test_import_progress import _ANSI, _run_on_a_terminal

    env = {**bare_environment(fresh_home), "COLUMNS": "120", "TERM": "xterm"}
    args = [sys.executable, "-c", "from services.cli import main; main()", "demo"]
    code, shown = _run_on_a_terminal([*args, "--members", "400"], env)
    frames = _ANSI.sub("", shown).replace("\r\n", "\n").replace("\r", "\n")
    assert code == 0, frames[-2000:]
    assert "━" in frames  # a bar, not a bare counter
    [enqueued] = re.findall(r"draining (\d+) message", frames)
    # the sending bar's count moves to the messages planned (the worker's messages that
    # reached an end: sent, failed, cancelled...)
    sent = [int(n) for n in re.findall(r"sending\s+━+\s+([\d,]+) ", frames)]
    assert sent and sent[-1] == int(enqueued) > 0, frames[-3000:]
    imported = re.findall(r"members\.csv\s+━+\s+([\d,]+) rows", frames)
    assert imported and imported[-1] == "400", frames[-3000:]
