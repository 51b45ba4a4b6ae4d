"""Security headers on every response, and the one page that needs a looser policy.

The dashboard is plain HTML with one script file and one stylesheet from /static, so its
Content-Security-Policy allows only this origin, no inline script or style, no plugins,
and no framing (`frame-ancestors 'none'`, and X-Frame-Options for older browsers).
The middleware sits outside everything, so refusals made before routing (413, the NUL
400) carry the headers too; a response that sets its own policy keeps it.

`/docs` is a script-free page of our own (api_docs.py) under the same policy.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` on
    # our own form posts, and the CSRF check (csrf.py) must see our origin there.
    "Referrer-Policy": "same-origin",
}


class SecurityHeadersMiddleware:
    """Add SECURITY_HEADERS to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
