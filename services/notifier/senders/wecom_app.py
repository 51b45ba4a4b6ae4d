"""WeCom (企业微信) application messages: a text card to one member of the organization's
WeCom, through its HTTP API with `httpx`.

The access token (`/cgi-bin/gettoken`, valid `expires_in` seconds, 7200 today) is cached
per sender and shared by its threads; it is fetched again a little before it expires, and
at once when WeCom says it is invalid or expired (errcode 40014, 42001, 40082), in which
case the message is sent once more with the new token.

Errors, translated here:
- transient: errcode -1 (system busy), 45009 / 45011 / 45033 (frequency and concurrency
  limits), HTTP 5xx, timeouts and connection errors;
- permanent: every other errcode (40003 / 60111 no such user id, 81013 no valid receiver,
  40056 bad agent id, 40001 bad secret, 48002 API not allowed…), and an answer naming the
  user in `invaliduser` (the person left, or is outside the application's visible range).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from services.notifier.senders.base import OutgoingMessage, SendResult
from shared.errors import (
    ConfigurationError,
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from shared.masking import mask_text, mask_userid

WECOM_API_BASE = "https://qyapi.weixin.qq.com"
DEFAULT_TIMEOUT_S = 10.0  #: seconds per HTTP request
TOKEN_MARGIN_S = 300  #: fetch a new token this long before the old one expires
#: errcodes saying the token is bad: fetch a new one and try once more
TOKEN_ERRCODES = frozenset({40014, 42001, 40082})
#: errcodes a later try may pass
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45011, 45033})
TITLE_MAX_BYTES = 128  #: WeCom's limit for a text card's title
DESCRIPTION_MAX_BYTES = 512  #: and for its description
DEFAULT_BUTTON = "详情"


def classify(errcode: int, text: str) -> DeliveryError:
    """The error one WeCom errcode stands for (token errcodes are handled before this)."""
    if errcode in TRANSIENT_ERRCODES:
        return TransientDeliveryError(text, code=str(errcode))
    return PermanentDeliveryError(text, code=str(errcode))


def cut_utf8(text: str, max_bytes: int) -> str:
    """`text` cut to at most `max_bytes` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[: max_bytes - 3].decode("utf-8", "ignore") + "…"


@dataclass
class _Token:
    value: str
    expires_at: float  #: time.monotonic()


class WeComTokenCache:
    """One application's access token, fetched on first use and when it is bad or old."""

    def __init__(self, client: httpx.Client, base_url: str, corp_id: str, secret: str) -> None:
        self.client, self.base_url = client, base_url
        self.corp_id, self.secret = corp_id, secret
        self._lock = threading.Lock()
        self._token: _Token | None = None

    def get(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._token.expires_at:
                self._token = self._fetch()
            return self._token.value

    def invalidate(self, stale: str) -> None:
        """Forget `stale` (unless another thread has already replaced it)."""
        with self._lock:
            if self._token is not None and self._token.value == stale:
                self._token = None

    def _fetch(self) -> _Token:
        body = _call(
            self.client,
            "GET",
            f"{self.base_url}/cgi-bin/gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
        )
        errcode = int(body.get("errcode", 0))
        if errcode != 0:
            raise classify(errcode, f"WeCom refused the access token: {errcode} {_errmsg(body)}")
        lifetime_s = float(body.get("expires_in", 7200))
        return _Token(
            str(body["access_token"]),
            time.monotonic() + max(lifetime_s - TOKEN_MARGIN_S, lifetime_s / 2),
        )


class WeComAppSender:
    """Sends `message` (channel `wecom`, `to` a WeCom user id) as a text card.

    The card's title is the rendered text's first line and its description the rest; its
    link is the data's `link`, else `card_url`.
    """

    provider = "wecom"

    def __init__(
        self,
        *,
        corp_id: str,
        secret: str,
        agent_id: str,
        card_url: str,
        base_url: str = "",
        timeout_s: float = DEFAULT_TIMEOUT_S,
        client: httpx.Client | None = None,
    ) -> None:
        if not corp_id or not secret or not agent_id:
            raise ConfigurationError(
                "WeCom needs LIAISON_WECOM_CORP_ID, LIAISON_WECOM_SECRET and LIAISON_WECOM_AGENT_ID"
            )
        if not agent_id.isdigit():
            raise ConfigurationError(f"LIAISON_WECOM_AGENT_ID must be a number, got {agent_id!r}")
        self.agent_id = int(agent_id)
        self.card_url = card_url
        self.base_url = (base_url or WECOM_API_BASE).rstrip("/")
        self.client = client or httpx.Client(timeout=timeout_s)
        self.tokens = WeComTokenCache(self.client, self.base_url, corp_id, secret)

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        title, _, rest = message.text.strip().partition("\n")
        url = str(message.data.get("link") or self.card_url)
        return {
            "touser": message.to,
            "msgtype": "textcard",
            "agentid": self.agent_id,
            "textcard": {
                "title": cut_utf8(title.strip(), TITLE_MAX_BYTES),
                "description": cut_utf8(rest.strip() or title.strip(), DESCRIPTION_MAX_BYTES),
                "url": url,
                "btntxt": DEFAULT_BUTTON,
            },
            "enable_duplicate_check": 1,
            "duplicate_check_interval": 1800,
        }

    def send(self, message: OutgoingMessage) -> SendResult:
        payload = self.payload(message)
        who = mask_userid(message.to)
        for attempt in (1, 2):
            token = self.tokens.get()
            body = _call(
                self.client,
                "POST",
                f"{self.base_url}/cgi-bin/message/send",
                params={"access_token": token},
                json=payload,
            )
            errcode = int(body.get("errcode", 0))
            if errcode in TOKEN_ERRCODES and attempt == 1:
                self.tokens.invalidate(token)
                continue
            if errcode != 0:
                raise classify(errcode, f"WeCom {errcode} for {who}: {_errmsg(body)}")
            if body.get("invaliduser"):
                raise PermanentDeliveryError(
                    f"WeCom cannot reach {who}: not a member of the application's visible range",
                    code="invaliduser",
                )
            return SendResult(provider=self.provider, provider_message_id=body.get("msgid"))
        raise TransientDeliveryError("WeCom kept refusing fresh access tokens", code="token")


def _call(client: httpx.Client, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    """One WeCom API call; transport errors and non-JSON answers translated."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise TransientDeliveryError("WeCom did not answer in time", code="timeout") from exc
    except httpx.TransportError as exc:
        raise TransientDeliveryError(
            f"cannot reach WeCom: {type(exc).__name__}", code="connection"
        ) from exc
    if response.status_code >= 500:
        raise TransientDeliveryError(
            f"WeCom HTTP {response.status_code}", code=str(response.status_code)
        )
    try:
        body = response.json()
    except ValueError as exc:
        # WeCom answers 200 with JSON even for its errors: anything else is a proxy or a
        # wrong base URL, which a retry fixes only if it is a passing 5xx (handled above).
        raise PermanentDeliveryError(
            f"WeCom HTTP {response.status_code} without a JSON answer", code="bad_answer"
        ) from exc
    if not isinstance(body, dict):
        raise PermanentDeliveryError(
            "WeCom answered something else than an object", code="bad_answer"
        )
    return body


def _errmsg(body: dict[str, Any]) -> str:
    return mask_text(str(body.get("errmsg", "")))[:200]
