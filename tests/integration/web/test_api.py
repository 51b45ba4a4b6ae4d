"""The REST API on both databases: each endpoint gives its data to the caller entitled to
it, and a caller from another organization gets 403 or 404, never the data."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.web.tokens import revoke_token
from tests.integration.web.conftest import Tokens, bearer
from tests.integration.web.ledger import NOW, PHONE_LA, send_digest

DENIED = (403, 404)


def test_a_request_without_a_token_is_unauthorized(client: TestClient, tokens: Tokens) -> None:
    assert client.get("/api/v1/liaisons/LA/tasks").status_code == 401
    assert client.get("/api/v1/me", headers=bearer("lia_made-up")).status_code == 401


def test_a_revoked_token_no_longer_works(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    me = client.get("/api/v1/me", headers=bearer(tokens.liaison_a)).json()
    assert me["role"] == "liaison" and me["liaison_id"] == "LA"
    assert revoke_token(ledger, me["token_id"], now=NOW)
    assert client.get("/api/v1/me", headers=bearer(tokens.liaison_a)).status_code == 401


@pytest.mark.parametrize("who", ["admin", "manager_a", "liaison_a"])
def test_a_liaisons_tasks_are_given_to_those_entitled(
    client: TestClient, tokens: Tokens, who: str
) -> None:
    response = client.get(
        "/api/v1/liaisons/LA/tasks?as_of=2026-11-20", headers=bearer(getattr(tokens, who))
    )
    assert response.status_code == 200
    tasks = response.json()
    assert [t["number"] for t in tasks] == list(range(1, len(tasks) + 1))
    assert {t["member_id"] for t in tasks} == {"MA"}


@pytest.mark.parametrize("who", ["manager_b", "liaison_b", "ops"])
def test_a_liaisons_tasks_are_refused_to_anyone_else(
    client: TestClient, tokens: Tokens, who: str
) -> None:
    response = client.get("/api/v1/liaisons/LA/tasks", headers=bearer(getattr(tokens, who)))
    assert response.status_code in DENIED
    assert "MA" not in response.text


@pytest.mark.parametrize("who", ["admin", "manager_a", "liaison_a"])
def test_an_interaction_is_recorded_by_those_entitled(
    client: TestClient, tokens: Tokens, who: str
) -> None:
    body = {"on": "2026-11-19", "kind": "visit", "place": "home", "liaison_id": "LA"}
    if who == "liaison_a":
        body.pop("liaison_id")
    response = client.post(
        "/api/v1/members/MA/interactions", json=body, headers=bearer(getattr(tokens, who))
    )
    assert response.status_code == 201, response.text
    history = client.get("/api/v1/members/MA/history", headers=bearer(tokens.admin)).json()
    visits = [f for f in history["facts"] if f["kind"] == "interaction"]
    assert visits == [
        {
            "kind": "interaction",
            "on": "2026-11-19",
            "detail": "visit @home",
            "liaison_id": "LA",
            "source": "api",
        }
    ]


@pytest.mark.parametrize("who", ["manager_b", "liaison_b", "ops"])
def test_recording_for_another_organizations_member_is_refused(
    client: TestClient, tokens: Tokens, who: str
) -> None:
    response = client.post(
        "/api/v1/members/MA/interactions",
        json={"on": "2026-11-19", "kind": "phone"},
        headers=bearer(getattr(tokens, who)),
    )
    assert response.status_code in DENIED
    history = client.get("/api/v1/members/MA/history", headers=bearer(tokens.admin)).json()
    assert [f for f in history["facts"] if f["kind"] == "interaction"] == []


def test_an_invalid_interaction_is_refused_with_the_problem(
    client: TestClient, tokens: Tokens
) -> None:
    response = client.post(
        "/api/v1/members/MA/interactions",
        json={"on": "2026-11-19", "kind": "phone", "liaison_id": "NOBODY"},
        headers=bearer(tokens.admin),
    )
    assert response.status_code == 422 and "NOBODY" in response.text


@pytest.mark.parametrize("who", ["admin", "manager_a", "liaison_a"])
def test_a_members_history_is_given_masked_to_those_entitled(
    client: TestClient, tokens: Tokens, who: str
) -> None:
    response = client.get("/api/v1/members/MA/history", headers=bearer(getattr(tokens, who)))
    assert response.status_code == 200
    body = response.json()
    assert body["liaison_id"] == "LA" and body["phone"] == "+86 137****5678"
    assert "110105" not in response.text and "13712345678" not in response.text


@pytest.mark.parametrize("who", ["manager_b", "liaison_b", "ops"])
def test_a_members_history_is_refused_to_anyone_else(
    client: TestClient, tokens: Tokens, who: str
) -> None:
    response = client.get("/api/v1/members/MA/history", headers=bearer(getattr(tokens, who)))
    assert response.status_code in DENIED
    assert "张三" not in response.text


def test_an_unknown_member_and_another_orgs_member_look_the_same(
    client: TestClient, tokens: Tokens
) -> None:
    other = client.get("/api/v1/members/MB/history", headers=bearer(tokens.manager_a))
    missing = client.get("/api/v1/members/NOPE/history", headers=bearer(tokens.manager_a))
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()


@pytest.mark.parametrize("who", ["admin", "manager_a", "ops"])
def test_compliance_is_given_for_an_organization_in_scope(
    client: TestClient, tokens: Tokens, who: str
) -> None:
    response = client.get(
        "/api/v1/organizations/A/compliance?period=2026-Q4", headers=bearer(getattr(tokens, who))
    )
    assert response.status_code == 200
    rows = response.json()["rows"]
    assert [(r["org"], r["depth"], r["members"]) for r in rows] == [("A", 0, 1), ("A1", 1, 1)]


@pytest.mark.parametrize(
    ("who", "org"),
    [("manager_b", "A"), ("manager_b", "A1"), ("manager_a", "C"), ("liaison_a", "A")],
)
def test_compliance_is_refused_outside_the_callers_subtree(
    client: TestClient, tokens: Tokens, who: str, org: str
) -> None:
    response = client.get(
        f"/api/v1/organizations/{org}/compliance?period=2026-Q4",
        headers=bearer(getattr(tokens, who)),
    )
    assert response.status_code in DENIED
    assert "rows" not in response.text


def test_a_malformed_period_is_a_client_error(client: TestClient, tokens: Tokens) -> None:
    response = client.get(
        "/api/v1/organizations/A/compliance?period=soon", headers=bearer(tokens.admin)
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", {"LA", "LB"}),
        ("ops", {"LA", "LB"}),
        ("manager_a", {"LA"}),
        ("manager_b", {"LB"}),
        ("liaison_a", {"LA"}),
        ("liaison_b", {"LB"}),
    ],
)
def test_the_delivery_log_holds_only_the_callers_part_masked(
    client: TestClient, tokens: Tokens, ledger: Engine, who: str, expected: set[str]
) -> None:
    send_digest(ledger, "LA")
    send_digest(ledger, "LB")
    response = client.get("/api/v1/deliveries", headers=bearer(getattr(tokens, who)))
    assert response.status_code == 200
    entries = response.json()
    assert {e["recipient_id"] for e in entries} == expected
    assert PHONE_LA not in response.text and "13800000001" not in response.text


@pytest.mark.parametrize("path", ["/api/v1/queues", "/api/v1/dead-letters", "/api/v1/alerts"])
@pytest.mark.parametrize("who", ["manager_a", "liaison_a"])
def test_ops_views_are_refused_to_ledger_roles(
    client: TestClient, tokens: Tokens, path: str, who: str
) -> None:
    assert client.get(path, headers=bearer(getattr(tokens, who))).status_code == 403


@pytest.mark.parametrize("who", ["manager_a", "liaison_b"])
def test_requeueing_is_refused_to_ledger_roles(
    client: TestClient, tokens: Tokens, who: str
) -> None:
    response = client.post(
        "/api/v1/dead-letters/requeue",
        json={"source": "outbox", "ref": "1"},
        headers=bearer(getattr(tokens, who)),
    )
    assert response.status_code == 403


def test_a_members_history_lists_the_organization_life_they_attended(
    client: TestClient, tokens: Tokens, ledger: Engine
) -> None:
    from datetime import UTC, date, datetime

    from sqlalchemy.orm import Session

    from shared.models import Attendance, Event, Member

    with Session(ledger) as s, s.begin():
        org = s.get_one(Member, "MA").home_org
        held = datetime(2026, 11, 10, 11, tzinfo=UTC)
        s.add(Event(event_id="E-LIFE", org=org, type="branch_meeting", starts_at=held,
                    title="十一月主题党日"))  # fmt: skip
        s.flush()
        s.add(Attendance(event_id="E-LIFE", member_id="MA", on_date=date(2026, 11, 10)))
    history = client.get("/api/v1/members/MA/history", headers=bearer(tokens.manager_a)).json()
    attended = [f for f in history["facts"] if f["kind"] == "attendance"]
    assert attended == [
        {"kind": "attendance", "on": "2026-11-10", "detail": "E-LIFE 十一月主题党日",
         "liaison_id": None, "source": None}
    ]  # fmt: skip
