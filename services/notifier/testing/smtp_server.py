"""A real SMTP server on loopback (aiosmtpd) that records what it receives.

It can be told to answer the next messages with an SMTP error (`fail_next("451 4.3.0 try
later")`) or to refuse a recipient (`refuse("x@example.com", "550 5.1.1 no such user")`).
aiosmtpd's `Controller` cannot take port 0, so a free port is found first.

It can be stopped and started again on the same port (an SMTP server that goes away and
comes back, for the fault drills): while stopped, connections are refused; what it
received before is kept. A stop drops the sessions in progress, as a crashed server does.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (another process may take it before we do: rare)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class _Handler:
    messages: list[ReceivedMail] = field(default_factory=list)
    failures: deque[str] = field(default_factory=deque)
    refusals: dict[str, str] = field(default_factory=dict)
    quit_reply: str | None = None  #: what QUIT answers instead of "221 Bye"
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> Any:
        with self.lock:
            reply = self.quit_reply
        return reply if reply is not None else MISSING

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            refusal = self.refusals.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.failures:
                return self.failures.popleft()
            parsed = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class SmtpTestServer:
    """Start with `with SmtpTestServer() as smtp:`; send to `smtp.host`:`smtp.port`.

    `stop()` then `start()` takes it down and brings it back on the same port.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self._handler = _Handler()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._handler.lock:
            return list(self._handler.messages)

    def fail_next(self, reply: str, count: int = 1) -> None:
        """Answer the next `count` messages' DATA with `reply` (e.g. "554 5.7.1 rejected")."""
        with self._handler.lock:
            self._handler.failures.extend([reply] * count)

    def answer_quit_with(self, reply: str | None) -> None:
        """Answer QUIT with `reply` (e.g. "421 shutting down"); None restores "221 Bye"."""
        with self._handler.lock:
            self._handler.quit_reply = reply

    def refuse(self, address: str, reply: str) -> None:
        """Answer RCPT TO `address` with `reply` (e.g. "550 5.1.1 no such user")."""
        with self._handler.lock:
            self._handler.refusals[address] = reply

    def start(self) -> SmtpTestServer:
        """Listen on `port` (again, after a stop); the recorded messages are kept."""
        if self._controller is None:
            # A Controller closes its event loop when stopped: each start needs a new one.
            controller = Controller(self._handler, hostname=self.host, port=self.port)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening and drop the sessions in progress; stopping twice is harmless."""
        if self._controller is not None:
            controller, self._controller = self._controller, None
            controller.stop()

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
