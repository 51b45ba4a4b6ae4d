"""The one interface every sender implements, and the values it takes and returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered message for one address, ready to hand to a provider."""

    notification_id: int
    channel: str  #: sms | email | wecom
    to: str  #: E.164 phone number, email address or WeCom user id, in full
    text: str  #: the SMS body, or the email's plain-text part
    subject: str | None = None  #: email only
    html: str | None = None  #: email only
    kind: str = ""
    #: the notification's data as rendered: senders of provider-approved templates (Alibaba
    #: Cloud SMS) send its fields as the template's variables, and read `sms_route` from it
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    """What a provider said when it accepted a message."""

    provider: str
    provider_message_id: str | None


class Sender(Protocol):
    """Hands a message to a provider.

    Raises TransientDeliveryError when a later try may succeed and PermanentDeliveryError
    when none can; every provider error is translated inside the sender.
    """

    provider: str

    def send(self, message: OutgoingMessage) -> SendResult: ...
