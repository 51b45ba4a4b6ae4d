"""A sender for development and the demo: each message becomes a file a person can read."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from services.notifier.senders.base import OutgoingMessage, SendResult
from shared.errors import TransientDeliveryError


class OutboxFileSender:
    """Writes each message under `<directory>/<channel>/` instead of sending it.

    The file holds the full address, as the real message would: the outbox lives under the
    installation's own `var/` directory, which holds the database with the same data.
    """

    provider = "outbox"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._counter = 0

    def send(self, message: OutgoingMessage) -> SendResult:
        folder = self.directory / message.channel
        with self._lock:
            self._counter += 1
            serial = self._counter
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-n{message.notification_id}-{serial}"
        lines = [
            f"To: {message.to}",
            f"Channel: {message.channel}",
            f"Kind: {message.kind}",
            f"Notification: {message.notification_id}",
        ]
        if message.subject is not None:
            lines.append(f"Subject: {message.subject}")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.txt").write_text(
                "\n".join(lines) + "\n\n" + message.text + "\n", encoding="utf-8"
            )
            if message.html is not None:
                (folder / f"{name}.html").write_text(message.html, encoding="utf-8")
        except OSError as exc:
            # A full disk or a permission slip may pass; let the retries decide.
            raise TransientDeliveryError(f"cannot write the outbox file: {exc}") from exc
        return SendResult(provider=self.provider, provider_message_id=name)
