"""WeCom application messages and group robots against the loopback WeCom API: text cards,
the access token cached and refreshed, errcodes sorted transient/permanent."""

from __future__ import annotations

import httpx
import pytest

from services.notifier.senders.base import OutgoingMessage
from services.notifier.senders.wecom_app import WeComAppSender, cut_utf8
from services.notifier.senders.wecom_robot import WeComRobotSender, every_mailer, ops_robot_mailer
from services.notifier.testing.wecom_server import (
    TEST_AGENT_ID,
    TEST_CORP_ID,
    TEST_SECRET,
    WeComTestServer,
)
from shared.errors import PermanentDeliveryError, TransientDeliveryError
from shared.settings import load_settings

CARD = OutgoingMessage(
    notification_id=5,
    channel="wecom",
    to="zhangsan",
    text="流动党员联络：您有2项待办\n张三同志，截至11月23日：\n1.王芳 每月联系 11月30日前",
    kind="liaison_digest",
)


def app_sender(wecom: WeComTestServer, **overrides: object) -> WeComAppSender:
    options: dict[str, object] = {
        "corp_id": TEST_CORP_ID,
        "secret": TEST_SECRET,
        "agent_id": TEST_AGENT_ID,
        "card_url": "https://liaison.example.org/",
        "base_url": wecom.base_url,
        "timeout_s": 2.0,
    }
    options.update(overrides)
    return WeComAppSender(**options)  # type: ignore[arg-type]


def test_a_message_becomes_a_text_card_to_the_user_id(wecom: WeComTestServer) -> None:
    result = app_sender(wecom).send(CARD)
    [sent] = wecom.messages()
    card = sent.body["textcard"]
    assert sent.body["touser"] == "zhangsan" and sent.body["agentid"] == int(TEST_AGENT_ID)
    assert card["title"] == "流动党员联络：您有2项待办"
    assert (
        card["description"].startswith("张三同志") and card["url"] == "https://liaison.example.org/"
    )
    assert result.provider == "wecom" and result.provider_message_id


def test_the_access_token_is_fetched_once_for_many_messages(wecom: WeComTestServer) -> None:
    sender = app_sender(wecom)
    for _ in range(3):
        sender.send(CARD)
    assert wecom.tokens_issued == 1 and len(wecom.messages()) == 3


def test_an_expired_token_is_refreshed_and_the_message_sent_once(wecom: WeComTestServer) -> None:
    sender = app_sender(wecom)
    sender.send(CARD)
    wecom.expire_tokens()  # the next send is answered 42001
    sender.send(CARD)
    assert wecom.tokens_issued == 2 and len(wecom.messages()) == 2
    assert [r.errcode for r in wecom.requests if r.path == "/cgi-bin/message/send"] == [0, 42001, 0]


def test_a_token_wecom_does_not_know_is_refreshed_too(wecom: WeComTestServer) -> None:
    sender = app_sender(wecom)
    sender.send(CARD)
    with wecom._lock:
        wecom._valid.clear()  # WeCom forgot it: 40014
    sender.send(CARD)
    assert wecom.tokens_issued == 2 and len(wecom.messages()) == 2


def test_a_user_outside_the_visible_range_is_permanent(wecom: WeComTestServer) -> None:
    stranger = OutgoingMessage(**{**CARD.__dict__, "to": "lisi"})
    with pytest.raises(PermanentDeliveryError) as caught:
        app_sender(wecom).send(stranger)
    assert caught.value.code == "invaliduser" and "lisi" not in str(caught.value)


@pytest.mark.parametrize(
    ("errcode", "error"),
    [
        (-1, TransientDeliveryError),
        (45009, TransientDeliveryError),
        (45033, TransientDeliveryError),
        (60111, PermanentDeliveryError),
        (81013, PermanentDeliveryError),
        (48002, PermanentDeliveryError),
    ],
)
def test_errcodes_are_translated(
    wecom: WeComTestServer, errcode: int, error: type[Exception]
) -> None:
    wecom.fail_next(errcode=errcode)
    with pytest.raises(error) as caught:
        app_sender(wecom).send(CARD)
    assert type(caught.value) is error and getattr(caught.value, "code", None) == str(errcode)


def test_a_wrong_secret_is_a_permanent_error(wecom: WeComTestServer) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        app_sender(wecom, secret="wrong").send(CARD)
    assert caught.value.code == "40001"


def test_an_unreachable_wecom_is_transient() -> None:
    sender = WeComAppSender(
        corp_id=TEST_CORP_ID,
        secret=TEST_SECRET,
        agent_id=TEST_AGENT_ID,
        card_url="https://x/",
        base_url="http://127.0.0.1:9",
        timeout_s=1.0,
    )
    with pytest.raises(TransientDeliveryError) as caught:
        sender.send(CARD)
    assert caught.value.code in {"connection", "timeout"}


def test_a_long_description_is_cut_on_a_character_boundary() -> None:
    cut = cut_utf8("联" * 400, 512)
    assert len(cut.encode()) <= 512 and cut.endswith("…") and "\ufffd" not in cut


def test_the_group_robot_posts_alerts_as_text(wecom: WeComTestServer) -> None:
    WeComRobotSender(wecom.robot_url).post("liaison: dead letters growing", "12 dead in 1 h")
    [post] = wecom.robot_posts()
    assert post.body == {
        "msgtype": "text",
        "text": {"content": "liaison: dead letters growing\n12 dead in 1 h"},
    }


def test_the_group_robot_at_its_rate_limit_is_transient(wecom: WeComTestServer) -> None:
    wecom.fail_next(errcode=45009)
    with pytest.raises(TransientDeliveryError):
        WeComRobotSender(wecom.robot_url).post("subject", "text")


def test_the_ops_robot_mailer_exists_only_when_a_webhook_is_set(wecom: WeComTestServer) -> None:
    assert ops_robot_mailer(load_settings({})) is None
    mail = ops_robot_mailer(
        load_settings({"LIAISON_OPS_WECOM_WEBHOOK": wecom.robot_url}), client=httpx.Client()
    )
    assert mail is not None
    mail("alert", "body")
    assert len(wecom.robot_posts()) == 1


def test_an_alert_reaches_the_robot_even_when_the_email_fails(wecom: WeComTestServer) -> None:
    def broken_email(subject: str, text: str) -> None:
        raise OSError("mail server away")

    robot = WeComRobotSender(wecom.robot_url).post
    mail = every_mailer(broken_email, None, robot)
    assert mail is not None
    mail("alert", "body")
    assert len(wecom.robot_posts()) == 1
    assert every_mailer(None, None) is None
    only_broken = every_mailer(broken_email)
    assert only_broken is not None
    with pytest.raises(RuntimeError):
        only_broken("alert", "body")


@pytest.mark.parametrize(
    ("status", "error"), [(404, PermanentDeliveryError), (502, TransientDeliveryError)]
)
def test_an_answer_that_is_not_wecoms_json_is_sorted_by_its_status(
    status: int, error: type[Exception]
) -> None:
    proxy = httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(status, text="<html>"))
    )
    sender = WeComAppSender(
        corp_id=TEST_CORP_ID,
        secret=TEST_SECRET,
        agent_id=TEST_AGENT_ID,
        card_url="https://x/",
        base_url="http://wecom.invalid",
        client=proxy,
    )
    with pytest.raises(error):
        sender.send(CARD)
