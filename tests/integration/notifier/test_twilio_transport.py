"""The twilio SDK on the keep-alive transport: one connection for many messages, the same
form on the wire, and no request sent twice by the transport."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit

import pytest

from services.notifier.senders import OutgoingMessage
from services.notifier.senders.twilio_sms import TwilioSmsSender
from services.notifier.senders.twilio_transport import CONNECT_RETRIES
from services.notifier.testing.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TwilioTestServer,
)
from shared.errors import TransientDeliveryError


def sms(i: int) -> OutgoingMessage:
    return OutgoingMessage(notification_id=i, channel="sms", to=f"+86138{i:08d}", text="你好 & =")


def sender(base_url: str, timeout_s: float = 2.0) -> TwilioSmsSender:
    return TwilioSmsSender(
        account_sid=TEST_ACCOUNT_SID,
        auth_token=TEST_AUTH_TOKEN,
        from_number="+15005550006",
        status_callback_url="https://liaison.example.org/twilio/status?a=1&b=2",
        base_url=base_url,
        timeout_s=timeout_s,
    )


def test_many_messages_go_out_on_one_kept_alive_connection_with_the_sdks_form(
    twilio: TwilioTestServer,
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
    url = urlsplit(twilio.base_url)
    pool = twilio_sms.client.http_client.pool.connection_from_host(url.hostname, url.port)
    assert pool.num_connections == 1


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
