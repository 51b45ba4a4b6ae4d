"""Building the senders and their rate limits from settings: the one place that knows
which provider class serves which channel.

`build_senders(settings)` returns senders keyed as `senders.routing` reads them:

- `sms`, `email`, `wecom`: the installation's default for each channel
  (`LIAISON_SMS_PROVIDER`: twilio | aliyun | outbox; `LIAISON_EMAIL_SENDER`: smtp | outbox;
  WeCom when `LIAISON_WECOM_CORP_ID` is set, else outbox files);
- `sms:<provider>`: every SMS provider this installation has credentials for (and
  `sms:outbox`, always), so that an organization's `sms_route.provider` policy can choose
  one; the default provider's sender is the same object under both keys.

Nothing here connects: the SDK clients open their connections on the first send.
"""

from __future__ import annotations

from collections.abc import Mapping

import redis

from services.notifier.rate_limit import Limiter, RedisLimiter
from services.notifier.senders.aliyun_sms import AliyunSmsSender, parse_template_codes
from services.notifier.senders.base import Sender
from services.notifier.senders.outbox_file import OutboxFileSender
from services.notifier.senders.smtp_email import SmtpEmailSender
from services.notifier.senders.twilio_sms import TwilioSmsSender
from services.notifier.senders.wecom_app import WeComAppSender
from services.notifier.sms_routes import SMS_PROVIDERS
from shared.errors import ConfigurationError
from shared.settings import Settings

#: where a WeCom text card links to when the message carries no link of its own
DEFAULT_CARD_URL = "https://work.weixin.qq.com/"


def build_sms_sender(settings: Settings, provider: str) -> Sender:
    """The SMS sender for `provider`; a ConfigurationError names what is missing."""
    if provider == "twilio":
        return TwilioSmsSender(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            status_callback_url=settings.twilio_status_callback_url,
            base_url=settings.twilio_base_url,
            timeout_s=settings.twilio_timeout_s,
        )
    if provider == "aliyun":
        return AliyunSmsSender(
            access_key_id=settings.aliyun_access_key_id,
            access_key_secret=settings.aliyun_access_key_secret,
            sign_name=settings.aliyun_sign_name,
            template_codes=parse_template_codes(settings.aliyun_template_codes),
            endpoint=settings.aliyun_endpoint,
            timeout_s=settings.aliyun_timeout_s,
        )
    if provider == "outbox":
        return OutboxFileSender(settings.outbox_dir)
    raise ConfigurationError(
        f"LIAISON_SMS_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}, got {provider!r}"
    )


def configured_sms_providers(settings: Settings) -> list[str]:
    """The SMS providers whose credentials are set, plus outbox files, which need none."""
    configured = ["outbox"]
    if settings.twilio_account_sid:
        configured.append("twilio")
    if settings.aliyun_access_key_id:
        configured.append("aliyun")
    return configured


def build_email_sender(settings: Settings) -> Sender:
    if settings.email_sender == "smtp":
        return SmtpEmailSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout_s=settings.smtp_timeout_s,
        )
    if settings.email_sender == "outbox":
        return OutboxFileSender(settings.outbox_dir)
    raise ConfigurationError("LIAISON_EMAIL_SENDER must be smtp or outbox")


def build_wecom_sender(settings: Settings) -> Sender:
    if not settings.wecom_corp_id:
        return OutboxFileSender(settings.outbox_dir)
    return WeComAppSender(
        corp_id=settings.wecom_corp_id,
        secret=settings.wecom_secret,
        agent_id=settings.wecom_agent_id,
        card_url=DEFAULT_CARD_URL,
        base_url=settings.wecom_base_url,
        timeout_s=settings.wecom_timeout_s,
    )


def build_senders(settings: Settings) -> dict[str, Sender]:
    """Every sender the settings configure, keyed by channel and by `sms:<provider>`."""
    default_sms = settings.sms_sender
    senders: dict[str, Sender] = {"sms": build_sms_sender(settings, default_sms)}
    senders[f"sms:{default_sms}"] = senders["sms"]
    for provider in configured_sms_providers(settings):
        if f"sms:{provider}" not in senders:
            senders[f"sms:{provider}"] = build_sms_sender(settings, provider)
    senders["email"] = build_email_sender(settings)
    senders["wecom"] = build_wecom_sender(settings)
    return senders


def build_limiters(
    settings: Settings, client: redis.Redis, senders: Mapping[str, Sender]
) -> dict[str, Limiter]:
    """One Redis limiter per provider, under every key its sender has, shared by every
    worker on the same Redis (`liaison:rate:sms:aliyun:…`).

    Outbox files need none, which keeps `liaison demo` quick.
    """
    limits = {
        "sms": (settings.sms_rate_per_s, settings.sms_concurrency),
        "email": (settings.email_rate_per_s, settings.email_concurrency),
        "wecom": (settings.wecom_rate_per_s, settings.wecom_concurrency),
    }
    by_name: dict[str, Limiter] = {}
    out: dict[str, Limiter] = {}
    for key, sender in senders.items():
        channel = key.partition(":")[0]
        if sender.provider == "outbox" or channel not in limits:
            continue
        name = f"{channel}:{sender.provider}"
        if name not in by_name:
            rate, concurrency = limits[channel]
            by_name[name] = RedisLimiter(client, name, rate, concurrency)
        out[key] = by_name[name]
    return out
