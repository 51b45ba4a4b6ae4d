"""One call to a provider, for the one-by-one and the batch delivery alike: within a
rate-limit slot, timed, and with whatever the sender raised turned into a `DeliveryError`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from services.notifier.rate_limit import Limiter
from services.notifier.runtime import Runtime
from services.notifier.senders.base import OutgoingMessage, Sender, SendResult
from shared.errors import DeliveryError
from shared.masking import mask_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderCall:
    """One call to a provider: when it started, how long it took, and what came back."""

    started_at: datetime
    latency_ms: int
    result: SendResult | None  #: the provider took the message
    error: DeliveryError | None  #: or it did not, and why


def call_provider(
    runtime: Runtime, sender: Sender, limiter: Limiter, message: OutgoingMessage
) -> ProviderCall:
    """Send `message` within a rate-limit slot; a sender's untranslated error becomes a
    (transient) `DeliveryError`. Used by the one-by-one and the batch delivery alike."""
    error: DeliveryError | None = None
    result: SendResult | None = None
    with limiter.slot():
        started_at = runtime.clock.now()
        started = time.perf_counter()
        try:
            result = sender.send(message)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:
            # A sender should translate every failure; one that escapes is a bug, and
            # retrying keeps the notification alive until a person looks at the log.
            log.exception("sender %s raised an untranslated error", sender.provider)
            error = DeliveryError(f"unexpected {type(exc).__name__}: {mask_text(str(exc))}")
        latency_ms = round((time.perf_counter() - started) * 1000)
    return ProviderCall(started_at, latency_ms, result, error)
