"""Dashboard sessions, API token expiry, CSRF on login and logout, fixed login messages,
security headers, and a liaison token asking about the past, on both databases."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from services.web.tokens import authenticate, create_token, revoke_token
from shared.clock import FixedClock
from shared.db import transaction
from shared.models import Assignment, WebSession
from tests.integration.web.conftest import (
    ORIGIN,
    Tokens,
    bearer,
    dashboard_login,
    login_csrf,
    page_csrf,
)
from tests.integration.web.ledger import NOW

SESSION_COOKIE = "liaison_session"


def logged_in(client: TestClient) -> bool:
    return client.get("/", follow_redirects=False).status_code == 200


# --- sessions -----------------------------------------------------------------------------


def test_the_dashboard_cookie_is_a_session_id_stored_hashed_not_the_token(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    response = dashboard_login(client, tokens.ops)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert tokens.ops not in cookie and "lia_" not in cookie
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    session_id = client.cookies[SESSION_COOKIE]
    with Session(ledger) as s:
        stored = s.scalars(select(WebSession.session_hash)).all()
    assert stored == [hashlib.sha256(session_id.encode()).hexdigest()]


def test_a_session_cookie_is_not_an_api_token(client: TestClient, tokens: Tokens) -> None:
    dashboard_login(client, tokens.ops)
    session_id = client.cookies[SESSION_COOKIE]
    assert client.get("/api/v1/me", headers=bearer(session_id)).status_code == 401


def test_logout_revokes_the_session_on_the_server(client: TestClient, tokens: Tokens) -> None:
    dashboard_login(client, tokens.ops)
    stolen = client.cookies[SESSION_COOKIE]
    csrf = page_csrf(client)
    response = client.post(
        "/logout", data={"csrf": csrf}, headers={"Origin": ORIGIN}, follow_redirects=False
    )
    assert response.status_code == 303
    client.cookies.set(SESSION_COOKIE, stolen)  # a copy kept by whoever took it
    assert not logged_in(client)


def test_a_session_expires(client: TestClient, tokens: Tokens, clock: FixedClock) -> None:
    dashboard_login(client, tokens.ops)
    assert logged_in(client)
    clock.advance(timedelta(hours=12, seconds=1))
    assert not logged_in(client)


def test_a_session_ends_with_the_token_it_was_opened_with(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    dashboard_login(client, tokens.ops)
    principal = authenticate(ledger, tokens.ops, now=NOW)
    assert principal is not None and revoke_token(ledger, principal.token_id, now=NOW)
    assert not logged_in(client)


def test_ended_sessions_are_deleted_when_the_next_one_opens(
    client: TestClient, tokens: Tokens, ledger: Engine, clock: FixedClock
) -> None:
    dashboard_login(client, tokens.ops)
    clock.advance(timedelta(hours=13))
    dashboard_login(client, tokens.ops)
    with Session(ledger) as s:
        assert len(s.scalars(select(WebSession)).all()) == 1


# --- API token expiry ---------------------------------------------------------------------


def test_a_token_made_to_expire_is_refused_after_it(
    client: TestClient, ledger: Engine, clock: FixedClock
) -> None:
    token = create_token(ledger, "ops", now=NOW, expires_at=NOW + timedelta(days=30)).token
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    clock.advance(timedelta(days=30))
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert dashboard_login(client, token).status_code == 401


# --- CSRF ---------------------------------------------------------------------------------


def test_a_login_without_the_forms_csrf_token_is_refused(
    client: TestClient, tokens: Tokens
) -> None:
    login_csrf(client)  # the cookie half is there; the form half is missing
    response = client.post(
        "/login", data={"token": tokens.ops}, headers={"Origin": ORIGIN}, follow_redirects=False
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_a_login_posted_from_another_site_is_refused(client: TestClient, tokens: Tokens) -> None:
    csrf = login_csrf(client)
    response = client.post(
        "/login",
        data={"token": tokens.ops, "csrf": csrf},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_a_logout_posted_from_another_site_leaves_the_session(
    client: TestClient, tokens: Tokens
) -> None:
    dashboard_login(client, tokens.ops)
    assert client.post("/logout", follow_redirects=False).status_code == 403
    csrf = page_csrf(client)
    response = client.post(
        "/logout",
        data={"csrf": csrf},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert logged_in(client)


def test_a_requeue_through_the_session_needs_the_pages_csrf_header(
    client: TestClient, tokens: Tokens
) -> None:
    dashboard_login(client, tokens.ops)
    body = {"source": "outbox", "ref": "1"}
    assert client.post("/api/v1/dead-letters/requeue", json=body).status_code == 403
    csrf = page_csrf(client)
    response = client.post(
        "/api/v1/dead-letters/requeue", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 200


# --- pages --------------------------------------------------------------------------------


def test_the_login_page_shows_no_text_from_the_query_string(client: TestClient) -> None:
    page = client.get("/login?error=Your+account+is+locked%2C+call+0311-5550199").text
    assert "locked" not in page and "5550199" not in page
    assert "会话已结束" in client.get("/login?error=expired").text
    assert "Your session has ended" in client.get("/login?error=expired&lang=en").text


@pytest.mark.parametrize(
    "path",
    ["/login", "/", "/healthz", "/api/v1/me", "/static/dashboard.css", "/no-such-page", "/docs"],
)
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src


def test_refusals_before_routing_carry_the_security_headers_too(client: TestClient) -> None:
    for response in (
        client.get("/api/v1/me?x=%00"),
        client.post("/login", content=b"x" * 100_000),
    ):
        assert response.status_code in (400, 413)
        assert response.headers["x-frame-options"] == "DENY"


# --- a liaison asking about the past ------------------------------------------------------


def test_a_liaison_asking_about_the_past_sees_only_its_current_members(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    # MA moved from LA to LB on 2026-11-01; LA asks about October.
    with transaction(ledger) as s:
        s.execute(
            update(Assignment)
            .where(Assignment.member_id == "MA")
            .values(to_date=date(2026, 10, 31))
        )
        s.execute(
            insert(Assignment).values(member_id="MA", liaison_id="LB", from_date=date(2026, 11, 1))
        )
    url = "/api/v1/liaisons/LA/tasks?as_of=2026-10-15"
    as_liaison = client.get(url, headers=bearer(tokens.liaison_a))
    assert as_liaison.status_code == 200
    assert "MA" not in {t["member_id"] for t in as_liaison.json()}
    as_admin = client.get(url, headers=bearer(tokens.admin))
    assert "MA" in {t["member_id"] for t in as_admin.json()}
