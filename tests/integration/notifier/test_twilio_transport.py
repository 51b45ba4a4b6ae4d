"""The twilio SDK on the keep-alive transport: one connection for many messages, the same
form on the wire, and no request sent twice by the transport.

The faults that matter are driven by `ScriptedTwilio`, a raw socket server that counts
the connections it accepted and the requests it read, so the server's side proves what
was sent and how often.
"""

from __future__ import annotations

import io
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from services.notifier.senders import OutgoingMessage
from services.notifier.senders.twilio_sms import TwilioSmsSender
from services.notifier.senders.twilio_transport import CONNECT_RETRIES, KeepAliveHttpClient
from services.notifier.testing.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TwilioTestServer,
)
from shared.errors import TransientDeliveryError


def sms(i: int) -> OutgoingMessage:
    return OutgoingMessage(notification_id=i, channel="sms", to=f"+86138{i:08d}", text="你好 & =")


def sender(
    base_url: str, timeout_s: float = 2.0, transport: KeepAliveHttpClient | None = None
) -> TwilioSmsSender:
    return TwilioSmsSender(
        account_sid=TEST_ACCOUNT_SID,
        auth_token=TEST_AUTH_TOKEN,
        from_number="+15005550006",
        status_callback_url="https://liaison.example.org/twilio/status?a=1&b=2",
        base_url=base_url,
        timeout_s=timeout_s,
        transport=transport,
    )


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The addresses the transport opened a TCP connection to, in order."""
    opened: list[tuple[str, int]] = []
    real = socket.create_connection

    def create_connection(
        address: tuple[str, int], *args: object, **kwargs: object
    ) -> socket.socket:
        opened.append(address)
        return real(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return opened


def test_many_messages_go_out_on_one_kept_alive_connection_with_the_sdks_form(
    twilio: TwilioTestServer, connects: list[tuple[str, int]]
) -> None:
    twilio_sms = sender(twilio.base_url)
    sids = [twilio_sms.send(sms(i)).provider_message_id for i in range(5)]

    assert len(set(sids)) == 5 and all(s and s.startswith("SM") for s in sids)
    assert [r.form for r in twilio.sent()] == [
        {
            "To": f"+86138{i:08d}",
            "From": "+15005550006",
            "Body": "你好 & =",
            "StatusCallback": "https://liaison.example.org/twilio/status?a=1&b=2",
        }
        for i in range(5)
    ]
    assert len(connects) == 1


def test_a_read_timeout_is_not_sent_again_by_the_transport() -> None:
    # A server of its own: the shared one may still be answering another test's slow
    # request, which would be counted here.
    with TwilioTestServer() as twilio:
        twilio.fail_next(delay_s=0.6)
        with pytest.raises(TransientDeliveryError) as caught:
            sender(twilio.base_url, timeout_s=0.2).send(sms(1))
        assert caught.value.code == "timeout"
        # The slow answer is recorded when it is written: wait for it, then a little
        # longer for a second copy that must not come.
        deadline = time.monotonic() + 10
        while not twilio.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
        assert len(twilio.requests) == 1


def test_a_connection_dropped_before_the_answer_is_not_sent_again() -> None:
    """The server reads the request and closes the connection: Twilio may have taken it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    received: list[bytes] = []

    def serve() -> None:
        listener.settimeout(3)
        try:
            while True:
                conn, _ = listener.accept()
                with conn:
                    received.append(conn.recv(65536))
        except OSError:
            return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(TransientDeliveryError) as caught:
            sender(f"http://127.0.0.1:{listener.getsockname()[1]}").send(sms(1))
    finally:
        listener.close()
        thread.join(5)
    assert caught.value.code == "connection"
    assert len(received) == 1


def test_a_refused_connection_is_tried_again_because_nothing_was_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[float] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens: every connect is refused

    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: object) -> None:
        if isinstance(address, tuple) and address[1] == port:
            attempts.append(time.monotonic())
        real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    with pytest.raises(TransientDeliveryError) as caught:
        sender(f"http://127.0.0.1:{port}").send(sms(1))
    assert caught.value.code == "connection"
    assert len(attempts) == 1 + CONNECT_RETRIES


# -- a server scripted per request, counting what it read ---------------------------------

#: how the scripted server treats one request it has read in full
Answer = str  # "answer", "answer-then-close", "drop", "reset"


