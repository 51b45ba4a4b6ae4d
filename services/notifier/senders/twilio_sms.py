"""SMS through Twilio's official SDK; every Twilio and HTTP error translated right here.

Transient: HTTP 429 / Twilio 20429 (Retry-After honoured), 5xx, timeouts, connection
errors. Permanent: 21211 (invalid number), 21614 (not a mobile), 21610 (unsubscribed), any
other 4xx. Codes 30003–30007 are not raised here: they arrive in status callbacks.
"""

from __future__ import annotations

import json
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from services.notifier.senders.base import OutgoingMessage, SendResult
from services.notifier.senders.twilio_transport import KeepAliveHttpClient
from shared.errors import ConfigurationError, PermanentDeliveryError, TransientDeliveryError
from shared.masking import mask_phone, mask_text

TWILIO_API_BASE = "https://api.twilio.com"
TWILIO_TOO_MANY_REQUESTS = 20429
DEFAULT_TIMEOUT_S = 10.0  #: seconds to connect and to read an answer


class _LiaisonHttpClient(HttpClient):  # type: ignore[misc]
    """The SDK's HTTP client as the sender wants it: an optional base URL, and 429 read
    here, because Retry-After is a header and TwilioRestException keeps no headers. The
    wire is the transport's (keep-alive, see twilio_transport)."""

    def __init__(self, transport: HttpClient, *, base_url: str = "") -> None:
        super().__init__(transport.logger, False, transport.timeout)
        self.transport = transport
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.base_url and url.startswith(TWILIO_API_BASE):
            url = self.base_url + url[len(TWILIO_API_BASE) :]
        response: Response = self.transport.request(method, url, *args, **kwargs)
        if response.status_code == 429:
            body = _json(response.text)
            code = body.get("code") or TWILIO_TOO_MANY_REQUESTS
            raise TransientDeliveryError(
                f"Twilio is rate limiting: {body.get('message', 'Too Many Requests')}",
                code=str(code),
                retry_after_s=_retry_after(response.headers),
            )
        return response


class TwilioSmsSender:
    provider = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str = "",
        messaging_service_sid: str = "",
        status_callback_url: str = "",
        base_url: str = "",
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: HttpClient | None = None,
    ) -> None:
        """`transport` replaces the keep-alive one (the benchmark compares transports);
        it keeps its own timeout."""
        if not account_sid or not auth_token:
            raise ConfigurationError("Twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if not from_number and not messaging_service_sid:
            raise ConfigurationError(
                "Twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"
            )
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback_url = status_callback_url
        self.client = Client(
            account_sid,
            auth_token,
            http_client=_LiaisonHttpClient(
                transport or KeepAliveHttpClient(timeout_s=timeout_s), base_url=base_url
            ),
        )

    def send(self, message: OutgoingMessage) -> SendResult:
        params: dict[str, Any] = {"to": message.to, "body": message.text}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        if self.status_callback_url:
            params["status_callback"] = self.status_callback_url
        try:
            created = self.client.messages.create(**params)
        except TwilioRestException as exc:
            raise _translate(exc, message.to) from exc
        except TwilioException as exc:
            raise PermanentDeliveryError(
                f"Twilio refused the request: {mask_text(str(exc))}"
            ) from exc
        return SendResult(provider=self.provider, provider_message_id=created.sid)


def _translate(
    exc: TwilioRestException, to: str
) -> TransientDeliveryError | PermanentDeliveryError:
    code = str(exc.code) if exc.code is not None else str(exc.status)
    text = f"Twilio {exc.status} for {mask_phone(to)}: {mask_text(exc.msg or '')}"
    if exc.status == 429 or exc.code == TWILIO_TOO_MANY_REQUESTS or exc.status >= 500:
        return TransientDeliveryError(text, code=code)
    return PermanentDeliveryError(text, code=code)


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After") if headers else None
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None  # an HTTP date: rare from Twilio; our own backoff applies
