"""The twilio SDK's HTTP transport: kept-alive sockets, one write per request, and the
answer read by httptools (llhttp, the parser of Node.js), instead of `requests`.

The SDK builds the request (URL, form, headers, auth) and reads the answer into its
objects and errors; only the wire changes. A worker is bound by Python CPU under the
GIL, and the wire was a third of it. CPU per request with 16 threads, the SDK's own
~60 µs included (docs/benchmarks/notifier.md, issue 22): `requests` ~1,240 µs, a urllib3
PoolManager ~690 µs (its Retry, Timeout, response and header objects, http.client's
header parsing through `email.parser`), http.client alone ~290 µs, this ~190 µs.

What must stay true:
- A request is sent at most once here. It is retried only when it provably never left:
  the TCP (and TLS) connection could not be made. Once any byte of it has been handed
  to the kernel, a failure (a read timeout, a connection dropped before or during the
  answer) fails as a transient error and the delivery retry decides: Twilio may have
  taken the message, and sending it again could send the SMS twice.
- A kept-alive connection the server has closed is the classic trap. A request written
  on it reaches only the server's kernel, which answers with a reset: no program read
  it. But it fails here as a request that Twilio (or the load balancer in front of it,
  which may have passed it on) did read, and then closed or lost the connection before
  answering, fails: written, then silence or a reset. From here the two cannot be told
  apart, and HTTP allows no automatic retry of a POST then (RFC 9110 §9.2.2, RFC 9112
  §9.3.1), so it is not resent. What can be known is checked before writing: an idle
  connection whose close (FIN or RST) has already arrived is readable; it is dropped
  and a new one made, which resends nothing since nothing was written. Only a close
  that crosses our write on the wire gets past that check, and fails as above.
- Connections are taken from and given back to a per-origin LIFO (`deque.pop` and
  `append` are atomic), so a worker's threads share them and no socket is ever used by
  two threads at once; one that fails or is interrupted (dramatiq's time limit raises
  inside the thread) is closed, never given back.
- https verifies the certificate and the host name (`ssl.create_default_context()`).
"""

from __future__ import annotations

import base64
import logging
import select
import socket
import ssl
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httptools
from twilio.http import HttpClient
from twilio.http.response import Response

from shared.errors import TransientDeliveryError

log = logging.getLogger(__name__)

POOL_SIZE = 32  #: idle connections kept per origin: more than a worker's threads
CONNECT_RETRIES = 2  #: new attempts to connect when connecting failed (nothing was sent)
#: bytes asked of the socket per read. An answer is ~1 KB; asking for 64 KB made every
#: read allocate (and shrink) a 64 KB buffer, which showed in the CPU per request.
RECV_BYTES = 8192
DEFAULT_PORTS = {"http": 80, "https": 443}


