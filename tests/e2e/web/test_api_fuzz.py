"""Schemathesis fuzzes every operation of the OpenAPI description; no answer may be a
server error. Run as admin (which reaches every code path past authorization), on SQLite
and the real Redis, with a small example budget per operation to stay under a minute."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, given, settings
from starlette.testclient import TestClient

from services.web.app import create_app
from services.web.settings import WebSettings
from services.web.tokens import create_token
from shared.clock import FixedClock
from shared.settings import load_settings
from tests.conftest import _migrated_engine, reset_database
from tests.integration.web.ledger import NOW, seed_ledger, send_digest

MAX_EXAMPLES = 30  #: per operation


@pytest.fixture
def fuzz_app(sqlite_url: str, redis_server_url: str, tmp_path: Path) -> Iterator[object]:
    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    # A ticking scheduler, so that /readyz answers 200: its 503 is not a server error.
    client.set("liaison:scheduler:last_tick", str(NOW.timestamp()))
    engine = _migrated_engine(sqlite_url)
    reset_database(engine)
    seed_ledger(engine)
    send_digest(engine, "LA")
    settings_ = load_settings(
        {
            "LIAISON_DATABASE_URL": sqlite_url,
            "LIAISON_REDIS_URL": redis_server_url,
            "TWILIO_AUTH_TOKEN": "fuzz-token",
            "LIAISON_HOME": str(tmp_path),
        }
    )
    app = create_app(settings_, WebSettings(public_url="http://localhost"), clock=FixedClock(NOW))
    app.state.admin_token = create_token(engine, "admin", now=NOW).token
    with TestClient(app):
        yield app
    app.state.ctx.close()


@pytest.mark.slow
def test_no_operation_answers_with_a_server_error(fuzz_app: object) -> None:
    # schemathesis' pytest plugin (`from_fixture`) does not run under pytest 9, so each
    # operation's strategy is driven by Hypothesis here, as the plugin would.
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    token = fuzz_app.state.admin_token  # type: ignore[attr-defined]
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tried.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def no_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.text[:300]}"
            )

        no_server_error()
    assert "POST /webhooks/twilio/inbound" in tried
    assert "GET /api/v1/members/{member_id}/history" in tried
