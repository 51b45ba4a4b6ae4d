"""The loopback Twilio server in a process of its own, for the benchmarks.

In the benchmark's own process the server's threads shared the worker's GIL: every
answer it wrote was time the worker could not spend, which charged the provider's side
to the notifier. Here it runs apart and is driven over a pipe, one command a line:

    count   -> the number of requests Twilio accepted (201)
    stamps  -> their arrival times (time.monotonic(), the same clock in every process
               on Linux) as a JSON list
    reset   -> forget every request
    quit    -> stop

    python benchmarks/loopback_providers.py   # prints the base URL first
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import TracebackType

from services.notifier.testing.twilio_server import TwilioTestServer


class LoopbackTwilio:
    """The client side: start the server process, ask it what it saw."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__],
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


def serve() -> None:
    server = TwilioTestServer().start()
    print(server.base_url, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "count":
            print(len(server.sent()), flush=True)
        elif command == "stamps":
            print(json.dumps([r.at for r in server.sent()]), flush=True)
        elif command == "reset":
            server.reset()
            print("ok", flush=True)
        elif command == "quit":
            print("bye", flush=True)
            break
    server.stop()


if __name__ == "__main__":
    serve()
