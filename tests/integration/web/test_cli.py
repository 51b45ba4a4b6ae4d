"""`liaison token create|revoke` and `liaison status` on both databases."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.web.tokens import authenticate, hash_token
from shared.models import ApiToken
from tests.cli import liaison


def run(*args: str) -> tuple[int, str]:
    result = liaison(*args)
    return result.exit_code, result.output


def test_a_token_is_printed_once_stored_hashed_and_revocable(
    liaison_env: dict[str, str], ledger: Engine
) -> None:
    code, out = run("token", "create", "--role", "org_manager", "--org", "A")
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    principal = authenticate(ledger, token)
    assert principal is not None and (principal.role, principal.org) == ("org_manager", "A")
    with Session(ledger) as s:
        stored = s.scalars(select(ApiToken.token_hash)).all()
    assert stored == [hash_token(token)] and token not in stored
    code, out = run("token", "revoke", str(principal.token_id))
    assert code == 0 and authenticate(ledger, token) is None
    code, _ = run("token", "revoke", str(principal.token_id))
    assert code != 0


@pytest.mark.parametrize(
    "args",
    [
        ("--role", "org_manager"),
        ("--role", "liaison", "--org", "A"),
        ("--role", "root"),
        ("--role", "org_manager", "--org", "NOWHERE"),
    ],
)
def test_a_token_with_a_mismatched_scope_is_refused(
    liaison_env: dict[str, str], ledger: Engine, args: tuple[str, ...]
) -> None:
    code, _ = run("token", "create", *args)
    assert code != 0
    with Session(ledger) as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_status_prints_the_queues_scheduler_and_alerts(
    liaison_env: dict[str, str],
    ledger: Engine,
    redis_server_url: str,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIAISON_REDIS_URL", redis_server_url)
    redis_client.zadd("liaison:notifications.XQ", {"x": 1})
    code, out = run("status")
    assert code == 0, out
    assert "notifications" in out and "未在运行" in out
    assert "告警 调度器最近一次运行：从未运行" in out
    code, out = run("status", "--lang", "en")
    assert code == 0, out
    assert "not ticking" in out and "ALERT the scheduler last ticked never" in out


def test_a_token_made_with_expires_days_carries_its_expiry(
    liaison_env: dict[str, str], ledger: Engine
) -> None:
    code, out = run("token", "create", "--role", "ops", "--expires-days", "30")
    assert code == 0, out
    assert "expires" in out
    with Session(ledger) as s:
        row = s.scalars(select(ApiToken)).one()
    assert row.expires_at is not None
    assert 29 <= (row.expires_at - row.created_at).days <= 30
