"""Cross-site request forgery: a form or script request must come from our own pages.

Two checks, both needed for a request a cookie authenticates:

- the Origin header, when the browser sends one (every current browser does on a POST),
  must be ours: LIAISON_PUBLIC_URL, or the origin the request itself was addressed to
  (what a browser talking to us directly sends). `Origin: null` is never ours;
- a token only our pages know: for /login, before any session, a double-submit cookie
  (a random value in a SameSite=Strict cookie and the same in the form); once logged in,
  the session's own token, in the logout form and in the script's `X-CSRF-Token` header.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request

LOGIN_CSRF_COOKIE = "liaison_login_csrf"
CSRF_FIELD = "csrf"  #: the form field
CSRF_HEADER = "X-CSRF-Token"  #: the script's header
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_origin(request: Request, public_url: str) -> bool:
    """False when the request names an Origin that is not ours; True when it names ours or
    none (the token check must then carry the weight alone)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    ours = {f"{request.url.scheme}://{request.url.netloc}"}
    if public_url:
        ours.add(public_url)
    return origin in ours


def tokens_match(sent: str | None, expected: str | None) -> bool:
    """Both present and equal, compared in constant time."""
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


def check_csrf(request: Request, public_url: str, sent: str | None, expected: str | None) -> None:
    """403 unless the request comes from our own page and carries the expected token."""
    if not same_origin(request, public_url) or not tokens_match(sent, expected):
        raise HTTPException(403, "cross-site request refused; reload the page and try again")
