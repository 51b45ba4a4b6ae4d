"""Twilio's request signature (`X-Twilio-Signature`), checked with the SDK's validator.

Twilio signs the full URL it called plus the POSTed form fields with the account's auth
token. The URL checked is always LIAISON_PUBLIC_URL plus the path and query: never one
built from the request, whose Host header the client chooses (a request signed for
another host, or for any host an attacker can get a signature for, would pass). Without
a public URL the webhooks refuse every request (webhooks.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def signed_url(public_url: str, path: str, query: str) -> str:
    """The URL Twilio called: the public base plus the path and query."""
    return public_url + path + (f"?{query}" if query else "")


def is_signed(auth_token: str, url: str, form: Mapping[str, str], signature: str | None) -> bool:
    """True when `signature` is Twilio's for `url` and `form`; never without a token."""
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(form), signature))
