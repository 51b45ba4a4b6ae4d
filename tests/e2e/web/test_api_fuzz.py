"""Schemathesis fuzzes every operation of the OpenAPI description; no answer may be a
server error. Run as admin (which reaches every code path past authorization), on SQLite
and on PostgreSQL (which refuses NUL characters in text, where SQLite takes them), with the
real Redis and a small example budget per operation to stay under a minute each.

Besides schemathesis' own values (NUL characters included: `allow_x00` is on), every
string parameter and JSON field of every operation is also tried with a chosen hostile
value: a NUL inside, dates at the ends of the calendar, a far period, huge numbers and
long text. Each must be answered with less than 500."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from services.web.app import create_app
from services.web.settings import WebSettings
from services.web.tokens import create_token
from shared.clock import FixedClock
from shared.settings import load_settings
from shared.status_keys import LAST_TICK_KEY, status_record
from tests.conftest import _migrated_engine, reset_database
from tests.integration.web.ledger import NOW, seed_ledger, send_digest

MAX_EXAMPLES = 30  #: per operation
#: put in place of each string parameter or JSON field, one at a time
HOSTILE_VALUES = (
    "\x00",
    "M\x00A",
    "9999-12-31",
    "0001-01-01",
    "9999-Q4",
    "0000-H1",
    "9" * 40,
    "-" + "9" * 40,
    "x" * 10_000,
)
HOSTILE_CASES_PER_OPERATION = 3  #: drawn cases, each given every hostile value


@pytest.fixture
def fuzz_app(database_url: str, redis_server_url: str, tmp_path: Path) -> Iterator[object]:
    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    # A ticking scheduler, so that /readyz answers 200: its 503 is not a server error.
    client.set(LAST_TICK_KEY, status_record(NOW))
    engine = _migrated_engine(database_url)
    reset_database(engine)
    seed_ledger(engine)
    send_digest(engine, "LA")
    settings_ = load_settings(
        {
            "LIAISON_DATABASE_URL": database_url,
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


PARTS = ("path_parameters", "query", "body")


def _with_hostile(original: dict[str, Any], value: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The parts of a case with one string or JSON field replaced by `value`, each time."""
    for where in PARTS:
        params = original[where]
        if isinstance(params, dict):
            for name in params:
                yield f"{where}.{name}", {**original, where: {**params, name: value}}


def _try_hostile_values(operation: Any, token: str, failures: list[str]) -> int:
    """Draw cases of `operation`, give each field of each every hostile value; the number
    of requests made. Server errors (and exceptions) are added to `failures`."""
    tried = 0

    @given(data=st.data())
    @settings(
        max_examples=HOSTILE_CASES_PER_OPERATION,
        phases=[Phase.generate],  # failures are collected, not shrunk
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def hostile(data: st.DataObject) -> None:
        nonlocal tried
        case = data.draw(operation.as_strategy())
        original = {where: copy.deepcopy(getattr(case, where)) for where in PARTS}
        for value in HOSTILE_VALUES:
            for field, parts in _with_hostile(original, value):
                for where, replacement in parts.items():
                    setattr(case, where, copy.deepcopy(replacement))
                tried += 1
                what = f"{operation.label} {field}={value[:20]!r}"
                try:
                    response = case.call(headers={"Authorization": f"Bearer {token}"})
                except Exception as exc:  # the test client raises what the app raised
                    failures.append(f"{what}: {exc!r}")
                    continue
                if response.status_code >= 500:
                    failures.append(f"{what}: {response.status_code}")

    hostile()
    return tried


@pytest.mark.slow
def test_hostile_values_in_any_field_are_answered_without_a_server_error(
    fuzz_app: object,
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    token = fuzz_app.state.admin_token  # type: ignore[attr-defined]
    failures: list[str] = []
    tried = sum(
        _try_hostile_values(result.ok(), token, failures) for result in schema.get_all_operations()
    )
    assert tried > 100
    assert not failures, "\n".join(sorted(set(failures)))