class ResponseHeaders(dict[str, str]):
    """An answer's headers, names in lower case, looked up in any case."""

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return dict.get(self, key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return dict.__getitem__(self, key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and dict.__contains__(self, key.lower())


class _Answer:
    """httptools' callbacks: collects one answer."""

    __slots__ = ("done", "head_done", "headers", "keep_alive", "parser", "parts")

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers = ResponseHeaders()
        self.parts: list[bytes] = []
        self.head_done = False
        self.done = False
        self.keep_alive = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.head_done = True

    def on_body(self, body: bytes) -> None:
        self.parts.append(body)

    def on_message_complete(self) -> None:
        self.done = True
        # Asked here: once the message is complete the parser no longer knows.
        self.keep_alive = self.parser.should_keep_alive()

    def ends_at_close(self) -> bool:
        """True if the answer had neither a length nor chunks: its end is the close."""
        return self.head_done and not (
            "content-length" in self.headers or "transfer-encoding" in self.headers
        )


@dataclass
class _Origin:
    """One scheme, host and port, with its idle connections (most recent last)."""

    scheme: str
    netloc: str
    host: str
    port: int
    idle: deque[socket.socket] = field(default_factory=deque)


class KeepAliveHttpClient(HttpClient):  # type: ignore[misc]
    """`twilio.http.HttpClient` on kept-alive sockets, shared by a worker's threads."""

    def __init__(
        self,
        *,
        timeout_s: float,
        logger: logging.Logger | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(logger or logging.getLogger("twilio.http_client"), False, timeout_s)
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._origins: dict[tuple[str, str], _Origin] = {}
        self._auth: tuple[tuple[str, str], str] | None = None  #: (user, password), header

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,  # Twilio's API does not redirect; none is followed
    ) -> Response:
        seconds = self.timeout if timeout is None else timeout
        method = method.upper()
        scheme, _, rest = url.partition("://")
        netloc, slash, path = rest.partition("/")
        target = slash + path or "/"
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params, doseq=True)
        lines = [f"{method} {target} HTTP/1.1", f"Host: {netloc}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if auth is not None:
            lines.append(f"Authorization: {self._basic(auth)}")
        body = b""
        if data is not None and method in ("POST", "PUT"):
            body = urlencode(data, doseq=True).encode("ascii")
            if not headers or "Content-Type" not in headers:
                lines.append("Content-Type: application/x-www-form-urlencoded")
        if body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
        text = "\r\n".join(lines)
        # A CR or LF inside a value would start a header (or a request) of its own.
        if text.count("\n") != len(lines) - 1 or text.count("\r") != len(lines) - 1:
            raise ValueError("a request line or header holds a line break")
        message = (text + "\r\n\r\n").encode("latin-1") + body

        origin = self._origin(scheme, netloc)
        sock = self._checkout(origin, seconds)
        try:
            answer = _exchange(sock, message)
        except BaseException as exc:
            sock.close()
            if isinstance(exc, TimeoutError):
                raise TransientDeliveryError(
                    "Twilio did not answer in time", code="timeout"
                ) from exc
            if isinstance(exc, (OSError, httptools.HttpParserError)):
                raise TransientDeliveryError(
                    f"Twilio's answer was lost: {type(exc).__name__}", code="connection"
                ) from exc
            raise
        if answer.keep_alive and len(origin.idle) < POOL_SIZE:
            origin.idle.append(sock)
        else:
            sock.close()
        content = b"".join(answer.parts).decode("utf-8", "replace")
        return Response(answer.parser.get_status_code(), content, answer.headers)

    def close(self) -> None:
        """Close the idle connections (those in use close when their request ends)."""
        for origin in list(self._origins.values()):
            while origin.idle:
                try:
                    origin.idle.pop().close()
                except IndexError:
                    break

    def _basic(self, auth: tuple[str, str]) -> str:
        # Always the same account: encoded once, not per request.
        cached = self._auth
        if cached is None or cached[0] != auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            cached = self._auth = (auth, f"Basic {token}")
        return cached[1]

    def _origin(self, scheme: str, netloc: str) -> _Origin:
        origin = self._origins.get((scheme, netloc))
        if origin is None:
            if scheme not in DEFAULT_PORTS:
                raise ValueError(f"not an http or https URL: {scheme}://{netloc}")
            host, port = _host_and_port(netloc, DEFAULT_PORTS[scheme])
            made = _Origin(scheme, netloc, host, port)
            origin = self._origins.setdefault((scheme, netloc), made)
        return origin

    def _checkout(self, origin: _Origin, seconds: float) -> socket.socket:
        """An idle connection the server has not closed, else a new one."""
        while origin.idle:
            try:
                sock = origin.idle.pop()
            except IndexError:  # another thread took the last one
                break
            if _closed_by_peer(sock):
                sock.close()  # nothing written on it: dropping it resends nothing
                continue
            sock.settimeout(seconds)
            return sock
        return self._connect(origin, seconds)

    def _connect(self, origin: _Origin, seconds: float) -> socket.socket:
        for attempt in range(1 + CONNECT_RETRIES):
            try:
                sock = socket.create_connection((origin.host, origin.port), timeout=seconds)
            except OSError as exc:  # refused, unreachable, timed out, no such name
                if attempt == CONNECT_RETRIES:
                    raise TransientDeliveryError(
                        f"cannot reach Twilio: {type(exc).__name__}", code="connection"
                    ) from exc
                continue
            try:
                # One write per request: Nagle's algorithm must not hold it back.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if origin.scheme == "https":
                    sock = self.ssl_context.wrap_socket(sock, server_hostname=origin.host)
            except BaseException as exc:
                sock.close()
                # A failed handshake sent nothing of the request, but it is not tried
                # again: a bad certificate would fail the same way.
                if isinstance(exc, OSError):
                    raise TransientDeliveryError(
                        f"cannot reach Twilio: {type(exc).__name__}", code="connection"
                    ) from exc
                raise
            return sock
        raise AssertionError("unreachable")  # pragma: no cover


def _host_and_port(netloc: str, default_port: int) -> tuple[str, int]:
    if netloc.startswith("["):  # an IPv6 literal, [::1]:8080
        host, _, tail = netloc[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else ""
    else:
        host, _, port = netloc.partition(":")
    return host, int(port) if port else default_port


def _closed_by_peer(sock: socket.socket) -> bool:
    """True if an idle connection has something to read: the server's close (or stray
    bytes, which would break the next answer's framing just as well)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def _exchange(sock: socket.socket, message: bytes) -> _Answer:
    """Write one request and read its answer."""
    sock.sendall(message)
    answer = _Answer()
    while not answer.done:
        chunk = sock.recv(RECV_BYTES)
        if not chunk:
            if answer.ends_at_close():
                answer.done = True
                break
            raise ConnectionError("closed before the answer was complete")
        answer.parser.feed_data(chunk)
    return answer