class ScriptedTwilio:
    """A loopback HTTP/1.1 server that reads each request in full, records it, then does
    what its script says: answer (keep the connection), answer and then close the idle
    connection, drop the connection without answering, or reset it. Unscripted requests
    are answered."""

    def __init__(self, script: list[Answer] | None = None) -> None:
        self.script = list(script or [])
        self.requests: list[bytes] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(32)
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.threads: list[threading.Thread] = []
        self.accepting = threading.Thread(target=self._accept, daemon=True)
        self.accepting.start()

    def close(self) -> None:
        # shutdown wakes the thread blocked in accept(); close alone does not on Linux
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.accepting.join(5)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = conn.makefile("rb")
        with conn, reader:
            while True:
                request = _read_request(reader)
                if request is None:
                    return
                with self.lock:
                    self.requests.append(request)
                    what = self.script.pop(0) if self.script else "answer"
                if what == "drop":
                    return
                if what == "reset":
                    # SO_LINGER 0: close() sends an RST instead of a FIN
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                    return
                body = json.dumps({"sid": f"SM{len(self.requests):032x}"}).encode()
                conn.sendall(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                if what == "answer-then-close":
                    # The server's idle timeout, short: the client sees the close first.
                    time.sleep(0.05)
                    return


def _read_request(reader: io.BufferedReader) -> bytes | None:
    lines = []
    while True:
        line = reader.readline()
        if not line:
            return None
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            break
    head = b"".join(lines)
    length = 0
    for line in lines:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + reader.read(length)


@pytest.fixture
def scripted() -> Iterator[Callable[..., ScriptedTwilio]]:
    servers: list[ScriptedTwilio] = []

    def start(*script: Answer) -> ScriptedTwilio:
        server = ScriptedTwilio(list(script))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_a_kept_alive_connection_the_server_closed_while_idle_is_replaced_before_writing(
    scripted: Callable[..., ScriptedTwilio],
) -> None:
    """The server's idle timeout closed it: the close is seen before the request is
    written, so the request goes out once, on a new connection."""
    server = scripted("answer-then-close")
    twilio_sms = sender(server.base_url)
    twilio_sms.send(sms(1))
    time.sleep(0.3)  # the server closes the idle connection after 0.05 s
    twilio_sms.send(sms(2))

    assert len(server.requests) == 2
    assert b"To=%2B8613800000002" in server.requests[1]
    assert server.connections == 2


@pytest.mark.parametrize("ending", ["drop", "reset"])
def test_a_kept_alive_connection_closed_after_the_request_was_read_is_not_sent_again(
    scripted: Callable[..., ScriptedTwilio], ending: str
) -> None:
    """Written on a reused connection and closed (or reset) with no answer: exactly what a
    stale connection looks like, and what a request Twilio took and lost the answer of
    looks like too. It may have been taken, so it is not sent again."""
    server = scripted("answer", ending)
    twilio_sms = sender(server.base_url)
    twilio_sms.send(sms(1))
    with pytest.raises(TransientDeliveryError) as caught:
        twilio_sms.send(sms(2))

    assert caught.value.code == "connection"
    time.sleep(0.3)  # a resend would arrive by now
    assert len(server.requests) == 2
    assert server.connections == 1


def test_the_connection_after_a_failure_is_a_new_one_and_the_next_message_goes_out(
    scripted: Callable[..., ScriptedTwilio],
) -> None:
    server = scripted("drop")
    twilio_sms = sender(server.base_url)
    with pytest.raises(TransientDeliveryError):
        twilio_sms.send(sms(1))
    assert twilio_sms.send(sms(2)).provider_message_id == f"SM{2:032x}"

    assert len(server.requests) == 2
    assert server.connections == 2


def test_an_answer_that_came_too_late_is_never_taken_for_the_next_messages() -> None:
    with TwilioTestServer() as twilio:
        twilio_sms = sender(twilio.base_url, timeout_s=0.3)
        twilio.fail_next(delay_s=0.6)
        with pytest.raises(TransientDeliveryError):
            twilio_sms.send(sms(1))
        created = twilio_sms.client.messages.create(
            to="+8613800000002", from_="+15005550006", body="b"
        )
        time.sleep(0.5)  # the late answer to the first has been written by now
        later = twilio_sms.client.messages.create(
            to="+8613800000003", from_="+15005550006", body="c"
        )

    assert (created.to, later.to) == ("+8613800000002", "+8613800000003")


def test_sixteen_threads_share_the_connections_and_never_read_each_others_answers(
    twilio: TwilioTestServer, connects: list[tuple[str, int]]
) -> None:
    twilio_sms = sender(twilio.base_url)
    crossed: list[tuple[str, str | None]] = []

    def send(thread: int) -> None:
        for i in range(25):
            to = f"+86138{thread:04d}{i:04d}"
            created = twilio_sms.client.messages.create(to=to, from_="+15005550006", body="x")
            if created.to != to:
                crossed.append((to, created.to))

    threads = [threading.Thread(target=send, args=(t,)) for t in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert crossed == []
    assert len(twilio.sent()) == 16 * 25
    assert len(connects) <= 16


def test_https_verifies_twilios_certificate(tmp_path: Path) -> None:
    """A server whose certificate nobody vouches for is refused; the same server is
    reached once its certificate is trusted, and the request then goes over TLS."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    with TwilioTestServer(host="localhost") as twilio:
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(cert, key)
        assert twilio._server is not None
        twilio._server.socket = server_context.wrap_socket(twilio._server.socket, server_side=True)
        https_url = twilio.base_url.replace("http://", "https://")

        with pytest.raises(TransientDeliveryError) as caught:
            sender(https_url).send(sms(1))
        assert caught.value.code == "connection"
        assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)

        trusting = ssl.create_default_context(cafile=str(cert))
        transport = KeepAliveHttpClient(timeout_s=2.0, ssl_context=trusting)
        assert sender(https_url, transport=transport).send(sms(2)).provider_message_id
        assert [r.form["To"] for r in twilio.sent()] == ["+8613800000002"]
