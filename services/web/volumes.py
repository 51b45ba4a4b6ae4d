"""What the charts draw: notifications per kind and channel per hour or day (the viewer's
local time), and provider latency, read from the delivery log."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Engine, func, select

from shared.models import DeliveryAttempt, Notification


@dataclass(frozen=True)
class Volumes:
    buckets: list[datetime]  #: local starts of the hours or days, oldest first
    series: dict[tuple[str, str], list[int]]  #: (kind, channel) → a count per bucket


def _utc_hour(engine: Engine) -> ColumnElement[str]:
    """The UTC hour of `created_at` as text: counted by the database, not row by row."""
    if engine.dialect.name == "postgresql":
        return func.to_char(Notification.created_at, "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", Notification.created_at)


def volumes(engine: Engine, *, now: datetime, tz: str, per: str, count: int) -> Volumes:
    """Notifications created per local hour (`per` "hour") or day ("day"), the last
    `count` of them up to `now`, per kind and channel. The database counts per UTC hour;
    the hours are then put in local buckets (a zone off UTC by whole hours, as China's
    is, loses nothing)."""
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    if per == "hour":
        last = local_now.replace(minute=0, second=0, microsecond=0)
        buckets = [last - timedelta(hours=i) for i in reversed(range(count))]
    else:
        last = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        buckets = [
            datetime.combine((last - timedelta(days=i)).date(), last.time(), zone)
            for i in reversed(range(count))
        ]
    index = {b: i for i, b in enumerate(buckets)}
    hour = _utc_hour(engine)
    series: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(buckets))
    with engine.connect() as conn:
        rows = conn.execute(
            select(hour, Notification.kind, Notification.channel, func.count())
            .where(Notification.created_at >= buckets[0].astimezone(UTC))
            .group_by(hour, Notification.kind, Notification.channel)
        )
        for text, kind, channel, n in rows:
            start = datetime.strptime(str(text), "%Y-%m-%d %H").replace(tzinfo=UTC)
            local = start.astimezone(zone)
            key = (
                local.replace(minute=0, second=0, microsecond=0)
                if per == "hour"
                else local.replace(hour=0, minute=0, second=0, microsecond=0)
            )
            if key in index:
                series[(str(kind), str(channel))][index[key]] += int(n)
    return Volumes(buckets, dict(sorted(series.items())))


@dataclass(frozen=True)
class Latency:
    provider: str
    calls: int
    p50_ms: int
    p95_ms: int
    max_ms: int


MAX_LATENCY_ROWS = 200_000  #: the newest calls read for percentiles, a bound on memory


def latencies(engine: Engine, *, since: datetime) -> list[Latency]:
    """Per provider, the calls since `since` and their median, 95th percentile and
    maximum latency (of the newest MAX_LATENCY_ROWS calls)."""
    by_provider: dict[str, list[int]] = defaultdict(list)
    with engine.connect() as conn:
        for provider, ms in conn.execute(
            select(DeliveryAttempt.provider, DeliveryAttempt.latency_ms)
            .where(DeliveryAttempt.started_at >= since)
            .order_by(DeliveryAttempt.id.desc())
            .limit(MAX_LATENCY_ROWS)
        ):
            by_provider[provider].append(int(ms))
    out = []
    for provider, values in sorted(by_provider.items()):
        values.sort()
        out.append(Latency(provider, len(values), _pct(values, 50), _pct(values, 95), values[-1]))
    return out


def _pct(ordered: list[int], pct: int) -> int:
    """The nearest-rank percentile of an ordered, non-empty list."""
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]
