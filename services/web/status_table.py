"""`liaison status`: the dashboard's figures as tables, for a person over SSH, with the
same labels (Chinese by default) and the same dead count."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from services.notifier import DeadGroup
from services.web.alerts import Alert
from services.web.labels import Labels
from services.web.scheduler_status import SchedulerStatus
from services.web.snapshot import Snapshot
from services.web.times import local_text


def render_status(
    snap: Snapshot,
    alerts: list[Alert],
    console: Console,
    *,
    t: Labels,
    tz: str,
    groups: Sequence[DeadGroup] = (),
) -> None:
    """Queues, the dead count and its reasons, workers, the scheduler, counts and alerts."""
    console.print(_queues(snap, t))
    console.print(f"{t('dead')}: {snap.dead}", highlight=False)
    if groups:
        console.print(_dead_reasons(groups, t))
    console.print(_workers(snap, t, tz))
    console.print(_scheduler(snap.scheduler, t, tz))
    console.print(_notifications(snap, t))
    if alerts:
        for a in alerts:
            since = f" ({t('alerts.since', since=local_text(a.since, tz))})" if a.since else ""
            console.print(f"[bold red]{t('alerts.word')}[/] {a.message(t)}{since}", highlight=False)
    else:
        console.print(f"[green]{t('alerts.none')}[/]")


def _queues(snap: Snapshot, t: Labels) -> Table:
    queues = Table(title=t("queues"))
    keys = ("queue.name", "queue.waiting", "queue.in_flight", "queue.delayed", "queue.dead",
            "queue.oldest", "queue.workers")  # fmt: skip
    for key in keys:
        queues.add_column(t(key), justify="left" if key == "queue.name" else "right")
    for q in snap.queues:
        oldest = "-" if q.oldest_waiting_s is None else t("seconds", n=round(q.oldest_waiting_s))
        queues.add_row(
            q.name, str(q.waiting), str(q.in_flight), str(q.delayed),
            str(snap.dead_in(q.name)), oldest, str(snap.workers_on(q.name)),
        )  # fmt: skip
    return queues


def _dead_reasons(groups: Sequence[DeadGroup], t: Labels) -> Table:
    reasons = Table(title=t("dead.reason"))
    reasons.add_column(t("dead.count"), justify="right")
    reasons.add_column(t("dead.reason"), overflow="fold")
    for g in groups:
        reasons.add_row(str(g.count), g.reason)
    return reasons


def _workers(snap: Snapshot, t: Labels, tz: str) -> Table:
    workers = Table(title=f"{t('workers')}: {len(snap.workers)}")
    for key in ("worker.host", "worker.pid", "worker.queues", "worker.last_seen"):
        workers.add_column(t(key))
    for w in snap.workers:
        workers.add_row(
            w.host, str(w.pid), ", ".join(w.queues), local_text(w.last_seen, tz, seconds=True)
        )
    return workers


def _scheduler(s: SchedulerStatus, t: Labels, tz: str) -> Table:
    scheduler = Table(title=t("scheduler"), show_header=False)
    scheduler.add_column("what")
    scheduler.add_column("value")
    scheduler.add_row("", t("scheduler.ticking") if s.ticking else t("scheduler.not_ticking"))
    scheduler.add_row(
        t("scheduler.last_tick"),
        t("scheduler.never")
        if s.last_tick is None
        else f"{local_text(s.last_tick, tz, seconds=True)} "
        f"({t('alert.scheduler.ago', age=round(s.tick_age_s or 0))})",
    )
    scheduler.add_row(
        t("scheduler.lease"), t("scheduler.lease.held" if s.lease_held else "scheduler.lease.free")
    )
    scheduler.add_row(t("scheduler.timeouts"), str(s.planning_timeouts))
    if s.last_failure_at is not None:
        scheduler.add_row(
            t("scheduler.last_failure"),
            f"{local_text(s.last_failure_at, tz)}: {s.last_failure or ''}",
        )
    return scheduler


def _notifications(snap: Snapshot, t: Labels) -> Table:
    counts = Table(title=t("scheduler.notifications"))
    for key in ("col.kind", "col.channel", "col.status", "dead.count"):
        counts.add_column(t(key), justify="right" if key == "dead.count" else "left")
    for n in snap.notifications:
        counts.add_row(
            t.word("kind", n.kind), t.word("channel", n.channel), t.word("status", n.status),
            str(n.count),
        )  # fmt: skip
    return counts
