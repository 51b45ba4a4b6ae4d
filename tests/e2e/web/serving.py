"""A real `liaison serve` (or worker) for the end-to-end web tests: one way to start it on
a free port, wait until it answers and stop it, whatever the test does in between.

Output goes to a log file, not a pipe: a server that logs more than a pipe holds would
block on its next write, and the log's tail is what a failure to start reports.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import require_server

ROOT = Path(__file__).resolve().parents[3]
LIAISON = str(Path(sys.executable).with_name("liaison"))
START_TIMEOUT_S = 30.0  #: a cold start on a busy two-core machine takes a few seconds
STOP_TIMEOUT_S = 20.0  #: then the whole process group is killed
POLL_S = 0.2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_process(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `args` in a session of its own (so that its children are stopped with it),
    its output appended to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL to its whole group if it has not ended in STOP_TIMEOUT_S."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass(frozen=True)
class Serving:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def liaison_serve(
    env: dict[str, str], log: Path, *, port: int, start_timeout_s: float = START_TIMEOUT_S
) -> Iterator[Serving]:
    """`liaison serve` on 127.0.0.1:`port` (the caller picks it, as settings may name it),
    yielded once it accepts connections; stopped on the way out. A server that exits or
    does not answer in time skips the test (fails it in CI) with its log's tail."""
    process = start_process(
        [LIAISON, "serve", "--host", "127.0.0.1", "--port", str(port)], env, log
    )
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
                    require_server("liaison serve", tail or "did not start")
                time.sleep(POLL_S)
        yield Serving(port, process)
    finally:
        stop_process(process)
