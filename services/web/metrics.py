"""`/metrics` in Prometheus format, read at scrape time by a custom collector: nothing is
counted in this process, so every web process reports the same figures.

dramatiq's own Prometheus middleware is not used: it counts inside each worker and serves
them from a port of its own, while these figures live in Redis and the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func, select

from services.web.alerts import Alert, AlertBook
from services.web.context import WebContext
from services.web.scheduler_status import SchedulerStatus
from services.web.snapshot import Snapshot, take_snapshot
from shared.models import DeliveryAttempt

log = logging.getLogger(__name__)

#: provider latency buckets, milliseconds
LATENCY_BUCKETS_MS = (50, 100, 250, 500, 1000, 2500, 5000, 10000)


def latency_histogram(engine: Engine) -> dict[str, tuple[list[int], int, int]]:
    """Per provider: cumulative counts per bucket, the count and the sum (ms)."""
    columns = [
        func.sum(case((DeliveryAttempt.latency_ms <= b, 1), else_=0)) for b in LATENCY_BUCKETS_MS
    ]
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                DeliveryAttempt.provider,
                func.count(),
                func.coalesce(func.sum(DeliveryAttempt.latency_ms), 0),
                *columns,
            ).group_by(DeliveryAttempt.provider)
        ).all()
    return {r[0]: ([int(x or 0) for x in r[3:]], int(r[1]), int(r[2])) for r in rows}


class LiaisonCollector(Collector):
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        ctx = self.ctx
        snap = take_snapshot(ctx.engine, ctx.redis, ctx.namespace, ctx.web, now=ctx.clock.now())
        yield from _queue_metrics(snap)
        yield from _delivery_metrics(snap, AlertBook(ctx.redis, ctx.web, None).current(snap))
        yield from _scheduler_metrics(snap.scheduler)
        yield from _latency_metrics(ctx.engine)


def _queue_metrics(snap: Snapshot) -> Iterator[Metric]:
    """Each dramatiq queue's depth, dead letters and oldest message."""
    labels = ["queue"]
    waiting = GaugeMetricFamily(
        "liaison_queue_messages", "Messages waiting on a dramatiq queue", labels=labels
    )
    in_flight = GaugeMetricFamily(
        "liaison_queue_in_flight_messages",
        "Messages fetched, not yet acknowledged",
        labels=labels,
    )
    delayed = GaugeMetricFamily(
        "liaison_queue_delayed_messages", "Messages on the delay queue", labels=labels
    )
    dead = GaugeMetricFamily(
        "liaison_queue_dead_messages",
        "Messages dramatiq dead-lettered in Redis (not dead notifications: see "
        "liaison_dead_notifications)",
        labels=labels,
    )
    oldest = GaugeMetricFamily(
        "liaison_queue_oldest_message_age_seconds",
        "Age of the oldest waiting message (0 when none waits)",
        labels=labels,
    )
    for q in snap.queues:
        waiting.add_metric([q.name], q.waiting)
        in_flight.add_metric([q.name], q.in_flight)
        delayed.add_metric([q.name], q.delayed)
        dead.add_metric([q.name], q.dead)
        oldest.add_metric([q.name], q.oldest_waiting_s or 0.0)
    yield from (waiting, in_flight, delayed, dead, oldest)


def _delivery_metrics(snap: Snapshot, alerts: Iterable[Alert]) -> Iterator[Metric]:
    """The one dead count, live workers, alerts holding and notifications by status."""
    # The one dead count: the page's badge, `liaison status` and the alerts say this.
    dead_notifications = GaugeMetricFamily(
        "liaison_dead_notifications",
        "Notifications dead now (retries exhausted, or lost while sending), from the delivery log",
    )
    dead_notifications.add_metric([], snap.dead)
    yield dead_notifications
    workers = GaugeMetricFamily(
        "liaison_workers", "Worker processes with a live heartbeat, by queue", labels=["queue"]
    )
    for q in snap.queues:
        workers.add_metric([q.name], snap.workers_on(q.name))
    yield workers
    holding = GaugeMetricFamily(
        "liaison_alert", "1 for each alert that holds now", labels=["alert", "kind"]
    )
    for alert in alerts:
        holding.add_metric([alert.key, alert.kind], 1.0)
    yield holding
    notifications = GaugeMetricFamily(
        "liaison_notifications",
        "Notifications by kind, channel and status",
        labels=["kind", "channel", "status"],
    )
    for n in snap.notifications:
        notifications.add_metric([n.kind, n.channel, n.status], n.count)
    yield notifications


def _scheduler_metrics(s: SchedulerStatus) -> Iterator[Metric]:
    """The scheduler's last tick, lease, planning timeouts and last failure."""
    tick = GaugeMetricFamily(
        "liaison_scheduler_last_tick_timestamp_seconds",
        "Unix time of the scheduler's last successful tick (0: never)",
    )
    tick.add_metric([], s.last_tick.timestamp() if s.last_tick else 0.0)
    yield tick
    lease = GaugeMetricFamily("liaison_scheduler_lease_held", "1 while a scheduler holds the lease")
    lease.add_metric([], 1.0 if s.lease_held else 0.0)
    yield lease
    timeouts = CounterMetricFamily(
        "liaison_scheduler_planning_timeouts",
        "Ticks that gave up waiting for the workers to plan their shards",
    )
    timeouts.add_metric([], float(s.planning_timeouts))
    yield timeouts
    failure = GaugeMetricFamily(
        "liaison_scheduler_last_failure_timestamp_seconds",
        "Unix time of the scheduler's last failed tick (0: none recorded)",
    )
    failure.add_metric([], s.last_failure_at.timestamp() if s.last_failure_at else 0.0)
    yield failure


def _latency_metrics(engine: Engine) -> Iterator[Metric]:
    """Provider call latency as a histogram, from the delivery attempts."""
    histogram = HistogramMetricFamily(
        "liaison_provider_latency_seconds",
        "Latency of calls to SMS and email providers",
        labels=["provider"],
    )
    for provider, (cumulative, count, total_ms) in latency_histogram(engine).items():
        buckets = [(str(b / 1000), c) for b, c in zip(LATENCY_BUCKETS_MS, cumulative, strict=True)]
        buckets.append(("+Inf", count))
        histogram.add_metric([provider], buckets, total_ms / 1000)
    yield histogram


def build_registry(ctx: WebContext) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LiaisonCollector(ctx))
    return registry
