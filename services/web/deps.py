"""Request dependencies: the app's context and the calling principal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.web.context import WebContext
from services.web.tokens import Principal, authenticate

COOKIE_NAME = "liaison_token"  #: the dashboard keeps the ops token here (HttpOnly)

_bearer = HTTPBearer(auto_error=False, description="a token from `liaison token create`")


def get_ctx(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


def optional_principal(
    request: Request,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    token = credentials.credentials if credentials is not None else request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    return authenticate(ctx.engine, token)


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
