"""Domestic SMS through Alibaba Cloud SMS (`dysmsapi`), with its official SDK.

A mainland SMS carries a registered signature (签名) and an approved template (模板) whose
variables we fill: the message's data becomes the template's variables
(`services.notifier.sms_variables`), not the rendered free-text body. The signature and
the template code for the message's kind come from the organization's `sms_route` policy
row, carried in the notification's data (`data["sms_route"]`), or else from this sender's
installation-wide defaults (`LIAISON_ALIYUN_SIGN_NAME`, `LIAISON_ALIYUN_TEMPLATE_CODES`).

Every provider answer is translated here (docs/notifier.md has the table):

- transient (retried): `Throttling.*`, `isv.BUSINESS_LIMIT_CONTROL` (a number's minute /
  hour / day quota: a later try can pass), `isp.*` (the provider's own failures),
  `ServiceUnavailable`, HTTP 5xx, timeouts and connection errors;
- opted out (permanent, and the number is recorded as opted out): `isv.BLACK_KEY_CONTROL_LIMIT`
  and `isv.BLACKLIST` style codes, the carriers' and the provider's blacklists;
- permanent: every other `isv.*` (an illegal number, a missing template parameter, a
  signature or template not approved, `isv.DENY_IP_RANGE`), credential and signature
  errors, any other 4xx.

The SDK's own retries are off: retrying is the worker's job, with backoff and a log row
per attempt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlsplit

import requests
from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import models as openapi_models
from darabonba.exceptions import DaraException, UnretryableException
from darabonba.runtime import RuntimeOptions

from services.notifier.senders.base import OutgoingMessage, SendResult
from services.notifier.sms_variables import VARIABLE_LIMIT, template_variables
from shared.errors import (
    ConfigurationError,
    DeliveryError,
    LiaisonError,
    OptedOutDeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from shared.masking import mask_phone, mask_text

DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"
DEFAULT_TIMEOUT_S = 10.0  #: seconds to connect and to read an answer
#: codes a later try may pass; matched as prefixes ("Throttling." covers Throttling.User…)
TRANSIENT_PREFIXES = ("Throttling", "isp.", "ServiceUnavailable", "InternalError")
TRANSIENT_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL"})
#: codes saying the number must not be messaged: recorded as an opt-out
OPTED_OUT_CODES = frozenset(
    {"isv.BLACK_KEY_CONTROL_LIMIT", "isv.BLACKLIST", "isv.BLACK_LIST", "isv.MOBILE_IN_BLACK"}
)


def classify(
    code: str, text: str, *, status: int = 200, retry_after_s: float | None = None
) -> DeliveryError:
    """The error one Alibaba Cloud `Code` (with its HTTP status) stands for."""
    if code in OPTED_OUT_CODES:
        return OptedOutDeliveryError(text, code=code)
    if code in TRANSIENT_CODES or code.startswith(TRANSIENT_PREFIXES) or status >= 500:
        return TransientDeliveryError(text, code=code, retry_after_s=retry_after_s)
    return PermanentDeliveryError(text, code=code)


def mainland_number(e164: str) -> str:
    """`+8613812345678` → `13812345678`, the form the domestic API takes; other countries'
    numbers keep their country code without the `+` (they need an international template)."""
    if e164.startswith("+86"):
        return e164[3:]
    return e164.lstrip("+")


class AliyunSmsSender:
    provider = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str = "",
        template_codes: Mapping[str, str] | None = None,
        endpoint: str = "",
        timeout_s: float = DEFAULT_TIMEOUT_S,
        variable_limit: int = VARIABLE_LIMIT,
    ) -> None:
        if not access_key_id or not access_key_secret:
            raise ConfigurationError(
                "Alibaba Cloud SMS needs ALIBABA_CLOUD_ACCESS_KEY_ID and "
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
            )
        self.sign_name = sign_name
        self.template_codes = dict(template_codes or {})
        self.variable_limit = variable_limit
        protocol, host = _endpoint(endpoint)
        timeout_ms = round(timeout_s * 1000)
        self.client = Client(
            openapi_models.Config(
                access_key_id=access_key_id,
                access_key_secret=access_key_secret,
                endpoint=host,
                protocol=protocol,
                connect_timeout=timeout_ms,
                read_timeout=timeout_ms,
            )
        )
        self._runtime = RuntimeOptions(
            autoretry=False, connect_timeout=timeout_ms, read_timeout=timeout_ms
        )

    def request_for(self, message: OutgoingMessage) -> sms_models.SendSmsRequest:
        """The SendSms request for `message`; a missing signature or template is permanent."""
        route = message.data.get("sms_route") or {}
        if not isinstance(route, Mapping):
            route = {}
        sign_name = route.get("sign_name") or self.sign_name
        codes = {**self.template_codes, **(route.get("template_codes") or {})}
        template_code = codes.get(message.kind)
        if not sign_name:
            raise PermanentDeliveryError(
                "no SMS signature: set LIAISON_ALIYUN_SIGN_NAME or the sms_route.sign_name policy",
                code="no_sign_name",
            )
        if not template_code:
            raise PermanentDeliveryError(
                f"no approved template code for {message.kind!r}: set the "
                "sms_route.template_codes policy or LIAISON_ALIYUN_TEMPLATE_CODES",
                code="no_template",
            )
        try:
            variables = template_variables(message.kind, message.data, limit=self.variable_limit)
        except LiaisonError as exc:
            raise PermanentDeliveryError(mask_text(str(exc)), code="template_variables") from exc
        return sms_models.SendSmsRequest(
            phone_numbers=mainland_number(message.to),
            sign_name=sign_name,
            template_code=template_code,
            template_param=json.dumps(variables, ensure_ascii=False),
            out_id=str(message.notification_id),
        )

    def send(self, message: OutgoingMessage) -> SendResult:
        request = self.request_for(message)
        who = mask_phone(message.to)
        try:
            response = self.client.send_sms_with_options(request, self._runtime)
        except (DaraException, UnretryableException) as exc:
            raise _translate_exception(exc, who) from exc
        except requests.Timeout as exc:
            raise TransientDeliveryError(
                "Alibaba Cloud SMS did not answer in time", code="timeout"
            ) from exc
        except requests.RequestException as exc:
            raise TransientDeliveryError(
                f"cannot reach Alibaba Cloud SMS: {type(exc).__name__}", code="connection"
            ) from exc
        body = response.body
        code = (body.code if body is not None else None) or "no_code"
        if body is None or code != "OK":
            said = mask_text(body.message or "") if body is not None else ""
            raise classify(code, f"Alibaba Cloud SMS {code} for {who}: {said}")
        return SendResult(provider=self.provider, provider_message_id=body.biz_id)


def _translate_exception(exc: DaraException | UnretryableException, who: str) -> DeliveryError:
    if isinstance(exc, UnretryableException):
        # No answer came: darabonba wraps the `requests` error in a RetryError (raised
        # while handling it, so the original is its __context__) inside this one.
        inner = getattr(exc, "inner_exception", None)
        cause = getattr(inner, "__context__", None) or inner
        if isinstance(cause, requests.Timeout):
            return TransientDeliveryError(
                "Alibaba Cloud SMS did not answer in time", code="timeout"
            )
        return TransientDeliveryError(
            f"cannot reach Alibaba Cloud SMS: {type(cause).__name__}", code="connection"
        )
    code = str(getattr(exc, "code", "") or "")
    status = int(getattr(exc, "status_code", 0) or 0)
    retry_after_ms = getattr(exc, "retry_after", None)
    retry_after_s = retry_after_ms / 1000 if isinstance(retry_after_ms, int | float) else None
    said = mask_text(str(getattr(exc, "message", "")))
    text = f"Alibaba Cloud SMS HTTP {status} {code} for {who}: {said}"
    if not code:
        return TransientDeliveryError(text, code=str(status or "error"))
    return classify(code, text, status=status, retry_after_s=retry_after_s)


def _endpoint(endpoint: str) -> tuple[str, str]:
    """(protocol, host[:port]) from `LIAISON_ALIYUN_ENDPOINT`: a host, or a URL for tests."""
    if not endpoint:
        return "https", DEFAULT_ENDPOINT
    if "://" in endpoint:
        split = urlsplit(endpoint)
        return split.scheme, split.netloc
    return "https", endpoint


def parse_template_codes(text: str) -> dict[str, str]:
    """`liaison_digest=SMS_1,event_reminder=SMS_2` → {kind: code}."""
    out: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        kind, sep, code = item.partition("=")
        if not sep or not kind.strip() or not code.strip():
            raise ConfigurationError(
                f"LIAISON_ALIYUN_TEMPLATE_CODES: expected kind=code, got {item.strip()!r}"
            )
        out[kind.strip()] = code.strip()
    return out
