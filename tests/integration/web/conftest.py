"""Fixtures for the web tests: the app on the test database and the real Redis, a fixed
clock, Twilio's signing, tokens of every role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from twilio.request_validator import RequestValidator

from services.web.app import create_app
from services.web.settings import WebSettings
from services.web.tokens import create_token
from shared.clock import FixedClock
from shared.settings import load_settings
from tests.integration.web.ledger import NOW, seed_ledger

AUTH_TOKEN = "web-test-auth-token"
PUBLIC_URL = "https://liaison.example.org"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def ledger(engine: Engine) -> Engine:
    seed_ledger(engine)
    return engine


@pytest.fixture
def client(
    ledger: Engine,
    database_url: str,
    redis_server_url: str,
    redis_client: redis.Redis,
    clock: FixedClock,
    tmp_path: object,
) -> Iterator[TestClient]:
    settings = load_settings(
        {
            "LIAISON_DATABASE_URL": database_url,
            "LIAISON_REDIS_URL": redis_server_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "LIAISON_HOME": str(tmp_path),
        }
    )
    app = create_app(settings, WebSettings(public_url=PUBLIC_URL), clock=clock)
    with TestClient(app) as c:
        yield c
    app.state.ctx.close()


@dataclass(frozen=True)
class Tokens:
    admin: str
    ops: str
    manager_a: str  #: org_manager of town A
    manager_b: str  #: org_manager of town B
    liaison_a: str
    liaison_b: str


@pytest.fixture
def tokens(ledger: Engine) -> Tokens:
    def make(role: str, **kw: str) -> str:
        return create_token(ledger, role, now=NOW, **kw).token  # type: ignore[arg-type]

    return Tokens(
        admin=make("admin"),
        ops=make("ops"),
        manager_a=make("org_manager", org="A"),
        manager_b=make("org_manager", org="B"),
        liaison_a=make("liaison", liaison_id="LA"),
        liaison_b=make("liaison", liaison_id="LB"),
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def twilio_post(
    client: TestClient, path: str, form: dict[str, str], *, token: str = AUTH_TOKEN
) -> object:
    """POST `form` to `path` signed as Twilio signs it, for the public URL."""
    signature = RequestValidator(token).compute_signature(PUBLIC_URL + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


ORIGIN = "http://testserver"  #: the TestClient's own origin, as a browser would send it


def login_csrf(client: TestClient) -> str:
    """The CSRF token of a freshly loaded login form (its cookie is now in the client)."""
    page = client.get("/login").text
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, page
    return match[1]


def dashboard_login(client: TestClient, token: str) -> Any:
    """Log in through the form, as a browser on the dashboard's own page would."""
    csrf = login_csrf(client)
    return client.post(
        "/login",
        data={"token": token, "csrf": csrf},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )


def page_csrf(client: TestClient) -> str:
    """The session's CSRF token, as the dashboard's pages carry it."""
    page = client.get("/").text
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, page
    return match[1]
