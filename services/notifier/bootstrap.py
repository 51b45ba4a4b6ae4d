"""Wiring the real adapters from settings: senders, Redis limiters, the runtime.

Called by the worker entry module and the CLI, never at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import redis
from sqlalchemy import Engine

from services.notifier.claim_marks import ClaimMarks
from services.notifier.rate_limit import Limiter
from services.notifier.rendering import render_message
from services.notifier.runtime import Runtime
from services.notifier.senders import factory
from services.notifier.senders.base import Sender
from shared.clock import Clock, SystemClock
from shared.db import engine_for, ensure_schema
from shared.settings import Settings


def build_senders(settings: Settings) -> dict[str, Sender]:
    """The senders the settings choose (services.notifier.senders.factory builds them)."""
    return factory.build_senders(settings)


def build_email_sender(settings: Settings) -> Sender:
    """The email sender the settings choose; a misconfigured one is an error, never a
    silent fall-back to files (the ops mail of alerts uses this too)."""
    return factory.build_email_sender(settings)


def build_limiters(
    settings: Settings, client: redis.Redis, senders: Mapping[str, Sender] | None = None
) -> dict[str, Limiter]:
    """One Redis limiter per provider, shared by every worker on the same Redis."""
    return factory.build_limiters(settings, client, senders or build_senders(settings))


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
        claim_marks=ClaimMarks(redis_client),
        min_backoff_ms=settings.min_backoff_ms,
        max_backoff_ms=settings.max_backoff_ms,
        overrides_dir=Path(settings.templates_dir) if settings.templates_dir else None,
    )
