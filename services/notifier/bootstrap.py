"""Wiring the real adapters from settings: senders, Redis limiters, the runtime.

Called by the worker entry module and the CLI, never at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import redis
from sqlalchemy import Engine

from services.notifier.rate_limit import Limiter, RedisLimiter
from services.notifier.rendering import render_message
from services.notifier.runtime import Runtime
from services.notifier.senders.base import Sender
from services.notifier.senders.outbox_file import OutboxFileSender
from services.notifier.senders.smtp_email import SmtpEmailSender
from services.notifier.senders.twilio_sms import TwilioSmsSender
from shared.clock import Clock, SystemClock
from shared.db import engine_for, ensure_schema
from shared.errors import ConfigurationError
from shared.settings import Settings


def build_senders(settings: Settings) -> dict[str, Sender]:
    """The SMS and email senders the settings choose."""
    senders: dict[str, Sender] = {}
    if settings.sms_sender == "twilio":
        senders["sms"] = TwilioSmsSender(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            status_callback_url=settings.twilio_status_callback_url,
            base_url=settings.twilio_base_url,
            timeout_s=settings.twilio_timeout_s,
        )
    elif settings.sms_sender == "outbox":
        senders["sms"] = OutboxFileSender(settings.outbox_dir)
    else:
        raise ConfigurationError("LIAISON_SMS_SENDER must be twilio or outbox")
    senders["email"] = build_email_sender(settings)
    return senders


def build_email_sender(settings: Settings) -> Sender:
    """The email sender the settings choose; a misconfigured one is an error, never a
    silent fall-back to files (the ops mail of alerts uses this too)."""
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


def build_limiters(
    settings: Settings, client: redis.Redis, senders: Mapping[str, Sender] | None = None
) -> dict[str, Limiter]:
    """One Redis limiter per channel, shared by every worker on the same Redis.

    The limits are a provider's (Twilio's, the mail server's): a channel whose sender
    writes outbox files needs none, which keeps `liaison demo` quick.
    """
    limits = {
        "sms": (settings.sms_rate_per_s, settings.sms_concurrency),
        "email": (settings.email_rate_per_s, settings.email_concurrency),
    }
    return {
        channel: RedisLimiter(client, channel, rate, concurrency)
        for channel, (rate, concurrency) in limits.items()
        if senders is None or senders[channel].provider != "outbox"
    }


def build_runtime(
    settings: Settings,
    *,
    redis_client: redis.Redis,
    clock: Clock | None = None,
    engine: Engine | None = None,
) -> Runtime:
    """The notifier's runtime from settings; `engine` when the caller has one already."""
    if engine is None:
        engine = (
            ensure_schema(settings) if settings.uses_embedded_database else engine_for(settings)
        )
    senders = build_senders(settings)
    return Runtime(
        engine=engine,
        senders=senders,
        render=render_message,
        clock=clock or SystemClock(),
        limiters=build_limiters(settings, redis_client, senders),
        max_retries=settings.max_retries,
        stale_sending_s=settings.stale_sending_s,
        min_backoff_ms=settings.min_backoff_ms,
        max_backoff_ms=settings.max_backoff_ms,
        overrides_dir=Path(settings.templates_dir) if settings.templates_dir else None,
    )
