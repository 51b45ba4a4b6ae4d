"""One dead count, from the delivery log, everywhere: the page's queue table, badge and
scheduler card, `liaison status`, `/metrics` and the alerts; dead notifications listed once,
grouped by reason, requeued once each with who did it in the log; workers seen."""

from __future__ import annotations

import re

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from services.notifier.heartbeat import WorkerHeartbeat, live_workers
from shared.db import transaction
from shared.models import Notification, NotificationEvent
from tests.cli import liaison
from tests.integration.web.conftest import Tokens, bearer, dashboard_login
from tests.integration.web.ledger import NOW

SMTP_DOWN = "gave up after {n} attempts; last error smtp: [Errno 111] Connection refused"
LOST = "a worker was lost while sending; whether the provider took it is unknown"


def plant_dead(engine: Engine, count: int, *, error: str, start: int = 0) -> list[int]:
    """`count` dead emails, as the notifier leaves them when SMTP stays down."""
    rows = [
        {
            "kind": "event_reminder",
            "channel": "email",
            "recipient_type": "member",
            "recipient_id": f"M{start + i:05d}",
            "address": f"m{start + i}@example.org",
            "locale": "zh-CN",
            "timezone": "Asia/Shanghai",
            "data": {},
            "occasion": "x",
            "idempotency_key": f"dead-{start + i}",
            "status": "dead",
            "attempts": 5,
            "last_error": error.format(n=5 - i % 2),
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i in range(count)
    ]
    with transaction(engine) as s:
        s.execute(insert(Notification), rows)
        return list(
            s.scalars(select(Notification.id).where(Notification.idempotency_key.like("dead-%")))
        )


def metric(client: TestClient, name: str) -> float:
    text = client.get("/metrics").text
    found = re.search(rf"^{name} (\S+)$", text, flags=re.MULTILINE)
    assert found, text
    return float(found[1])


def test_notifications_dead_in_the_delivery_log_raise_the_dead_alert(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    plant_dead(ledger, 3, error=SMTP_DOWN)
    alerts = client.get("/api/v1/alerts?lang=en", headers=bearer(tokens.ops)).json()
    dead = [a for a in alerts if a["key"] == "dead"]
    assert dead and dead[0]["message"].startswith("3 notifications died")


def test_the_page_the_status_command_and_metrics_give_the_same_dead_count(
    client: TestClient,
    tokens: Tokens,
    ledger: Engine,
    liaison_env: dict[str, str],
    redis_server_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # More than the fifty the old badge was capped at.
    plant_dead(ledger, 60, error=SMTP_DOWN)
    plant_dead(ledger, 11, error=LOST, start=100)
    dashboard_login(client, tokens.ops)
    page = client.get("/").text
    badge = re.search(r'id="dead-count">(\d+)<', page)
    queue_cell = re.search(
        r'data-queue="notifications">.*?data-field="dead">(\d+)<', page, flags=re.DOTALL
    )
    card = re.search(r'id="scheduler-counts">[^<]*?(\d+) 已放弃', page)
    assert badge and queue_cell and card, page
    assert {badge[1], queue_cell[1], card[1]} == {"71"}
    assert metric(client, "liaison_dead_notifications") == 71
    api = client.get("/api/v1/queues", headers=bearer(tokens.ops)).json()
    assert next(q["dead"] for q in api if q["name"] == "notifications") == 71
    monkeypatch.setenv("LIAISON_REDIS_URL", redis_server_url)
    # `liaison status` reads the real clock: a window reaching back to the planted deaths.
    monkeypatch.setenv("LIAISON_ALERT_DEAD_WINDOW_S", str(10**9))
    result = liaison("status", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Dead notifications: 71" in result.output
    assert "71 notifications died" in result.output


def test_dead_notifications_are_listed_once_grouped_by_reason(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    plant_dead(ledger, 4, error=SMTP_DOWN)
    plant_dead(ledger, 2, error=LOST, start=100)
    dashboard_login(client, tokens.ops)
    page = client.get("/").text
    groups = re.findall(r'<tr class="dead-group">\s*<td class="reason">([^<]*)</td>\s*'
                        r'<td class="num">(\d+)</td>', page)  # fmt: skip
    # Five attempts or four: one reason, the attempt count left out.
    assert groups == [("smtp: [Errno 111] Connection refused", "4"), (LOST, "2")]
    ids = re.findall(r'<tr class="dead-row" data-id="(\d+)"', page)
    assert len(ids) == len(set(ids)) == 6
    assert 'id="failed"' not in page  # nothing failed for good: no second list of the dead
    api = client.get("/api/v1/dead", headers=bearer(tokens.ops)).json()
    assert api["total"] == 6 and [g["count"] for g in api["groups"]] == [4, 2]


def test_requeue_of_one_reason_requeues_only_those_and_records_who_did_it(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    smtp = plant_dead(ledger, 3, error=SMTP_DOWN)
    lost = [i for i in plant_dead(ledger, 2, error=LOST, start=100) if i not in smtp]
    ask = {"scope": "reason", "reason": "smtp: [Errno 111] Connection refused"}
    done = client.post("/api/v1/dead/requeue", json=ask, headers=bearer(tokens.ops))
    assert done.status_code == 200 and done.json() == {"requeued": 3}
    again = client.post("/api/v1/dead/requeue", json=ask, headers=bearer(tokens.ops))
    assert again.json() == {"requeued": 0}  # once: they are no longer dead
    with Session(ledger) as s:
        statuses = dict(s.execute(select(Notification.id, Notification.status)).all())
        details = s.scalars(
            select(NotificationEvent.detail).where(NotificationEvent.status == "queued")
        ).all()
    assert {statuses[i] for i in smtp} == {"queued"} and {statuses[i] for i in lost} == {"dead"}
    ops_id = client.get("/api/v1/me", headers=bearer(tokens.ops)).json()["token_id"]
    assert len(details) == 3
    assert all(d.startswith(f"requeued by ops token #{ops_id}") for d in details), details
    refused = client.post("/api/v1/dead/requeue", json=ask, headers=bearer(tokens.manager_a))
    assert refused.status_code == 403
    empty = client.post(
        "/api/v1/dead/requeue", json={"scope": "reason"}, headers=bearer(tokens.ops)
    )
    assert empty.status_code == 422


def test_a_live_worker_is_listed_with_its_queues_and_gone_when_it_stops(
    client: TestClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    worker = WorkerHeartbeat(lambda: redis_client)
    worker.start(["notifications"], 4)
    try:
        seen = live_workers(redis_client)
        assert [(w.queues, w.threads) for w in seen] == [(("notifications",), 4)]
        queues = client.get("/api/v1/queues", headers=bearer(tokens.ops)).json()
        assert {q["name"]: q["workers"] for q in queues} == {"notifications": 1, "planning": 0}
        alerts = client.get("/api/v1/alerts", headers=bearer(tokens.ops)).json()
        assert "no_worker" not in [a["key"] for a in alerts]
    finally:
        worker.stop()
    assert live_workers(redis_client) == []
    alerts = client.get("/api/v1/alerts", headers=bearer(tokens.ops)).json()
    assert "no_worker" in [a["key"] for a in alerts]


def test_the_api_docs_page_loads_nothing_from_another_origin(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "https://" not in page.text and "<script>" not in page.text
    assert "/api/v1/dead/requeue" in page.text
    assert "cdn" not in page.headers["content-security-policy"]


def test_compliance_defaults_to_the_root_with_members_and_marks_low_shares(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    with transaction(ledger) as s:  # a host organization with nobody in it, sorted first
        s.execute(insert(Notification.metadata.tables["organizations"]),
                  [{"code": "0HOST", "name": "托管单位", "parent_code": None,
                    "timezone": "Asia/Shanghai"}])  # fmt: skip
    dashboard_login(client, tokens.admin)
    overview = client.get("/").text
    assert 'href="/compliance?org=C&period=' in overview
    page = client.get("/compliance?period=2026-Q4").text
    assert "县委" in page and "托管单位 ·" not in page
    cells = re.findall(r'<td class="num ([^"]*)" data-field="(?:contacts|visits)">'
                       r'<span class="share">([^<]*)</span>', page)  # fmt: skip
    assert any("low" in c[0] for c in cells), cells  # the seeded ledger has a low share
    for cell in cells:
        share = cell[1]
        low = share.endswith("%") and float(share[:-1]) < 80
        assert ("low" in cell[0]) == low, cell
    assert "迁移未配联络员" in page  # the column `liaison report` has


def test_the_pages_are_chinese_by_default_with_an_english_switch(
    client: TestClient, tokens: Tokens
) -> None:
    dashboard_login(client, tokens.ops)
    page = client.get("/").text
    assert '<html lang="zh-CN">' in page and "队列" in page and 'href="/?lang=en"' in page
    english = client.get("/?lang=en").text
    assert '<html lang="en">' in english and "Queues" in english
    assert '<html lang="en">' in client.get("/").text  # remembered
    assert "UTC" not in english and not re.search(r"\d{2}:\d{2}:\d{2}\.\d{6}", english)


def test_a_requeue_by_hand_of_a_notification_no_longer_dead_changes_nothing(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    ids = plant_dead(ledger, 2, error=SMTP_DOWN)
    with transaction(ledger) as s:
        s.execute(update(Notification).where(Notification.id == ids[0]).values(status="sent"))
    done = client.post(
        "/api/v1/dead/requeue", json={"scope": "ids", "ids": ids}, headers=bearer(tokens.ops)
    )
    assert done.json() == {"requeued": 1}
