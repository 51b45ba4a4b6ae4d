"""The loopback Twilio server in a process of its own, for the benchmarks.

In the benchmark's own process the server's threads shared the worker's GIL: every
answer it wrote was time the worker could not spend, which charged the provider's side
to the notifier. Here it runs apart and is driven over a pipe, one command a line:

    count   -> the number of requests Twilio accepted (201)
    stamps  -> their arrival times (time.monotonic(), the same clock in every process
               on Linux) as a JSON list
    reset   -> forget every request
    quit    -> stop

    python benchmarks/loopback_providers.py [threaded|asyncio]   # prints the base URL first

Two servers answer the same Message resource (`TwilioTestServer.message_resource`):
`threaded`, the tests' `TwilioTestServer` (http.server, a thread per connection, with
its scripted failures), and `asyncio`, one event loop with httptools parsing, which
answers every well-authenticated create with 201 and nothing else. The notifier
benchmark uses `asyncio`: on two cores the threaded server took a third of a core
(about 350 µs of CPU a request) from the machine the worker runs on, which real Twilio
never does; the worker's own code is the same either way.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import subprocess
import sys
import threading
import time
from types import TracebackType
from urllib.parse import parse_qsl

import httptools

from services.notifier.testing.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TwilioTestServer,
)

SERVERS = ("threaded", "asyncio")


class LoopbackTwilio:
    """The client side: start the server process, ask it what it saw."""

    def __init__(self, server: str = "threaded") -> None:
        if server not in SERVERS:
            raise ValueError(f"server: one of {SERVERS}")
        self.process = subprocess.Popen(
            [sys.executable, __file__, server],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.base_url = self._line()

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the loopback Twilio process ended")
        return line.strip()

    def _ask(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._line()

    def count(self) -> int:
        return int(self._ask("count"))

    def stamps(self) -> list[float]:
        return [float(s) for s in json.loads(self._ask("stamps"))]

    def reset(self) -> None:
        self._ask("reset")

    def close(self) -> None:
        if self.process.poll() is None:
            self._ask("quit")
            self.process.wait(10)

    def __enter__(self) -> LoopbackTwilio:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _LeanTwilio(asyncio.Protocol):
    """One connection to the asyncio server: requests parsed by httptools, answered in
    order, kept alive."""

    AUTHORIZATION = b"Basic " + base64.b64encode(f"{TEST_ACCOUNT_SID}:{TEST_AUTH_TOKEN}".encode())
    PATH = f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json".encode()

    def __init__(self, resources: TwilioTestServer, stamps: list[float]) -> None:
        self.resources = resources
        self.stamps = stamps
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.authorization = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"authorization":
            self.authorization = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        if self.authorization != self.AUTHORIZATION or self.url != self.PATH:
            status, payload = b"401 Unauthorized", {"code": 20003, "status": 401}
        else:
            self.stamps.append(time.monotonic())
            form = dict(parse_qsl(b"".join(self.body).decode()))
            status, payload = b"201 Created", self.resources.message_resource(form)
        body = json.dumps(payload).encode()
        self.transport.write(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body
        )  # fmt: skip
        keep_alive = self.parser.should_keep_alive()
        self._reset()
        if not keep_alive:
            self.transport.close()


class _AsyncioTwilio:
    """The asyncio server, on a loop in a thread of its own."""

    def __init__(self) -> None:
        self._stamps: list[float] = []
        self.resources = TwilioTestServer()  # only for the answers' shape: never started
        self.loop = asyncio.new_event_loop()
        server = self.loop.run_until_complete(
            self.loop.create_server(
                lambda: _LeanTwilio(self.resources, self._stamps), "127.0.0.1", 0
            )
        )
        self.base_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def stamps(self) -> list[float]:
        return list(self._stamps)

    def reset(self) -> None:
        self._stamps.clear()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


class _ThreadedTwilio:
    """The tests' `TwilioTestServer`, seen the same way."""

    def __init__(self) -> None:
        self.server = TwilioTestServer().start()
        self.base_url = self.server.base_url

    def stamps(self) -> list[float]:
        return [r.at for r in self.server.sent()]

    def reset(self) -> None:
        self.server.reset()

    def stop(self) -> None:
        self.server.stop()


def serve(kind: str) -> None:
    server = _AsyncioTwilio() if kind == "asyncio" else _ThreadedTwilio()
    print(server.base_url, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "count":
            print(len(server.stamps()), flush=True)
        elif command == "stamps":
            print(json.dumps(server.stamps()), flush=True)
        elif command == "reset":
            server.reset()
            print("ok", flush=True)
        elif command == "quit":
            print("bye", flush=True)
            break
    server.stop()


if __name__ == "__main__":
    serve(sys.argv[1] if len(sys.argv) > 1 else "threaded")
