"""A real `liaison serve` keeps its memory while a client streams 400 MB at the routes that
take a body without a login: the body is refused at the limit, not read whole first.
Linux only (the peak is read from /proc/<pid>/status)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.web.serving import free_port, liaison_serve

UPLOAD_BYTES = 400 * 1024 * 1024
CHUNK = b"a" * (1024 * 1024)
PEAK_LIMIT_KB = 300 * 1024  #: the issue's budget for the whole process


def _peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/<pid>/status")


@pytest.fixture
def served(tmp_path: Path, redis_server_url: str) -> Iterator[tuple[int, int]]:
    """(port, pid) of `liaison serve` on an empty SQLite ledger."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read the server's peak memory")
    port = free_port()
    env = {
        **os.environ,
        "LIAISON_DATABASE_URL": f"sqlite:///{tmp_path / 'liaison.sqlite3'}",
        "LIAISON_HOME": str(tmp_path / "var"),
        "LIAISON_REDIS_URL": redis_server_url,
        "TWILIO_AUTH_TOKEN": "large-body-token",
        "LIAISON_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    with liaison_serve(env, tmp_path / "serve.log", port=port) as serving:
        yield port, serving.process.pid


def _stream(port: int, path: str, *, declare_length: bool) -> int:
    """POST 400 MB in 1 MiB pieces, stopping when the server answers or hangs up; the status."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "Content-Type: application/x-www-form-urlencoded\r\n"
    head += (
        f"Content-Length: {UPLOAD_BYTES}\r\n"
        if declare_length
        else "Transfer-Encoding: chunked\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall((head + "\r\n").encode())
        piece = CHUNK if declare_length else b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"
        try:
            for _ in range(UPLOAD_BYTES // len(CHUNK)):
                sock.sendall(piece)
            if not declare_length:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: the rest was never read
        answer = sock.recv(4096).decode("latin-1")
    return int(answer.split()[1])


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/webhooks/twilio/inbound", "/login"])
@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_a_400_mb_upload_is_refused_without_the_server_holding_it(
    served: tuple[int, int], path: str, declare_length: bool
) -> None:
    port, pid = served
    assert _stream(port, path, declare_length=declare_length) == 413
    assert _peak_kb(pid) < PEAK_LIMIT_KB
