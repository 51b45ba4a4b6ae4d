"""Reminder runs: `liaison run` (one reconcile), `liaison scheduler` (the service),
`liaison demo` (the main job on embedded defaults)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from services.cli.progress import progress_bar
from services.cli.root import app
from shared.ledger.values import InvalidValue, parse_date
from shared.settings import DEFAULT_TIMEZONE, load_settings

#: a bare --as-of date is planned as at this local time: after every default send time
AS_OF_DATE_TIME = time(12, 0)


def parse_instant(text: str | None) -> datetime:
    """`--as-of`: an ISO date-time (local to Asia/Shanghai unless it has an offset), or a
    date (then noon local); default now. Its day must lie in `FIRST_DAY`..`LAST_DAY`: the
    planner looks years back and ahead of it."""
    from shared.calendars import FIRST_DAY, LAST_DAY

    if not text:
        return datetime.now(UTC)
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.combine(parse_date(text), AS_OF_DATE_TIME)
        except InvalidValue as exc:
            raise typer.BadParameter(f"{text!r}: {exc}", param_hint="--as-of") from exc
    if len(text) <= 10:
        moment = datetime.combine(moment.date(), AS_OF_DATE_TIME)
    if not FIRST_DAY <= moment.date() <= LAST_DAY:
        raise typer.BadParameter(
            f"{text!r}: the day must lie between {FIRST_DAY} and {LAST_DAY}",
            param_hint="--as-of",
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def shard_depth(value: int | None) -> int:
    if value is not None:
        return value
    raw = os.environ.get("LIAISON_SHARD_DEPTH", "")
    try:
        return int(raw) if raw else 0
    except ValueError as exc:
        raise typer.BadParameter(f"LIAISON_SHARD_DEPTH={raw!r} is not a whole number") from exc


def warn_calendar(gaps: list[int]) -> None:
    if gaps:
        years = ", ".join(map(str, gaps))
        typer.echo(
            f"warning: the official adjusted working days of {years} are not known yet;"
            " using weekends, the known public holidays and organizations' own calendar"
            " overrides",
            err=True,
        )


@app.command("run")
def run_command(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Plan as at this local date-time (default: now)."),
    ] = None,
    org: Annotated[str | None, typer.Option(help="Only this organization's subtree.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the messages; write and enqueue nothing.")
    ] = False,
    depth: Annotated[
        int | None, typer.Option("--shard-depth", help="Plan in one job per subtree this deep.")
    ] = None,
) -> None:
    """Plan every reminder due now (one reconcile) and print what was planned."""
    from services.bootstrap import bootstrap
    from services.cli.known import require_known
    from services.scheduler.planning.presenting import rendered_drafts, report_text
    from services.scheduler.planning.reconcile import reconcile

    now = parse_instant(as_of)
    wiring = bootstrap(load_settings())
    try:
        require_known(wiring.engine, org=org)
    except typer.BadParameter:
        wiring.close()
        raise
    if dry_run:
        report = reconcile(wiring.engine, now, org=org, depth=shard_depth(depth), dry_run=True)
        warn_calendar(report.calendar_gaps)
        for text in rendered_drafts(report.drafts):
            typer.echo(text)
        typer.echo(report_text(report, dry_run=True))
        return
    try:
        report = reconcile(
            wiring.engine, now, org=org, depth=shard_depth(depth), broker=wiring.broker
        )
    finally:
        wiring.close()
    warn_calendar(report.calendar_gaps)
    typer.echo(report_text(report, dry_run=False))


@app.command("demo")
def demo_command(
    members: Annotated[int, typer.Option(help="Members in the demo county ledger.")] = 2000,
) -> None:
    """The main job on embedded defaults: demo ledger, reminder run, worker, summary."""
    from services.scheduler.demo import run_demo, summary_text

    with progress_bar("rows") as progress:
        summary = run_demo(
            load_settings(),
            members=members,
            say=lambda m: typer.echo(m, err=True),
            progress=progress,
        )
    warn_calendar(summary.plan.calendar_gaps)
    typer.echo(summary_text(summary))


@app.command("scheduler")
def scheduler_command(
    tick_seconds: Annotated[float, typer.Option(help="Seconds between ticks.")] = 30.0,
    depth: Annotated[
        int | None, typer.Option("--shard-depth", help="Plan in one job per subtree this deep.")
    ] = None,
    distribute: Annotated[
        bool, typer.Option(help="Run shard jobs on dramatiq workers instead of inline.")
    ] = False,
    max_ticks: Annotated[int | None, typer.Option(hidden=True)] = None,
    clock_start: Annotated[
        str | None, typer.Option(hidden=True, help="Simulate time from this instant.")
    ] = None,
    clock_step_s: Annotated[
        float, typer.Option(hidden=True, help="Simulated seconds per tick.")
    ] = 0.0,
) -> None:
    """The scheduler service: reconcile on every tick while holding the lease."""
    import signal
    from datetime import timedelta

    from services.bootstrap import bootstrap
    from shared.clock import FixedClock

    settings = load_settings()
    simulated = FixedClock(parse_instant(clock_start)) if clock_start else None
    wiring = bootstrap(settings, clock=simulated)

    def after_tick() -> None:
        if simulated is not None:
            simulated.advance(timedelta(seconds=clock_step_s))

    service = wiring.scheduler(
        tick_s=tick_seconds, depth=shard_depth(depth), distribute=distribute, after_tick=after_tick
    )
    signal.signal(signal.SIGTERM, lambda *_: service.stop.set())
    signal.signal(signal.SIGINT, lambda *_: service.stop.set())
    try:
        service.run(max_ticks=max_ticks)
    finally:
        wiring.close()
