"""Twilio's webhooks on both databases: signed and forged requests, delivery reports,
replies with task numbers in every spelling, opt-out and opt-in."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.notifier.opt_outs import is_opted_out
from services.scheduler.tasks.due import DueQuery, compute_due
from services.web.app import create_app
from services.web.settings import WebSettings
from shared.db import transaction
from shared.models import (
    Interaction,
    Liaison,
    MaterialDelivery,
    Notification,
    NotificationEvent,
    Review,
)
from shared.settings import load_settings
from tests.integration.web.conftest import AUTH_TOKEN, PUBLIC_URL, twilio_post
from tests.integration.web.ledger import AS_OF, PHONE_LA, PHONE_LB, send_digest

STATUS = "/webhooks/twilio/status"
INBOUND = "/webhooks/twilio/inbound"


_sids = itertools.count(1)


def reply(client: TestClient, body: str, sender: str = PHONE_LA, sid: str | None = None) -> Any:
    """A signed inbound SMS; each a message of its own (a new MessageSid) unless `sid`."""
    sid = sid or f"SMreply{next(_sids):06d}"
    response = twilio_post(
        client, INBOUND, {"From": sender, "To": "+15005550006", "Body": body, "MessageSid": sid}
    )
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/xml")  # type: ignore[attr-defined]
    return response


def notification(engine: Engine, sid: str) -> Notification:
    with Session(engine) as s:
        return s.execute(
            select(Notification).where(Notification.provider_message_id == sid)
        ).scalar_one()


def test_an_unsigned_callback_is_refused_and_changes_nothing(
    client: TestClient, ledger: Engine
) -> None:
    send_digest(ledger, "LA")
    form = {"MessageSid": "SMLAsent", "MessageStatus": "delivered"}
    assert client.post(STATUS, data=form).status_code == 403
    assert notification(ledger, "SMLAsent").status == "sent"


@pytest.mark.parametrize(
    "forgery",
    ["wrong token", "other url", "altered form", "garbage"],
)
def test_a_forged_signature_is_refused(client: TestClient, ledger: Engine, forgery: str) -> None:
    from twilio.request_validator import RequestValidator

    send_digest(ledger, "LA")
    form = {"MessageSid": "SMLAsent", "MessageStatus": "delivered"}
    token, url, signed_form = AUTH_TOKEN, PUBLIC_URL + STATUS, dict(form)
    if forgery == "wrong token":
        token = "not-the-token"
    elif forgery == "other url":
        url = "https://evil.example.org" + STATUS
    elif forgery == "altered form":
        signed_form["MessageStatus"] = "failed"
    signature = RequestValidator(token).compute_signature(url, signed_form)
    if forgery == "garbage":
        signature = "bm90IGEgc2lnbmF0dXJl"
    response = client.post(STATUS, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert notification(ledger, "SMLAsent").status == "sent"


def test_a_signed_status_callback_moves_the_notification_once(
    client: TestClient, ledger: Engine
) -> None:
    send_digest(ledger, "LA")
    form = {"MessageSid": "SMLAsent", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert twilio_post(client, STATUS, form).status_code == 204  # type: ignore[attr-defined]
    n = notification(ledger, "SMLAsent")
    assert n.status == "undelivered" and n.last_error == "provider error 30003"
    # Repeated, and then a late contradicting report: nothing changes any more.
    twilio_post(client, STATUS, form)
    twilio_post(client, STATUS, {"MessageSid": "SMLAsent", "MessageStatus": "delivered"})
    with Session(ledger) as s:
        events = s.scalars(
            select(NotificationEvent.status).where(NotificationEvent.notification_id == n.id)
        ).all()
    assert notification(ledger, "SMLAsent").status == "undelivered"
    assert events.count("undelivered") == 1


def test_a_delivered_report_marks_the_notification_delivered(
    client: TestClient, ledger: Engine
) -> None:
    send_digest(ledger, "LA")
    twilio_post(client, STATUS, {"MessageSid": "SMLAsent", "MessageStatus": "delivered"})
    assert notification(ledger, "SMLAsent").status == "delivered"


def numbered(data: dict[str, Any]) -> dict[str, str]:
    return {str(t["number"]): t["rule"] for t in data["tasks"]}


def facts(engine: Engine) -> dict[str, Any]:
    with Session(engine) as s:
        return {
            "interactions": [
                (i.member_id, i.kind, i.place, i.on_date, i.liaison_id, i.source)
                for i in s.scalars(select(Interaction))
            ],
            "reviews": [(r.member_id, r.on_date) for r in s.scalars(select(Review))],
            "deliveries": [
                (d.campaign_id, d.member_id, d.on_date) for d in s.scalars(select(MaterialDelivery))
            ],
        }


@pytest.mark.parametrize("body", ["1 3", "１ ３", "1,3", "1，3", "完成 1 3", "完成1、3"])
def test_a_reply_with_task_numbers_records_those_tasks(
    client: TestClient, ledger: Engine, body: str
) -> None:
    data = send_digest(ledger, "LA")
    assert numbered(data)["1"] == "certificate_review"
    assert numbered(data)["3"] == "materials_delivery"
    response = reply(client, body)
    assert "已记录第1、3项为完成" in response.text
    got = facts(ledger)
    assert got["reviews"] == [("MA", AS_OF)]
    assert got["deliveries"] == [("CA", "MA", AS_OF)]
    assert got["interactions"] == []
    left = {t.rule for t in compute_due(ledger, DueQuery(AS_OF, liaison_id="LA"))}
    assert left == {"monthly_contact", "quarterly_visit", "annual_site_visit"}


def test_contact_and_visit_tasks_record_a_contact_and_a_visit(
    client: TestClient, ledger: Engine
) -> None:
    data = send_digest(ledger, "LA")
    rules = numbered(data)
    assert (rules["2"], rules["4"], rules["5"]) == (
        "monthly_contact",
        "quarterly_visit",
        "annual_site_visit",
    )
    reply(client, "2 4 5")
    kinds = sorted(i[1:3] for i in facts(ledger)["interactions"])
    assert kinds == [("other", None), ("visit", "home")]
    assert all(i[4] == "LA" and i[5] == "sms-reply" for i in facts(ledger)["interactions"])
    assert [t.rule for t in compute_due(ledger, DueQuery(AS_OF, liaison_id="LA"))] == [
        "certificate_review",
        "materials_delivery",
    ]


def test_a_reply_names_the_numbers_it_could_not_record(client: TestClient, ledger: Engine) -> None:
    send_digest(ledger, "LA")
    response = reply(client, "2 9")
    assert "已记录第2项为完成" in response.text and "第9项未能记录" in response.text


def test_a_reply_matches_the_latest_digest_that_left_not_one_still_queued(
    client: TestClient, ledger: Engine
) -> None:
    send_digest(ledger, "LA")
    send_digest(ledger, "LA", status="queued")
    reply(client, "1")
    assert facts(ledger)["reviews"] == [("MA", AS_OF)]


def test_a_liaison_cannot_close_another_liaisons_tasks(client: TestClient, ledger: Engine) -> None:
    send_digest(ledger, "LA")
    response = reply(client, "1 2 3", sender=PHONE_LB)  # LB has no digest of its own
    assert facts(ledger) == {"interactions": [], "reviews": [], "deliveries": []}
    assert "nothing was recorded" in response.text


def test_an_unknown_number_records_nothing(client: TestClient, ledger: Engine) -> None:
    send_digest(ledger, "LA")
    response = reply(client, "1 3", sender="+8613611112222")
    assert "未登记" in response.text
    assert facts(ledger)["reviews"] == []


def test_a_reply_that_is_not_numbers_gets_the_instructions(
    client: TestClient, ledger: Engine
) -> None:
    send_digest(ledger, "LA")
    assert "请回复任务编号" in reply(client, "好的，收到").text


@pytest.mark.parametrize(
    ("stop", "start", "stop_text", "start_text"),
    [
        ("TD", "订阅", "您已退订", "您已恢复订阅"),
        ("T", "订阅", "您已退订", "您已恢复订阅"),
        ("退订", "订阅", "您已退订", "您已恢复订阅"),
        ("STOP", "START", "unsubscribed", "resubscribed"),
        ("stop", "start", "unsubscribed", "resubscribed"),
    ],
)
def test_opting_out_and_back_in_round_trips(
    client: TestClient, ledger: Engine, stop: str, start: str, stop_text: str, start_text: str
) -> None:
    assert stop_text in reply(client, stop).text
    with Session(ledger) as s:
        assert is_opted_out(s, PHONE_LA, "sms")
    assert start_text in reply(client, start).text
    with Session(ledger) as s:
        assert not is_opted_out(s, PHONE_LA, "sms")


def test_a_forged_opt_out_is_refused(client: TestClient, ledger: Engine) -> None:
    form = {"From": PHONE_LA, "Body": "TD"}
    assert client.post(INBOUND, data=form, headers={"X-Twilio-Signature": "x"}).status_code == 403
    with Session(ledger) as s:
        assert not is_opted_out(s, PHONE_LA, "sms")


def test_a_replayed_opt_out_after_opting_back_in_changes_nothing(
    client: TestClient, ledger: Engine
) -> None:
    first = reply(client, "TD", sid="SMcaptured")
    reply(client, "START")
    replayed = reply(client, "TD", sid="SMcaptured")
    with Session(ledger) as s:
        assert not is_opted_out(s, PHONE_LA, "sms")
    assert replayed.text == first.text  # Twilio retrying gets the answer it missed


def test_two_liaisons_with_one_phone_get_an_answer_for_the_latest_digest_to_it(
    client: TestClient, ledger: Engine
) -> None:
    with transaction(ledger) as s:
        s.add(Liaison(liaison_id="LC", name="联络员丙", org="A1", phone=PHONE_LA))
    send_digest(ledger, "LA")
    response = reply(client, "1")
    assert "已记录第1项" in response.text
    assert response.status_code == 200


def test_two_liaisons_with_one_phone_and_no_digest_record_nothing(
    client: TestClient, ledger: Engine
) -> None:
    with transaction(ledger) as s:
        s.add(Liaison(liaison_id="LC", name="联络员丙", org="A1", phone=PHONE_LA))
    response = reply(client, "1")
    assert "暂无可对应的待办清单" in response.text


@pytest.fixture
def client_without_public_url(
    ledger: Engine, database_url: str, redis_server_url: str, tmp_path: Any
) -> Iterator[TestClient]:
    settings = load_settings(
        {
            "LIAISON_DATABASE_URL": database_url,
            "LIAISON_REDIS_URL": redis_server_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "LIAISON_HOME": str(tmp_path),
        }
    )
    app = create_app(settings, WebSettings(public_url=""))
    with TestClient(app, base_url="https://evil.example.org") as c:
        yield c
    app.state.ctx.close()


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_without_a_public_url_webhooks_are_refused_whatever_host_was_signed(
    client_without_public_url: TestClient,
    ledger: Engine,
    path: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from twilio.request_validator import RequestValidator

    send_digest(ledger, "LA")
    form = {"MessageSid": "SMLAsent", "MessageStatus": "delivered", "From": PHONE_LA, "Body": "TD"}
    # Signed for the host the client itself names: exactly what an attacker can do.
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        "https://evil.example.org" + path, form
    )
    response = client_without_public_url.post(
        path, data=form, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 503
    assert "LIAISON_PUBLIC_URL" in response.text and "LIAISON_PUBLIC_URL" in caplog.text
    assert notification(ledger, "SMLAsent").status == "sent"
    with Session(ledger) as s:
        assert not is_opted_out(s, PHONE_LA, "sms")
