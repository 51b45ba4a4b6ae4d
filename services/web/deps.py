"""Request dependencies: the app's context and the calling principal.

A caller is either a bearer token (the API's clients) or a dashboard session cookie
(sessions.py). A request the cookie authenticates that changes something must also
come from our own page (csrf.py): a browser sends the cookie whoever made it send the
request, and SameSite=Strict alone leaves older browsers and same-site pages out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.web.context import WebContext
from services.web.csrf import CSRF_HEADER, SAFE_METHODS, check_csrf
from services.web.sessions import SESSION_COOKIE, session_principal
from services.web.tokens import Principal, authenticate

_bearer = HTTPBearer(auto_error=False, description="a token from `liaison token create`")


def get_ctx(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


def optional_principal(
    request: Request,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    now = ctx.clock.now()
    if credentials is not None:
        return authenticate(ctx.engine, credentials.credentials, now=now)
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    found = session_principal(ctx.engine, session_id, now=now)
    if found is not None and request.method not in SAFE_METHODS:
        check_csrf(request, ctx.web.public_url, request.headers.get(CSRF_HEADER), found.csrf)
    return found


def principal(
    found: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    """The caller; 401 without a valid token."""
    if found is None:
        raise HTTPException(401, "a valid token is required", {"WWW-Authenticate": "Bearer"})
    return found


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that lets only `roles` through (403 for any other valid token)."""

    def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        if caller.role not in roles:
            raise HTTPException(403, f"the {caller.role} role may not do this")
        return caller

    return check


Caller = Annotated[Principal, Depends(principal)]
Ctx = Annotated[WebContext, Depends(get_ctx)]
