"""The twilio SDK's HTTP transport on a urllib3 keep-alive pool, instead of `requests`.

The SDK builds the request (URL, form, headers, auth) and reads the answer into its
objects and errors; only the wire changes. `TwilioHttpClient` goes through requests'
session machinery (hooks, cookie jar, environment proxies, redirect resolution) on every
call: about a tenth of a worker's time per message in the issue-18 profile. Here the same
request is one `urlopen` on a pooled connection kept alive between messages.

A request is retried only when it provably never left: the TCP connection could not be
made (refused, unreachable, connect timeout). A request that may have reached Twilio — a
read timeout, a connection dropped mid-answer — is never sent again here: that could send
the SMS twice. It fails as a transient error, and the delivery retry decides (as before).
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import urllib3
from twilio.http import HttpClient
from twilio.http.response import Response
from urllib3.exceptions import HTTPError, MaxRetryError, ReadTimeoutError

from shared.errors import TransientDeliveryError

log = logging.getLogger(__name__)

POOL_SIZE = 32  #: connections kept alive per host: more than a worker's threads
CONNECT_RETRIES = 2  #: new attempts to connect when connecting failed (nothing was sent)


def _never_resend() -> urllib3.Retry:
    # connect: retried; read, status, redirect and anything else: never (the request may
    # have been received). urllib3 counts a dropped pooled connection as a read error.
    return urllib3.Retry(
        total=CONNECT_RETRIES,
        connect=CONNECT_RETRIES,
        read=0,
        status=0,
        other=0,
        redirect=0,
        raise_on_status=False,
        respect_retry_after_header=False,
    )


class KeepAliveHttpClient(HttpClient):  # type: ignore[misc]
    """`twilio.http.HttpClient` on a urllib3 `PoolManager` (thread-safe, shared by a
    worker's threads)."""

    def __init__(self, *, timeout_s: float, logger: logging.Logger | None = None) -> None:
        super().__init__(logger or logging.getLogger("twilio.http_client"), False, timeout_s)
        self.pool = urllib3.PoolManager(maxsize=POOL_SIZE, block=False, retries=_never_resend())

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        seconds = self.timeout if timeout is None else timeout
        wanted = dict(headers or {})
        if auth is not None:
            wanted.update(urllib3.make_headers(basic_auth=f"{auth[0]}:{auth[1]}"))
        if params:
            url = f"{url}?{urlencode(params, doseq=True)}"
        body = None
        if data is not None and method.upper() in ("POST", "PUT"):
            body = urlencode(data, doseq=True).encode("utf-8")
            wanted.setdefault("Content-Type", "application/x-www-form-urlencoded")
        try:
            answer = self.pool.request(
                method.upper(),
                url,
                body=body,
                headers=wanted,
                timeout=urllib3.Timeout(connect=seconds, read=seconds),
                redirect=allow_redirects,
                preload_content=True,
            )
        except MaxRetryError as exc:
            raise _transient(exc.reason or exc) from exc
        except HTTPError as exc:
            raise _transient(exc) from exc
        return Response(answer.status, answer.data.decode("utf-8", "replace"), answer.headers)


def _transient(exc: BaseException) -> TransientDeliveryError:
    if isinstance(exc, ReadTimeoutError):
        return TransientDeliveryError("Twilio did not answer in time", code="timeout")
    return TransientDeliveryError(f"cannot reach Twilio: {type(exc).__name__}", code="connection")
