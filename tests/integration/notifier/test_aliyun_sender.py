"""The Alibaba Cloud SMS sender: the real SDK against the loopback SendSms, its requests
signed and checked, and every provider code sorted into transient, permanent or opted out."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from services.notifier.senders.aliyun_sms import AliyunSmsSender
from services.notifier.senders.base import OutgoingMessage
from services.notifier.testing.aliyun_server import (
    TEST_ACCESS_KEY_ID,
    TEST_ACCESS_KEY_SECRET,
    AliyunSmsTestServer,
)
from shared.errors import OptedOutDeliveryError, PermanentDeliveryError, TransientDeliveryError

PHONE = "+8613812345678"
TEMPLATES = {
    "SMS_BIRTHDAY": ("name", "day", "years", "org"),
    "SMS_DIGEST": ("name", "count", "first", "link"),
    "SMS_ORG_BIRTHDAY": ("name", "day", "years", "org"),
}
BIRTHDAY = OutgoingMessage(
    notification_id=41,
    channel="sms",
    to=PHONE,
    text="(the free-text body, which a template provider never sends)",
    kind="political_birthday",
    data={
        "member_name": "王芳",
        "years": 12,
        "org_name": "红旗村党支部",
        "anniversary": "2026-11-29",
        "today": "2026-12-01",  # sent two days late
    },
)


@pytest.fixture(scope="module")
def aliyun_server() -> Iterator[AliyunSmsTestServer]:
    with AliyunSmsTestServer(templates=TEMPLATES, sign_names=("流动党员联络", "红旗镇党委")) as s:
        yield s


@pytest.fixture
def aliyun(aliyun_server: AliyunSmsTestServer) -> AliyunSmsTestServer:
    with aliyun_server._lock:
        aliyun_server.requests.clear()
        aliyun_server._script.clear()
        aliyun_server._per_number.clear()
        aliyun_server._random = None
    return aliyun_server


def sender(aliyun: AliyunSmsTestServer, **overrides: Any) -> AliyunSmsSender:
    options: dict[str, Any] = {
        "access_key_id": TEST_ACCESS_KEY_ID,
        "access_key_secret": TEST_ACCESS_KEY_SECRET,
        "sign_name": "流动党员联络",
        "template_codes": {"political_birthday": "SMS_BIRTHDAY", "liaison_digest": "SMS_DIGEST"},
        "endpoint": f"http://{aliyun.endpoint}",
        "timeout_s": 2.0,
    }
    options.update(overrides)
    return AliyunSmsSender(**options)


def test_a_message_goes_out_as_the_templates_variables_with_sign_and_code(
    aliyun: AliyunSmsTestServer,
) -> None:
    result = sender(aliyun).send(BIRTHDAY)
    [request] = aliyun.requests
    assert request.code == "OK"
    assert request.params["PhoneNumbers"] == "13812345678"
    assert request.params["SignName"] == "流动党员联络"
    assert request.params["TemplateCode"] == "SMS_BIRTHDAY"
    assert request.params["OutId"] == "41"
    assert request.template_param == {
        "name": "王芳",
        "day": "11月29日",
        "years": "12",
        "org": "红旗村党支部",
    }
    assert result.provider == "aliyun" and result.provider_message_id == request.biz_id


def test_a_request_signed_with_another_secret_is_refused_by_the_signature_check(
    aliyun: AliyunSmsTestServer,
) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        sender(aliyun, access_key_secret="not-the-secret").send(BIRTHDAY)
    assert caught.value.code == "SignatureDoesNotMatch"
    assert aliyun.sent() == []


def test_the_organizations_route_overrides_the_installations_sign_and_template(
    aliyun: AliyunSmsTestServer,
) -> None:
    route = {
        "sign_name": "红旗镇党委",
        "template_codes": {"political_birthday": "SMS_ORG_BIRTHDAY"},
    }
    message = OutgoingMessage(
        **{**BIRTHDAY.__dict__, "data": {**BIRTHDAY.data, "sms_route": route}}
    )
    sender(aliyun).send(message)
    [request] = aliyun.sent()
    assert request.params["SignName"] == "红旗镇党委"
    assert request.params["TemplateCode"] == "SMS_ORG_BIRTHDAY"


def test_a_kind_without_an_approved_template_fails_permanently_without_a_request(
    aliyun: AliyunSmsTestServer,
) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        sender(aliyun, template_codes={}).send(BIRTHDAY)
    assert caught.value.code == "no_template"
    assert aliyun.requests == []


def test_the_digest_is_sent_as_count_first_and_link_each_within_35_characters(
    aliyun: AliyunSmsTestServer,
) -> None:
    tasks = [
        {
            "number": i,
            "member_name": "欧阳娜仁托娅其木格" * 3,
            "rule": "monthly_contact",
            "window_end": "2026-11-30",
            "overdue_days": 4,
            "done": 0,
            "required": 1,
        }
        for i in range(1, 13)
    ]
    digest = OutgoingMessage(
        notification_id=42,
        channel="sms",
        to=PHONE,
        text="…",
        kind="liaison_digest",
        data={"liaison_name": "张三", "as_of": "2026-11-23", "tasks": tasks},
    )
    sender(aliyun).send(digest)
    [request] = aliyun.sent()
    variables = request.template_param
    assert variables["count"] == "12"
    assert variables["first"].startswith("欧阳娜仁托娅其木格") and variables["first"].endswith("…")
    assert all(len(v) <= 35 for v in variables.values())


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", 200, TransientDeliveryError),
        ("Throttling.User", 400, TransientDeliveryError),
        ("isp.SYSTEM_ERROR", 200, TransientDeliveryError),
        ("ServiceUnavailable", 503, TransientDeliveryError),
        ("isv.MOBILE_NUMBER_ILLEGAL", 200, PermanentDeliveryError),
        ("isv.TEMPLATE_MISSING_PARAMETERS", 200, PermanentDeliveryError),
        ("isv.DENY_IP_RANGE", 200, PermanentDeliveryError),
        ("isv.SMS_SIGNATURE_ILLEGAL", 200, PermanentDeliveryError),
        ("isv.BLACK_KEY_CONTROL_LIMIT", 200, OptedOutDeliveryError),
    ],
)
def test_provider_codes_are_translated_and_the_number_is_masked(
    aliyun: AliyunSmsTestServer, code: str, status: int, error: type[Exception]
) -> None:
    aliyun.fail_next(code=code, status=status)
    with pytest.raises(error) as caught:
        sender(aliyun).send(BIRTHDAY)
    assert type(caught.value) is error
    assert getattr(caught.value, "code", None) == code
    assert "13812345678" not in str(caught.value) and "138****5678" in str(caught.value)


def test_a_throttled_answer_carries_the_providers_retry_after(aliyun: AliyunSmsTestServer) -> None:
    aliyun.fail_next(code="Throttling.User", status=400, retry_after_ms=2500)
    with pytest.raises(TransientDeliveryError) as caught:
        sender(aliyun).send(BIRTHDAY)
    assert caught.value.retry_after_s == 2.5


def test_the_fake_refuses_a_variable_longer_than_the_limit_as_the_provider_does(
    aliyun: AliyunSmsTestServer,
) -> None:
    # The sender cuts variables to 35 characters; one configured to allow more is refused.
    long_org = {**BIRTHDAY.data, "org_name": "红" * 50}
    message = OutgoingMessage(**{**BIRTHDAY.__dict__, "data": long_org})
    with pytest.raises(PermanentDeliveryError) as caught:
        sender(aliyun, variable_limit=60).send(message)
    assert caught.value.code == "isv.PARAM_LENGTH_LIMIT"
    sender(aliyun).send(message)
    assert len(aliyun.sent()[-1].template_param["org"]) == 35


def test_a_slow_provider_times_out_as_a_transient_error(aliyun: AliyunSmsTestServer) -> None:
    aliyun.fail_next(delay_s=1.0)
    with pytest.raises(TransientDeliveryError) as caught:
        sender(aliyun, timeout_s=0.2).send(BIRTHDAY)
    assert caught.value.code == "timeout"


def test_an_unreachable_provider_is_a_transient_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = AliyunSmsSender(
        access_key_id=TEST_ACCESS_KEY_ID,
        access_key_secret=TEST_ACCESS_KEY_SECRET,
        sign_name="流动党员联络",
        template_codes={"political_birthday": "SMS_BIRTHDAY"},
        endpoint=f"http://127.0.0.1:{port}",
        timeout_s=1.0,
    )
    with pytest.raises(TransientDeliveryError) as caught:
        unreachable.send(BIRTHDAY)
    assert caught.value.code == "connection"


def test_the_template_param_is_json_with_chinese_kept_readable(aliyun: AliyunSmsTestServer) -> None:
    sender(aliyun).send(BIRTHDAY)
    raw = aliyun.sent()[0].params["TemplateParam"]
    assert json.loads(raw)["name"] == "王芳" and "王芳" in raw


def test_the_demo_fake_takes_any_template_code_but_still_checks_signatures() -> None:
    with AliyunSmsTestServer(any_template=True) as server:
        message = OutgoingMessage(**{**BIRTHDAY.__dict__, "kind": "political_birthday"})
        sender(server, template_codes={"political_birthday": "SMS_ANYTHING"}).send(message)
        with pytest.raises(PermanentDeliveryError):
            sender(
                server,
                access_key_secret="wrong",
                template_codes={"political_birthday": "SMS_ANYTHING"},
            ).send(message)
        assert [r.code for r in server.requests] == ["OK", "SignatureDoesNotMatch"]
