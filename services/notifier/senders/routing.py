"""Which sender and which rate limit a message goes through.

Senders and limiters are keyed by channel (`sms`, `email`, `wecom`) for the installation's
default provider, and by `sms:<provider>` for every SMS provider the installation has
configured. An organization chooses its SMS provider by policy (`sms_route.provider`,
carried in the notification's data as `sms_route`); a message whose organization chose
nothing goes through its channel's default.

What must stay true: a message is never sent through another provider than the one its
organization chose (the point of a domestic provider is that the data stays in China); an
organization that chose a provider this installation has not configured gets a permanent
error saying so, recorded like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.notifier.rate_limit import Limiter, Unlimited
from services.notifier.senders.base import OutgoingMessage, Sender, SendResult
from shared.errors import PermanentDeliveryError


def sender_key(message: OutgoingMessage) -> str:
    """`sms:<provider>` when the message's organization chose an SMS provider, else its channel."""
    if message.channel == "sms":
        route: Any = message.data.get("sms_route") or {}
        provider = route.get("provider") if isinstance(route, Mapping) else None
        if provider:
            return f"sms:{provider}"
    return message.channel


class UnconfiguredProvider:
    """Stands for a provider an organization chose but this installation cannot reach."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.provider = key.partition(":")[2] or key

    def send(self, message: OutgoingMessage) -> SendResult:
        raise PermanentDeliveryError(
            f"the organization's provider {self.provider!r} is not configured on this "
            "installation (docs/notifier.md lists what each provider needs)",
            code="provider_not_configured",
        )


def route(
    senders: Mapping[str, Sender], limiters: Mapping[str, Limiter], message: OutgoingMessage
) -> tuple[Sender, Limiter]:
    """The sender and the limiter for `message`."""
    key = sender_key(message)
    sender = senders.get(key)
    if sender is None:
        if key != message.channel:
            return UnconfiguredProvider(key), Unlimited()
        raise KeyError(f"no sender for channel {message.channel!r}")
    # A provider's limit is its own: an organization routed elsewhere than the channel's
    # default must not be paced by the default's bucket.
    return sender, limiters.get(key) or Unlimited()
