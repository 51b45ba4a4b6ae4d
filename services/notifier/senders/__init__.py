"""Senders: one class a file, all behind `Sender.send(OutgoingMessage) -> SendResult`."""

from services.notifier.senders.base import OutgoingMessage, Sender, SendResult
from services.notifier.senders.outbox_file import OutboxFileSender

__all__ = ["OutboxFileSender", "OutgoingMessage", "SendResult", "Sender"]
