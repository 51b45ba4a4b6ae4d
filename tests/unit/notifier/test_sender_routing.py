"""Which sender a message takes: the organization's chosen SMS provider, or the channel's
default; never another provider than the one chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from services.notifier.rate_limit import Unlimited
from services.notifier.senders.aliyun_sms import AliyunSmsSender, parse_template_codes
from services.notifier.senders.base import OutgoingMessage, SendResult
from services.notifier.senders.factory import build_senders
from services.notifier.senders.outbox_file import OutboxFileSender
from services.notifier.senders.routing import UnconfiguredProvider, route, sender_key
from services.notifier.senders.twilio_sms import TwilioSmsSender
from services.notifier.senders.wecom_app import WeComAppSender
from services.notifier.sms_routes import SMS_ROUTE_ROW, sms_route_from_policy
from shared.errors import ConfigurationError, PermanentDeliveryError
from shared.settings import load_settings


@dataclass
class Recording:
    provider: str
    sent: list[OutgoingMessage] = field(default_factory=list)

    def send(self, message: OutgoingMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(self.provider, "x")


def sms(route: dict[str, Any] | None = None) -> OutgoingMessage:
    data: dict[str, Any] = {} if route is None else {"sms_route": route}
    return OutgoingMessage(1, "sms", "+8613812345678", "hi", kind="political_birthday", data=data)


def test_a_message_without_a_route_takes_its_channels_default() -> None:
    default, aliyun = Recording("twilio"), Recording("aliyun")
    sender, limiter = route({"sms": default, "sms:aliyun": aliyun}, {}, sms())
    assert sender is default and isinstance(limiter, Unlimited)


def test_an_organization_that_chose_aliyun_gets_aliyun_and_its_limiter() -> None:
    default, aliyun = Recording("twilio"), Recording("aliyun")
    limiters: dict[str, Any] = {"sms": Unlimited(), "sms:aliyun": Unlimited()}
    sender, limiter = route(
        {"sms": default, "sms:aliyun": aliyun}, limiters, sms({"provider": "aliyun"})
    )
    assert sender is aliyun and limiter is limiters["sms:aliyun"]


def test_a_provider_the_installation_lacks_fails_permanently_instead_of_falling_back() -> None:
    sender, _ = route({"sms": Recording("twilio")}, {}, sms({"provider": "aliyun"}))
    assert isinstance(sender, UnconfiguredProvider)
    with pytest.raises(PermanentDeliveryError) as caught:
        sender.send(sms({"provider": "aliyun"}))
    assert caught.value.code == "provider_not_configured"


def test_only_sms_is_routed_by_provider() -> None:
    email = OutgoingMessage(1, "email", "a@example.org", "x", data={"sms_route": {"provider": "x"}})
    assert sender_key(email) == "email"


def test_the_factory_builds_every_configured_provider_and_the_default_under_both_keys(
    tmp_path: Any,
) -> None:
    settings = load_settings(
        {
            "LIAISON_HOME": str(tmp_path),
            "LIAISON_SMS_PROVIDER": "aliyun",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "id",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret",
            "LIAISON_ALIYUN_TEMPLATE_CODES": "liaison_digest=SMS_1, event_reminder=SMS_2",
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": "t",
            "TWILIO_FROM_NUMBER": "+15005550006",
            "LIAISON_WECOM_CORP_ID": "ww1",
            "LIAISON_WECOM_SECRET": "s",
            "LIAISON_WECOM_AGENT_ID": "1000002",
        }
    )
    senders = build_senders(settings)
    assert isinstance(senders["sms"], AliyunSmsSender) and senders["sms:aliyun"] is senders["sms"]
    assert senders["sms"].template_codes == {"liaison_digest": "SMS_1", "event_reminder": "SMS_2"}
    assert isinstance(senders["sms:twilio"], TwilioSmsSender)
    assert isinstance(senders["sms:outbox"], OutboxFileSender)
    assert isinstance(senders["wecom"], WeComAppSender)


def test_without_credentials_everything_goes_to_outbox_files_as_today(tmp_path: Any) -> None:
    senders = build_senders(load_settings({"LIAISON_HOME": str(tmp_path)}))
    assert {k: s.provider for k, s in senders.items()} == {
        "sms": "outbox",
        "sms:outbox": "outbox",
        "email": "outbox",
        "wecom": "outbox",
    }


def test_the_older_setting_name_still_chooses_the_provider() -> None:
    assert load_settings({"LIAISON_SMS_SENDER": "twilio"}).sms_sender == "twilio"
    both = {"LIAISON_SMS_SENDER": "twilio", "LIAISON_SMS_PROVIDER": "aliyun"}
    assert load_settings(both).sms_sender == "aliyun"


def test_an_unknown_provider_or_malformed_template_codes_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="LIAISON_SMS_PROVIDER"):
        build_senders(load_settings({"LIAISON_SMS_PROVIDER": "carrier-pigeon"}))
    with pytest.raises(ConfigurationError, match="kind=code"):
        parse_template_codes("liaison_digest")


@dataclass
class Rule:
    name: str
    params: dict[str, Any]
    enabled: bool = True


def test_an_organizations_policy_becomes_the_route_carried_in_its_notifications() -> None:
    params = {
        "provider": "Aliyun",
        "sign_name": " 红旗镇党委 ",
        "template_codes": {"liaison_digest": "SMS_9", "event_reminder": ""},
    }
    assert sms_route_from_policy([Rule("quiet_hours", {}), Rule("sms_route", params)]) == {
        "provider": "aliyun",
        "sign_name": "红旗镇党委",
        "template_codes": {"liaison_digest": "SMS_9"},
    }


def test_the_default_policy_row_chooses_nothing() -> None:
    assert sms_route_from_policy([Rule("sms_route", dict(SMS_ROUTE_ROW["params"]))]) is None
    assert sms_route_from_policy([Rule("sms_route", {"provider": "aliyun"}, enabled=False)]) is None


def test_an_unknown_provider_in_policy_is_left_out_not_fatal() -> None:
    route_ = sms_route_from_policy([Rule("sms_route", {"provider": "pigeon", "sign_name": "X"})])
    assert route_ == {"sign_name": "X"}


def test_migration_0006_seeds_the_sms_route_row_the_code_describes() -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "shared/migrations/versions/0006_wecom.py"
    spec = importlib.util.spec_from_file_location("migration_0006", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.SMS_ROUTE_ROW == SMS_ROUTE_ROW


def test_an_organization_on_outbox_files_is_not_paced_by_the_default_providers_limit() -> None:
    default_limit = Unlimited()
    outbox = Recording("outbox")
    sender, limiter = route(
        {"sms": Recording("aliyun"), "sms:outbox": outbox},
        {"sms": default_limit},
        sms({"provider": "outbox"}),
    )
    assert sender is outbox and limiter is not default_limit
