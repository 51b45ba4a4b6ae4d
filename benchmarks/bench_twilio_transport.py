"""CPU per request of the twilio SDK's HTTP transports, against the loopback Twilio server.

    .venv/bin/python benchmarks/bench_twilio_transport.py [--count 3000] [--threads 16]
        [--runs 3] [--transport NAME ...]

For each transport, `--count` `TwilioSmsSender.send` calls from `--threads` threads, the
loopback Twilio server in a process of its own (benchmarks/loopback_providers.py), so
its CPU is not charged to the client. Prints requests/s and the client process's CPU per
request (`time.process_time()`, all threads): a worker is bound by Python CPU under the
GIL, so CPU per request is the figure that matters; the rate moves with the machine's
load and with the server, which shares the cores.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import logging
import os
import select
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import urllib3
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from services.notifier.senders.base import OutgoingMessage
from services.notifier.senders.twilio_sms import TwilioSmsSender
from services.notifier.senders.twilio_transport import CONNECT_RETRIES, KeepAliveHttpClient
from services.notifier.testing.twilio_server import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

try:
    from benchmarks.loopback_providers import LoopbackTwilio
except ImportError:  # run as a script: benchmarks/ is on sys.path, not its parent
    from loopback_providers import LoopbackTwilio  # type: ignore[no-redef]

TIMEOUT_S = 10.0  #: seconds, as the sender's default


class _Form(HttpClient):  # type: ignore[misc]
    """What every compared transport does alike: the form, the query and Basic auth."""

    def __init__(self, *, timeout_s: float) -> None:
        super().__init__(logging.getLogger("twilio.http_client"), False, timeout_s)

    def prepare(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None,
        data: dict[str, object] | None,
        headers: dict[str, str] | None,
        auth: tuple[str, str] | None,
    ) -> tuple[str, bytes | None, dict[str, str]]:
        wanted = dict(headers or {})
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            wanted["Authorization"] = f"Basic {token}"
        if params:
            url = f"{url}?{urlencode(params, doseq=True)}"
        body = None
        if data is not None and method in ("POST", "PUT"):
            body = urlencode(data, doseq=True).encode("ascii")
            wanted.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return url, body, wanted


def _never_resend() -> urllib3.Retry:
    return urllib3.Retry(
        total=CONNECT_RETRIES,
        connect=CONNECT_RETRIES,
        read=0,
        status=0,
        other=0,
        redirect=0,
        raise_on_status=False,
        respect_retry_after_header=False,
    )


class PoolManagerClient(_Form):
    """Issue 18's transport, as it was: `PoolManager.request` per message."""

    def __init__(self, *, timeout_s: float) -> None:
        super().__init__(timeout_s=timeout_s)
        self.pool = urllib3.PoolManager(maxsize=32, block=False, retries=_never_resend())

    def request(self, method: str, url: str, params: Any = None, data: Any = None,
                headers: Any = None, auth: Any = None, timeout: Any = None,
                allow_redirects: bool = False) -> Response:  # fmt: skip
        url, body, wanted = self.prepare(method, url, params, data, headers, auth)
        answer = self.pool.request(
            method,
            url,
            body=body,
            headers=wanted,
            timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
            redirect=False,
            preload_content=True,
        )
        return Response(answer.status, answer.data.decode("utf-8", "replace"), answer.headers)


class ConnectionPoolClient(_Form):
    """Candidate (a): urllib3 used leaner, one `HTTPConnectionPool` built once, `urlopen`
    with a prebuilt Retry and Timeout, no PoolManager URL parsing or header copies."""

    def __init__(self, *, timeout_s: float) -> None:
        super().__init__(timeout_s=timeout_s)
        self.pools: dict[str, urllib3.HTTPConnectionPool] = {}
        self.retries = _never_resend()
        self.timeouts = urllib3.Timeout(connect=timeout_s, read=timeout_s)

    def request(self, method: str, url: str, params: Any = None, data: Any = None,
                headers: Any = None, auth: Any = None, timeout: Any = None,
                allow_redirects: bool = False) -> Response:  # fmt: skip
        url, body, wanted = self.prepare(method, url, params, data, headers, auth)
        scheme, _, rest = url.partition("://")
        netloc, slash, path = rest.partition("/")
        origin = f"{scheme}://{netloc}"
        pool = self.pools.get(origin)
        if pool is None:
            made = urllib3.connection_from_url(origin, maxsize=32, block=False)
            pool = self.pools.setdefault(origin, made)
        answer = pool.urlopen(
            method,
            slash + path,
            body=body,
            headers=wanted,
            retries=self.retries,
            timeout=self.timeouts,
            redirect=False,
            assert_same_host=False,
            preload_content=True,
        )
        return Response(answer.status, answer.data.decode("utf-8", "replace"), answer.headers)


