"""An Alibaba Cloud SMS API (`dysmsapi`, version 2017-05-25) on loopback, for tests and drills.

It answers `SendSms` as the real endpoint does for what the official SDK
(`alibabacloud-dysmsapi20170525` on `alibabacloud-tea-openapi`) sends: `POST /` with the
parameters in the query string, `x-acs-action: SendSms`, `x-acs-version: 2017-05-25` and
an `Authorization: ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…` header.
The signature is checked (the V3 algorithm, recomputed here from the request received),
so a request the real service would refuse as `SignatureDoesNotMatch` is refused here too.

Business outcomes come back as the real service gives them: HTTP 200 with a `Code`
(`OK`, or `isv.BUSINESS_LIMIT_CONTROL`, `isv.MOBILE_NUMBER_ILLEGAL`, `isp.SYSTEM_ERROR`…);
gateway errors (`Throttling.User`, `ServiceUnavailable`, signature errors) as HTTP 4xx/5xx
with a JSON error body. Behaviour is scripted per request (`fail_next`), per number
(`fail_for`) or for a random share over a time window (`fail_randomly`, seeded). Every
request is recorded with its decoded parameters. A template must be registered
(`templates`) with its variable names: a missing variable is `isv.TEMPLATE_MISSING_PARAMETERS`
and a variable over `variable_limit` characters `isv.PARAM_LENGTH_LIMIT`, as the provider does.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

TEST_ACCESS_KEY_ID = "LTAI-test-key-id"
TEST_ACCESS_KEY_SECRET = "test-access-key-secret"  # noqa: S105 - a loopback server's own key
ACTION = "SendSms"
VERSION = "2017-05-25"
SIGNATURE_ALGORITHM = "ACS3-HMAC-SHA256"
VARIABLE_LIMIT = 35  #: characters a notification template's variable may carry

#: what the provider says for the codes tests script most
ERROR_MESSAGES = {
    "isv.BUSINESS_LIMIT_CONTROL": "触发号码天级流控Permits:10",
    "Throttling.User": "Request was denied due to user flow control.",
    "isp.SYSTEM_ERROR": "isp.SYSTEM_ERROR",
    "ServiceUnavailable": "The request has failed due to a temporary failure of the server.",
    "isv.MOBILE_NUMBER_ILLEGAL": "非法手机号",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板缺少变量",
    "isv.BLACK_KEY_CONTROL_LIMIT": "黑名单管控",
    "isv.DENY_IP_RANGE": "IP地址所在的地区被禁用",
    "isv.SMS_TEMPLATE_ILLEGAL": "该账号下找不到对应模板",
    "isv.SMS_SIGNATURE_ILLEGAL": "该账号下找不到对应签名",
    "isv.PARAM_LENGTH_LIMIT": "参数超出长度限制",
    "SignatureDoesNotMatch": "Specified signature is not matched with our calculation.",
    "InvalidAccessKeyId.NotFound": "Specified access key is not found.",
}


@dataclass(frozen=True)
class Behaviour:
    """How to answer one request: HTTP 200 with a business `code`, or an HTTP error."""

    code: str = "OK"
    status: int = 200
    message: str | None = None
    retry_after_ms: int | None = None  #: sent as `x-acs-retry-after`
    delay_s: float = 0.0


@dataclass
class _RandomFaults:
    """A share of requests refused, drawn from a seeded generator, for a while."""

    rate_throttled: float
    rate_system_error: float
    for_s: float | None
    rng: random.Random
    ends_at: float | None = None

    def draw(self, now: float) -> Behaviour | None:
        if self.for_s is not None:
            if self.ends_at is None:
                self.ends_at = now + self.for_s
            if now >= self.ends_at:
                return None
        roll = self.rng.random()
        if roll < self.rate_throttled:
            return Behaviour(code="Throttling.User", status=400)
        if roll < self.rate_throttled + self.rate_system_error:
            return Behaviour(code="isp.SYSTEM_ERROR")
        return None


@dataclass(frozen=True)
class RecordedRequest:
    params: dict[str, str]  #: the query parameters, decoded
    at: float  #: time.monotonic() when it arrived
    code: str  #: the `Code` answered ("OK" when accepted)
    biz_id: str | None

    @property
    def template_param(self) -> dict[str, str]:
        loaded = json.loads(self.params.get("TemplateParam") or "{}")
        return loaded if isinstance(loaded, dict) else {}


@dataclass
class AliyunSmsTestServer:
    """Start with `with AliyunSmsTestServer() as aliyun:`; point senders at `aliyun.endpoint`."""

    access_key_id: str = TEST_ACCESS_KEY_ID
    access_key_secret: str = TEST_ACCESS_KEY_SECRET
    host: str = "127.0.0.1"
    #: template code → its variable names; an unregistered code is isv.SMS_TEMPLATE_ILLEGAL,
    #: unless `any_template` (the demo: every code approved, every variable accepted)
    templates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    any_template: bool = False
    sign_names: tuple[str, ...] = ()  #: accepted signatures; empty accepts any
    variable_limit: int = VARIABLE_LIMIT
    delay_s: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)
    _script: deque[Behaviour] = field(default_factory=deque)
    _per_number: dict[str, Behaviour] = field(default_factory=dict)
    _random: _RandomFaults | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # -- scripting ---------------------------------------------------------------------
    def fail_next(self, count: int = 1, **behaviour: Any) -> None:
        """Answer the next `count` requests with `Behaviour(**behaviour)`."""
        with self._lock:
            self._script.extend(Behaviour(**behaviour) for _ in range(count))

    def fail_for(self, number: str, **behaviour: Any) -> None:
        """Answer every request to `number` (as sent: 11 digits) with `Behaviour(**behaviour)`."""
        with self._lock:
            self._per_number[number] = Behaviour(**behaviour)

    def fail_randomly(
        self,
        *,
        rate_throttled: float = 0.0,
        rate_system_error: float = 0.0,
        seed: int = 0,
        for_s: float | None = None,
    ) -> None:
        """Refuse a random share of requests: `Throttling.User` (HTTP 400) with probability
        `rate_throttled`, `isp.SYSTEM_ERROR` (HTTP 200) with `rate_system_error`; for `for_s`
        seconds from the first request that draws, or until `stop_failing`."""
        if rate_throttled < 0 or rate_system_error < 0 or rate_throttled + rate_system_error > 1:
            raise ValueError("rates must be non-negative and add up to at most 1")
        with self._lock:
            rng = random.Random(seed)  # noqa: S311 - reproducible faults, not secrets
            self._random = _RandomFaults(rate_throttled, rate_system_error, for_s, rng)

    def stop_failing(self) -> None:
        with self._lock:
            self._random = None

    def sent(self) -> list[RecordedRequest]:
        """The requests the provider accepted (`Code: OK`)."""
        with self._lock:
            return [r for r in self.requests if r.code == "OK"]

    def refused(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.code != "OK"]

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        """`host:port`, as the SDK's `Config(endpoint=…, protocol="http")` takes it."""
        assert self._server is not None, "the server is not started"
        return f"{self.host}:{self._server.server_address[1]}"

    def start(self) -> AliyunSmsTestServer:
        server = ThreadingHTTPServer((self.host, 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> AliyunSmsTestServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- answering ---------------------------------------------------------------------
    def _behaviour_for(self, params: dict[str, str]) -> Behaviour:
        with self._lock:
            if self._script:
                return self._script.popleft()
            if self._random is not None:
                fault = self._random.draw(time.monotonic())
                if fault is not None:
                    return fault
            scripted = self._per_number.get(params.get("PhoneNumbers", ""))
        if scripted is not None:
            return scripted
        return self._validate(params)

    def _validate(self, params: dict[str, str]) -> Behaviour:
        """What the provider says of a well-signed request nobody scripted."""
        number = params.get("PhoneNumbers", "")
        if not (number.isdigit() and len(number) == 11 and number.startswith("1")):
            return Behaviour(code="isv.MOBILE_NUMBER_ILLEGAL")
        if self.sign_names and params.get("SignName") not in self.sign_names:
            return Behaviour(code="isv.SMS_SIGNATURE_ILLEGAL")
        variables = self.templates.get(params.get("TemplateCode", ""))
        if variables is None and self.any_template and params.get("TemplateCode"):
            variables = ()
        if variables is None:
            return Behaviour(code="isv.SMS_TEMPLATE_ILLEGAL")
        try:
            given = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return Behaviour(code="isv.INVALID_JSON_PARAM", message="JSON参数不合法")
        if not isinstance(given, dict) or any(name not in given for name in variables):
            return Behaviour(code="isv.TEMPLATE_MISSING_PARAMETERS")
        if any(len(str(value)) > self.variable_limit for value in given.values()):
            return Behaviour(code="isv.PARAM_LENGTH_LIMIT")
        return Behaviour()

    def _answer(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        params = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        problem = self._check_request(method, split.path or "/", params, headers, body)
        behaviour = problem or self._behaviour_for(params)
        delay = self.delay_s + behaviour.delay_s
        if delay:
            time.sleep(delay)
        request_id = str(uuid.uuid4()).upper()
        biz_id = f"{random.randrange(10**14, 10**15)}^0" if behaviour.code == "OK" else None  # noqa: S311
        with self._lock:
            self.requests.append(RecordedRequest(params, time.monotonic(), behaviour.code, biz_id))
        out_headers = {"Content-Type": "application/json;charset=utf-8"}
        if behaviour.retry_after_ms is not None:
            out_headers["x-acs-retry-after"] = str(behaviour.retry_after_ms)
        message = behaviour.message or ERROR_MESSAGES.get(behaviour.code, behaviour.code)
        payload: dict[str, Any] = {"RequestId": request_id, "Code": behaviour.code}
        if behaviour.code == "OK":
            payload.update(Message="OK", BizId=biz_id)
        else:
            payload["Message"] = message
            if behaviour.status != 200:
                payload["HostId"] = "dysmsapi.aliyuncs.com"
        return behaviour.status, out_headers, json.dumps(payload, ensure_ascii=False).encode()

    def _check_request(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> Behaviour | None:
        """The gateway's checks: action, version, credential and signature."""
        if headers.get("x-acs-action") != ACTION or headers.get("x-acs-version") != VERSION:
            return Behaviour(code="InvalidAction.NotFound", status=404, message="no such action")
        scheme, _, fields = headers.get("authorization", "").partition(" ")
        parts = dict(p.split("=", 1) for p in fields.split(",") if "=" in p)
        if scheme != SIGNATURE_ALGORITHM or parts.get("Credential") != self.access_key_id:
            return Behaviour(code="InvalidAccessKeyId.NotFound", status=404)
        payload_hash = hashlib.sha256(body).hexdigest()
        if headers.get("x-acs-content-sha256") != payload_hash:
            return Behaviour(code="SignatureDoesNotMatch", status=400)
        expected = v3_signature(
            self.access_key_secret,
            method,
            path,
            params,
            headers,
            parts.get("SignedHeaders", "").split(";"),
            payload_hash,
        )
        if not hmac.compare_digest(expected, parts.get("Signature", "")):
            return Behaviour(code="SignatureDoesNotMatch", status=400)
        return None


def v3_signature(
    secret: str,
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    signed_headers: list[str],
    payload_hash: str,
) -> str:
    """Alibaba Cloud's V3 request signature (ACS3-HMAC-SHA256), from the request's parts."""
    canonical_query = "&".join(f"{key}={quote(query[key], safe='~')}" for key in sorted(query))
    canonical_headers = "".join(
        f"{name}:{headers.get(name, '').strip()}\n" for name in signed_headers
    )
    canonical_request = "\n".join(
        [method, path, canonical_query, canonical_headers, ";".join(signed_headers), payload_hash]
    )
    to_sign = f"{SIGNATURE_ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def _handler_for(server: AliyunSmsTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # see twilio_server: ~40 ms per answer otherwise

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out, payload = server._answer(self.command, self.path, headers, body)
            try:
                self.send_response(status)
                for key, value in out.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        do_POST = _handle
        do_GET = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return  # requests carry phone numbers: keep quiet rather than print them

    return Handler


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted, for trying `liaison demo` or a worker against it by hand:

        python -m services.notifier.testing.aliyun_server --port 18090
        LIAISON_SMS_PROVIDER=aliyun LIAISON_ALIYUN_ENDPOINT=http://127.0.0.1:18090 \\
        ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI-test-key-id \\
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=test-access-key-secret \\
        LIAISON_ALIYUN_SIGN_NAME=流动党员联络 \\
        LIAISON_ALIYUN_TEMPLATE_CODES=liaison_digest=SMS_1,event_reminder=SMS_2,... \\
        liaison demo
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = AliyunSmsTestServer(host=args.host, any_template=True)
    httpd = ThreadingHTTPServer((args.host, args.port), _handler_for(server))
    server._server = httpd
    print(f"Alibaba Cloud SMS fake on http://{server.endpoint}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        print(f"accepted {len(server.sent())}, refused {len(server.refused())}", flush=True)


if __name__ == "__main__":
    main()
