"""Request bodies are refused at the size limit while they stream in: the app is driven
through ASGI directly, so the test sees how many chunks of a 400 MB upload it pulled.

(Starlette's TestClient reads a request body whole before the app sees it, which would
hide exactly what is tested here.)"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from services.web.app import create_app
from services.web.settings import WebSettings
from shared.settings import load_settings

CHUNK = b"a" * (1024 * 1024)  #: 1 MiB per receive, as a fast client would send it
UPLOAD_CHUNKS = 400  #: 400 MiB in all
ROUTES_WITH_BODIES = (
    "/webhooks/twilio/inbound",
    "/webhooks/twilio/status",
    "/login",
    "/logout",
    "/api/v1/members/MA/interactions",
    "/api/v1/dead-letters/requeue",
)


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    settings = load_settings(
        {
            "LIAISON_DATABASE_URL": f"sqlite:///{tmp_path / 'never-opened.sqlite3'}",
            "LIAISON_REDIS_URL": "redis://127.0.0.1:1/0",
            "TWILIO_AUTH_TOKEN": "limits-token",
            "LIAISON_HOME": str(tmp_path),
        }
    )
    return create_app(settings, WebSettings(public_url="https://liaison.example.org"))


def post_streaming(
    app: FastAPI, path: str, *, content_length: int | None
) -> tuple[int, int, dict[str, str]]:
    """POST 400 MiB to `path` chunk by chunk; (status, chunks pulled by the app, headers)."""
    pulled = 0
    started: dict[str, Any] = {}
    headers = [
        (b"host", b"liaison.example.org"),
        (b"content-type", b"application/x-www-form-urlencoded"),
    ]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("liaison.example.org", 443),
    }

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled >= UPLOAD_CHUNKS:
            return {"type": "http.disconnect"}
        pulled += 1
        return {"type": "http.request", "body": CHUNK, "more_body": pulled < UPLOAD_CHUNKS}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    response_headers = {k.decode(): v.decode() for k, v in started.get("headers", [])}
    return int(started["status"]), pulled, response_headers


@pytest.mark.parametrize("path", ROUTES_WITH_BODIES)
def test_a_body_declared_too_large_is_refused_before_any_of_it_is_read(
    app: FastAPI, path: str
) -> None:
    status, pulled, _ = post_streaming(app, path, content_length=len(CHUNK) * UPLOAD_CHUNKS)
    assert status == 413
    assert pulled == 0


@pytest.mark.parametrize("path", ROUTES_WITH_BODIES)
def test_a_streamed_body_without_a_length_is_refused_at_the_limit(app: FastAPI, path: str) -> None:
    status, pulled, _ = post_streaming(app, path, content_length=None)
    assert status == 413
    assert pulled == 1  # the first MiB already passes the limit: nothing more is read


def test_a_body_longer_than_its_declared_length_is_refused_at_the_limit(app: FastAPI) -> None:
    # A server behind a proxy may be handed a body whose length header lies.
    status, pulled, _ = post_streaming(app, "/webhooks/twilio/inbound", content_length=100)
    assert status == 413
    assert pulled == 1
