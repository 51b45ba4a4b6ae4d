"""Security headers on every response, and the one page that needs a looser policy.

The dashboard is plain HTML with one script file and one stylesheet from /static, so its
Content-Security-Policy allows only this origin, no inline script or style, no plugins,
and no framing (`frame-ancestors 'none'`, and X-Frame-Options for older browsers).
The middleware sits outside everything, so refusals made before routing (413, the NUL
400) carry the headers too; a response that sets its own policy keeps it.

`/docs` (Swagger UI) loads its script and stylesheet from jsDelivr and starts itself with
one inline script: its policy names that CDN and the inline script's SHA-256, computed
from the page as served, so no inline script runs that is not exactly that one.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
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
SWAGGER_CDN = "https://cdn.jsdelivr.net"
SWAGGER_FAVICON_HOST = "https://fastapi.tiangolo.com"


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


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions for each inline <script> of `html`."""
    bodies = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in bodies
    ]


def add_swagger_ui(app: FastAPI, path: str = "/docs") -> None:
    """Serve Swagger UI at `path` under a policy that lets exactly its own scripts run."""
    page = get_swagger_ui_html(openapi_url=app.openapi_url or "", title=f"{app.title} API")
    html = bytes(page.body).decode()
    csp = (
        f"default-src 'self'; script-src 'self' {SWAGGER_CDN} "
        + " ".join(inline_script_hashes(html))
        + f"; style-src 'self' {SWAGGER_CDN}; img-src 'self' data: {SWAGGER_FAVICON_HOST}; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )

    @app.get(path, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})
