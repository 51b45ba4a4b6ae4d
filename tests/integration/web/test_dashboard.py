"""The dashboard pages: login, the overview with every section, compliance drill-down."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from shared.db import transaction
from shared.models import Notification
from tests.integration.web.conftest import Tokens, dashboard_login
from tests.integration.web.ledger import send_digest


def login(client: TestClient, token: str) -> None:
    response = dashboard_login(client, token)
    assert response.status_code == 303, response.text


def test_the_dashboard_asks_for_a_login_first(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_a_ledger_role_cannot_log_in_to_the_dashboard(client: TestClient, tokens: Tokens) -> None:
    response = dashboard_login(client, tokens.manager_a)
    assert response.status_code == 401
    assert "liaison_token" not in response.headers.get("set-cookie", "")


def test_the_overview_shows_queues_dead_letters_failures_and_the_chart_masked(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    send_digest(ledger, "LA")
    send_digest(ledger, "LB")
    with transaction(ledger) as s:
        s.execute(update(Notification).where(Notification.id == 1).values(status="dead"))
        s.execute(
            update(Notification)
            .where(Notification.id == 2)
            .values(status="failed", last_error="provider error 21211")
        )
    login(client, tokens.ops)
    page = client.get("/").text
    assert 'data-queue="notifications"' in page
    assert 'class="dead-row"' in page and "+86 138****0001" in page
    assert "provider error 21211" in page and "+86 139****0002" in page
    assert "<svg" in page and "未在运行" in page
    assert "13800000001" not in page and "13900000002" not in page


def test_compliance_drills_down_the_tree(client: TestClient, tokens: Tokens) -> None:
    login(client, tokens.admin)
    top = client.get("/compliance?org=C&period=2026-Q4").text
    assert 'href="/compliance?org=A&period=2026-Q4"' in top and "org=B&" in top
    town = client.get("/compliance?org=A&period=2026-Q4").text
    assert "甲村支部" in town and "乙村支部" not in town
    assert client.get("/compliance?org=A&period=never").status_code == 200
