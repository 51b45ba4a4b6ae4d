"""`liaison status`: the dashboard's figures as tables, for a person over SSH."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from services.web.alerts import Alert
from services.web.snapshot import Snapshot


def render_status(snap: Snapshot, alerts: list[Alert], console: Console) -> None:
    queues = Table(title="Queues")
    for name in ("queue", "waiting", "in flight", "delayed", "dead", "oldest (s)"):
        queues.add_column(name, justify="left" if name == "queue" else "right")
    for q in snap.queues:
        oldest = "-" if q.oldest_waiting_s is None else f"{q.oldest_waiting_s:.0f}"
        queues.add_row(
            q.name, str(q.waiting), str(q.in_flight), str(q.delayed), str(q.dead), oldest
        )
    console.print(queues)
    s = snap.scheduler
    scheduler = Table(title="Scheduler", show_header=False)
    scheduler.add_column("what")
    scheduler.add_column("value")
    scheduler.add_row("state", "ticking" if s.ticking else "NOT TICKING")
    scheduler.add_row(
        "last successful tick",
        "never" if s.last_tick is None else f"{s.last_tick.isoformat()} ({s.tick_age_s:.0f} s ago)",
    )
    scheduler.add_row("lease", "held" if s.lease_held else "free")
    scheduler.add_row("planning timeouts", str(s.planning_timeouts))
    if s.last_failure_at is not None:
        scheduler.add_row(
            "last failed tick", f"{s.last_failure_at.isoformat()}: {s.last_failure or ''}"
        )
    console.print(scheduler)
    counts = Table(title="Notifications")
    for name in ("kind", "channel", "status", "count"):
        counts.add_column(name, justify="right" if name == "count" else "left")
    for n in snap.notifications:
        counts.add_row(n.kind, n.channel, n.status, str(n.count))
    console.print(counts)
    if alerts:
        for a in alerts:
            console.print(
                f"[bold red]ALERT[/] {a.message}" + (f" (since {a.since})" if a.since else "")
            )
    else:
        console.print("[green]No alerts[/]")
