"""A Twilio-compatible Messages API on loopback, for tests, benchmarks and fault drills.

It answers `POST /2010-04-01/Accounts/{sid}/Messages.json` as Twilio does: 201 with a
message resource, or an error body `{"code", "message", "more_info", "status"}`. Behaviour
is scripted per request (`fail_next`), per destination number (`fail_for`), for a random
share of requests over a time window (`fail_randomly`, seeded, for the fault drills) or
for all (`delay_s`), and every request is recorded. The real twilio SDK talks to it
unchanged.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

TEST_ACCOUNT_SID = "AC" + "0" * 32
TEST_AUTH_TOKEN = "test-auth-token"  # noqa: S105 - a loopback test server's own token

#: the messages Twilio gives for the codes tests script most
ERROR_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


@dataclass(frozen=True)
class Behaviour:
    """How to answer one request: an HTTP status with a Twilio error code, after a delay."""

    status: int = 201
    code: int | None = None
    message: str | None = None
    retry_after_s: int | None = None
    delay_s: float = 0.0


@dataclass
class _RandomFaults:
    """A share of requests refused, drawn from a seeded generator, for a while."""

    rate_429: float
    rate_500: float
    retry_after_s: int | None
    for_s: float | None
    rng: random.Random
    ends_at: float | None = None  #: time.monotonic(); set by the first request drawn

    def draw(self, now: float) -> Behaviour | None:
        """The fault for a request arriving at `now`, or None to answer it as usual."""
        if self.for_s is not None:
            if self.ends_at is None:
                self.ends_at = now + self.for_s
            if now >= self.ends_at:
                return None
        roll = self.rng.random()
        if roll < self.rate_429:
            return Behaviour(status=429, code=20429, retry_after_s=self.retry_after_s)
        if roll < self.rate_429 + self.rate_500:
            return Behaviour(status=500, code=20500)
        return None


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    form: dict[str, str]
    at: float  #: time.monotonic() when it arrived
    answered: int  #: the HTTP status returned


@dataclass
class TwilioTestServer:
    """Start with `with TwilioTestServer() as twilio:`; point senders at `twilio.base_url`."""

    account_sid: str = TEST_ACCOUNT_SID
    auth_token: str = TEST_AUTH_TOKEN
    host: str = "127.0.0.1"
    delay_s: float = 0.0  #: added before every answer (a slow provider)
    requests: list[RecordedRequest] = field(default_factory=list)
    _script: deque[Behaviour] = field(default_factory=deque)
    _per_number: dict[str, Behaviour] = field(default_factory=dict)
    _random: _RandomFaults | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # -- scripting ---------------------------------------------------------------------
    def fail_next(self, count: int = 1, **behaviour: Any) -> None:
        """Answer the next `count` requests with `Behaviour(**behaviour)`."""
        with self._lock:
            self._script.extend(Behaviour(**behaviour) for _ in range(count))

    def fail_for(self, number: str, **behaviour: Any) -> None:
        """Answer every request to `number` with `Behaviour(**behaviour)`."""
        with self._lock:
            self._per_number[number] = Behaviour(**behaviour)

    def fail_randomly(
        self,
        *,
        rate_429: float = 0.0,
        rate_500: float = 0.0,
        seed: int = 0,
        retry_after_s: int | None = 1,
        for_s: float | None = None,
    ) -> None:
        """Refuse a random share of requests, as a provider under strain does.

        Each request draws once from `random.Random(seed)`: with probability `rate_429`
        it is answered 429 (Twilio 20429, `Retry-After: retry_after_s` unless None),
        with probability `rate_500` 500 (Twilio 20500), otherwise as it would be without
        this. With `for_s`, the faults end `for_s` seconds after the first request that
        draws, so a client's start-up time does not shorten the outage; without it they
        last until `stop_failing` or `reset`. `fail_next` scripts still come first.
        The sequence of answers is fixed by the seed; which request gets which is up to
        the order the clients' requests arrive in.
        """
        if rate_429 < 0 or rate_500 < 0 or rate_429 + rate_500 > 1:
            raise ValueError("rates must be non-negative and add up to at most 1")
        with self._lock:
            # Reproducible faults, not secrets: a seeded generator is the point.
            rng = random.Random(seed)  # noqa: S311
            self._random = _RandomFaults(rate_429, rate_500, retry_after_s, for_s, rng)

    def stop_failing(self) -> None:
        """End `fail_randomly`'s faults now."""
        with self._lock:
            self._random = None

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self._per_number.clear()
            self._random = None
            self.requests.clear()
            self.delay_s = 0.0

    def sent(self) -> list[RecordedRequest]:
        """The requests answered with success: the messages the provider accepted."""
        with self._lock:
            return [r for r in self.requests if r.answered == 201]

    def refused(self) -> list[RecordedRequest]:
        """The requests answered with an error: nothing was accepted for them."""
        with self._lock:
            return [r for r in self.requests if r.answered != 201]

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "the server is not started"
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> TwilioTestServer:
        server = _Server((self.host, 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> TwilioTestServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- answering ---------------------------------------------------------------------
    def _behaviour_for(self, to: str) -> Behaviour:
        with self._lock:
            if self._script:
                return self._script.popleft()
            if self._random is not None:
                fault = self._random.draw(time.monotonic())
                if fault is not None:
                    return fault
            return self._per_number.get(to, Behaviour())

    def _answer(
        self, path: str, form: dict[str, str], authorized: bool
    ) -> tuple[int, dict[str, str], bytes]:
        expected = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if not authorized:
            behaviour = Behaviour(status=401, code=20003)
        elif path != expected:
            behaviour = Behaviour(
                status=404, code=20404, message="The requested resource was not found"
            )
        else:
            behaviour = self._behaviour_for(form.get("To", ""))
        delay = self.delay_s + behaviour.delay_s
        if delay:
            time.sleep(delay)
        with self._lock:
            self.requests.append(RecordedRequest(path, form, time.monotonic(), behaviour.status))
        headers = {"Content-Type": "application/json"}
        if behaviour.status == 201:
            return 201, headers, json.dumps(self.message_resource(form)).encode()
        if behaviour.retry_after_s is not None:
            headers["Retry-After"] = str(behaviour.retry_after_s)
        code = behaviour.code
        body = {
            "code": code,
            "message": behaviour.message or ERROR_MESSAGES.get(code or 0, "Error"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": behaviour.status,
        }
        return behaviour.status, headers, json.dumps(body).encode()

    def message_resource(self, form: dict[str, str]) -> dict[str, Any]:
        """The Message resource Twilio answers a create with (201)."""
        sid = "SM" + uuid.uuid4().hex
        now = formatdate(usegmt=True)
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": form.get("To"),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) overflows when a worker's threads all open their
    # keep-alive connection at once: the kernel drops the SYN and the client waits a
    # second (then three) to try again, which the benchmark counted as provider time.
    request_queue_size = 128


def _handler_for(server: TwilioTestServer) -> type[BaseHTTPRequestHandler]:
    expected_auth = (
        "Basic " + base64.b64encode(f"{server.account_sid}:{server.auth_token}".encode()).decode()
    )

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer on loopback.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8")
            form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            authorized = self.headers.get("Authorization") == expected_auth
            status, headers, body = server._answer(self.path.split("?")[0], form, authorized)
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            # Requests carry phone numbers: the server keeps quiet rather than print them.
            return

    return Handler
