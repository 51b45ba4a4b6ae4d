"""The application factory: one FastAPI app with the webhooks, the API, health, metrics
and the dashboard. Building it connects to nothing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp

from services.bootstrap import bootstrap
from services.notifier import every_mailer, ops_robot_mailer
from services.web import aliyun_receipts, api, dashboard, health, liaison_page, webhooks
from services.web.alert_loop import AlertLoop
from services.web.api_docs import add_api_docs
from services.web.context import WebContext
from services.web.headers import SecurityHeadersMiddleware
from services.web.inputs import RejectNulMiddleware
from services.web.mailer import ops_mailer
from services.web.metrics import build_registry
from services.web.settings import WebSettings, load_web_settings
from shared.clock import Clock
from shared.settings import Settings

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
#: bytes: the largest request body any route reads. Twilio's forms are a few hundred bytes,
#: an interaction or the login form smaller still. FastAPI refuses a larger body with 413
#: while it streams in (a declared Content-Length before a byte is read, a chunked or
#: lying one at the chunk that crosses the limit), so an unauthenticated 400 MB POST costs
#: one read buffer, not 400 MB (docs/security.md has the measurement).
MAX_BODY_BYTES = 64 * 1024


class _App(FastAPI):
    """FastAPI with the security headers outside its whole stack: FastAPI's own body limit
    and error pages answer outside the middleware `add_middleware` can place, and those
    answers need the headers as much as any page."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(super().build_middleware_stack())


def create_app(
    settings: Settings,
    web: WebSettings | None = None,
    *,
    clock: Clock | None = None,
    run_alerts: bool = False,
) -> FastAPI:
    """The web app for `settings`; `run_alerts` starts the periodic alert checks with it."""
    wiring = bootstrap(settings, clock=clock)
    ctx = WebContext(settings, web or load_web_settings(), wiring.clock, wiring=wiring)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.twilio_auth_token and not ctx.web.public_url:
            log.warning(
                "TWILIO_AUTH_TOKEN is set but LIAISON_PUBLIC_URL is not: the Twilio webhooks "
                "answer 503 until it names the URL Twilio calls"
            )
        # Alerts go to the ops mail and to the WeCom group robot, whichever are configured.
        mailer = every_mailer(ops_mailer(settings), ops_robot_mailer(settings))
        loop = AlertLoop(ctx, mailer) if run_alerts else None
        if loop is not None:
            loop.start()
        try:
            yield
        finally:
            if loop is not None:
                loop.stop()

    app = _App(
        title="liaison",
        version="0.1.0",
        description="Twilio webhooks, the REST API for liaisons and managers, health, metrics "
        "and the ops dashboard.",
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
        # /docs is our own script-free page (api_docs.py): Swagger UI and ReDoc load
        # their code from a CDN, blank offline; the OAuth redirect page is not used.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.ctx = ctx
    app.add_middleware(RejectNulMiddleware)
    registry = build_registry(ctx)

    @app.get("/metrics", tags=["health"], response_class=Response)
    def metrics() -> Response:
        """Prometheus text format; figures are read at scrape time."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(health.router)
    app.include_router(webhooks.router)
    app.include_router(aliyun_receipts.router)
    app.include_router(api.router)
    app.include_router(dashboard.router)
    app.include_router(liaison_page.router)
    add_api_docs(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
