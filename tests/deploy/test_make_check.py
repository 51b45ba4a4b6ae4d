"""`make test` on a machine without the browser test's system packages stops at once,
naming the exact command that installs them, before it builds anything."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APT_LINE = "sudo apt-get install -y chromium chromium-driver fonts-wqy-zenhei"


def bare_path(tmp_path: Path) -> str:
    """A PATH with make and a shell but no chromium, chromedriver or fc-list."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "sh", "grep"):
        found = shutil.which(tool)
        if found is None:
            pytest.skip(f"{tool} is not installed")
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_make_test_without_chromium_stops_within_seconds_with_the_apt_command(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SKIP_BROWSER"}
    env["PATH"] = bare_path(tmp_path)
    started = time.monotonic()
    done = subprocess.run(
        ["make", "-C", str(ROOT), "test", "VENV=" + str(tmp_path / "venv")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - started < 5
    assert done.returncode != 0
    assert APT_LINE in done.stdout and "SKIP_BROWSER=1 make test" in done.stdout
    assert not (tmp_path / "venv").exists()  # stopped before building anything


def test_skip_browser_lets_the_check_pass_without_chromium(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": bare_path(tmp_path), "SKIP_BROWSER": "1"}
    done = subprocess.run(
        ["make", "-C", str(ROOT), "check-system"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and "skipped" in done.stdout