class HttpClientPool(_Form):
    """Candidate (b): http.client connections in a LIFO per origin, checked before reuse
    (the same pool as the chosen transport; only the wire code differs)."""

    def __init__(self, *, timeout_s: float) -> None:
        super().__init__(timeout_s=timeout_s)
        self.idle: dict[str, deque[http.client.HTTPConnection]] = {}

    def request(self, method: str, url: str, params: Any = None, data: Any = None,
                headers: Any = None, auth: Any = None, timeout: Any = None,
                allow_redirects: bool = False) -> Response:  # fmt: skip
        url, body, wanted = self.prepare(method, url, params, data, headers, auth)
        scheme, _, rest = url.partition("://")
        netloc, slash, path = rest.partition("/")
        idle = self.idle.setdefault(f"{scheme}://{netloc}", deque())
        conn = None
        while idle:
            try:
                conn = idle.pop()
            except IndexError:
                break
            poller = select.poll()
            poller.register(conn.sock, select.POLLIN)
            if not poller.poll(0):
                break
            conn.close()
            conn = None
        if conn is None:
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = kind(netloc, timeout=self.timeout)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            conn.request(method, slash + path, body=body, headers=wanted)
            answer = conn.getresponse()
            content = answer.read()
        except BaseException:
            conn.close()
            raise
        if answer.will_close:
            conn.close()
        else:
            idle.append(conn)
        return Response(answer.status, content.decode("utf-8", "replace"), answer.headers)


class NoWire(_Form):
    """No transport at all: a canned answer. What is left is the SDK's and the sender's
    own CPU, to be subtracted from the others."""

    def request(self, method: str, url: str, params: Any = None, data: Any = None,
                headers: Any = None, auth: Any = None, timeout: Any = None,
                allow_redirects: bool = False) -> Response:  # fmt: skip
        self.prepare(method, url, params, data, headers, auth)
        return Response(201, json.dumps({"sid": "SM" + uuid.uuid4().hex}), {})


TRANSPORTS: dict[str, Callable[[], HttpClient]] = {
    "sdk-requests": lambda: TwilioHttpClient(timeout=TIMEOUT_S),
    "urllib3-poolmanager": lambda: PoolManagerClient(timeout_s=TIMEOUT_S),
    "urllib3-connpool": lambda: ConnectionPoolClient(timeout_s=TIMEOUT_S),
    "http.client": lambda: HttpClientPool(timeout_s=TIMEOUT_S),
    "keepalive": lambda: KeepAliveHttpClient(timeout_s=TIMEOUT_S),
    "no-wire": lambda: NoWire(timeout_s=TIMEOUT_S),
}
#: what each name is, for the printout
WHAT = {
    "sdk-requests": "the SDK's default TwilioHttpClient (requests)",
    "urllib3-poolmanager": "issue 18's transport (urllib3 PoolManager)",
    "urllib3-connpool": "candidate (a): urllib3 HTTPConnectionPool.urlopen",
    "http.client": "candidate (b): http.client in a LIFO pool",
    "keepalive": "the chosen one: sockets + httptools (twilio_transport.py)",
    "no-wire": "no transport: the SDK and sender alone",
}


def run(
    base_url: str, make: Callable[[], HttpClient], count: int, threads: int
) -> tuple[float, float]:
    """Send `count` messages from `threads` threads; (requests/s, CPU µs per request)."""
    sender = TwilioSmsSender(
        account_sid=TEST_ACCOUNT_SID,
        auth_token=TEST_AUTH_TOKEN,
        from_number="+15005550006",
        status_callback_url="https://liaison.example.org/twilio/status",
        base_url=base_url,
        transport=make(),
    )
    # One message per thread first: the connections are opened outside the measure, as
    # a worker's are after its first messages.
    warm = [threading.Thread(target=sender.send, args=(_sms(i),)) for i in range(threads)]
    for t in warm:
        t.start()
    for t in warm:
        t.join()
    numbers = iter(range(count))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def drive() -> None:
        while True:
            with lock:
                i = next(numbers, None)
            if i is None:
                return
            try:
                sender.send(_sms(i))
            except Exception as exc:  # counted and reported below, not hidden
                errors.append(exc)

    workers = [threading.Thread(target=drive) for _ in range(threads)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if errors:
        raise RuntimeError(f"{len(errors)} sends failed, the first: {errors[0]!r}")
    return count / wall, cpu / count * 1e6


def _sms(i: int) -> OutgoingMessage:
    return OutgoingMessage(notification_id=i, channel="sms", to=f"+86138{i:08d}", text="提醒 & =")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transport", action="append", choices=sorted(TRANSPORTS))
    args = parser.parse_args(argv)
    names = args.transport or list(TRANSPORTS)
    for name in names:
        print(f"{name:<20} {WHAT[name]}")
    print(f"load before: {_load()}")
    with LoopbackTwilio() as twilio:
        for round_ in range(1, args.runs + 1):
            for name in names:
                twilio.reset()
                rate, cpu_us = run(twilio.base_url, TRANSPORTS[name], args.count, args.threads)
                accepted = twilio.count()
                expected = args.count + args.threads
                assert name == "no-wire" or accepted == expected, (
                    f"{name}: {accepted} requests, not {expected}"
                )
                print(
                    f"run {round_} {name:<20} {rate:7.0f} req/s {cpu_us:7.0f} µs CPU/request"
                    f"  (load {_load()})",
                    flush=True,
                )
    print(f"load after: {_load()}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
