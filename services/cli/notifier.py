"""Notifier commands: `worker`, `deliveries` (the log) and `deliveries retry --dead`."""

from __future__ import annotations

import csv
import os
import sys
from datetime import UTC, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from services.cli.root import app
from shared.db import ensure_schema, transaction
from shared.errors import ConfigurationError
from shared.settings import DEFAULT_TIMEZONE, load_settings

deliveries_app = typer.Typer(help="The delivery log, and requeuing what died.")
app.add_typer(deliveries_app, name="deliveries")

WORKER_MODULE = "services.worker"


@app.command()
def worker(
    processes: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    threads: Annotated[int, typer.Option(help="Threads per process.")] = 8,
    queues: Annotated[
        list[str] | None,
        typer.Option(
            "--queues",
            help="Only these queues (repeatable): notifications, planning. Default: both.",
        ),
    ] = None,
) -> None:
    """Run the workers: they send notifications and plan the scheduler's shards."""
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    from services.bootstrap import WORKER_QUEUES
    from shared.redis_server import redis_url

    unknown = sorted(set(queues or ()) - set(WORKER_QUEUES))
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)}; expected {' or '.join(WORKER_QUEUES)}", param_hint="--queues"
        )
    settings = load_settings()
    # Resolved once here so that every worker process gets the same server, embedded or not.
    os.environ["LIAISON_REDIS_URL"] = redis_url(settings)
    argv = [WORKER_MODULE, "--processes", str(processes), "--threads", str(threads)]
    if queues:
        argv += ["--queues", *queues]
    args = make_argument_parser().parse_args(argv)  # type: ignore[no-untyped-call]
    sys.exit(dramatiq_main(args))  # type: ignore[no-untyped-call]


def _day_start(text: str | None, option: str) -> datetime | None:
    """A date (China's time zone, start of day) or an ISO instant, as UTC."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date", param_hint=option) from exc
    if len(text) <= 10:
        parsed = datetime.combine(parsed.date(), time(0), tzinfo=ZoneInfo(DEFAULT_TIMEZONE))
    elif parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(DEFAULT_TIMEZONE))
    return parsed.astimezone(UTC)


@deliveries_app.callback(invoke_without_command=True)
def deliveries(
    ctx: typer.Context,
    status: Annotated[list[str] | None, typer.Option(help="Only this status (repeatable).")] = None,
    channel: Annotated[str | None, typer.Option(help="sms, email or wecom.")] = None,
    kind: Annotated[str | None, typer.Option(help="e.g. liaison_digest.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Created on or after (date or instant).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Created before (date or instant).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many rows.")] = None,
    format: Annotated[str, typer.Option("--format", help="table or csv.")] = "table",
    lang: Annotated[str, typer.Option("--lang", help="zh-CN or en (the table's words).")] = (
        "zh-CN"
    ),
) -> None:
    """List the delivery log, newest first, with recipients masked: a table of 80 columns
    in China's local time with a total line, or CSV (UTC instants) for a spreadsheet."""
    if ctx.invoked_subcommand is not None:
        return
    from services.notifier.deliveries import COLUMNS, count_deliveries, list_deliveries
    from services.web.labels import LANGS
    from shared.ledger.formulas import csv_cell

    if format not in ("table", "csv"):
        raise typer.BadParameter("must be table or csv", param_hint="--format")
    if lang not in LANGS:
        raise typer.BadParameter(f"{lang!r}; expected zh-CN or en", param_hint="--lang")
    filters = {
        "statuses": status or (), "channel": channel, "kind": kind,
        "since": _day_start(since, "--since"), "until": _day_start(until, "--until"),
    }  # fmt: skip
    engine = ensure_schema(load_settings())
    with transaction(engine) as session:
        rows = list_deliveries(session, limit=limit, **filters)  # type: ignore[arg-type]
        total = count_deliveries(session, **filters) if limit else len(rows)  # type: ignore[arg-type]
    if format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(COLUMNS)
        # The log holds provider text: no cell may reach a spreadsheet as a live formula.
        writer.writerows([csv_cell(v) for v in row.as_strings()] for row in rows)
        return
    from services.cli.deliveries_table import table_lines
    from services.web.labels import Labels

    for line in table_lines(rows, t=Labels(lang), tz=DEFAULT_TIMEZONE, total=total):
        typer.echo(line)


@deliveries_app.command("retry")
def retry(
    dead: Annotated[bool, typer.Option("--dead", help="Requeue dead notifications.")] = False,
    reason: Annotated[
        str | None,
        typer.Option(help="Only those dead of this reason, as `liaison status` groups them."),
    ] = None,
) -> None:
    """Requeue dead notifications (transient errors outlasted their retries, or a worker
    was lost while sending), each once; the delivery log records who requeued them."""
    if not dead:
        raise ConfigurationError("say what to retry: `liaison deliveries retry --dead`")
    import getpass

    from services.notifier import build_broker, requeue_dead
    from shared.redis_server import redis_url

    settings = load_settings()
    engine = ensure_schema(settings)
    broker = build_broker(redis_url(settings), settings)
    try:
        sent = requeue_dead(
            engine, broker, now=datetime.now(UTC), by=f"{getpass.getuser()} (cli)", reason=reason
        )
    finally:
        broker.close()
    typer.echo(f"requeued {len(sent)} dead notification(s)")
    if reason is not None and not sent:
        from sqlalchemy.orm import Session

        from services.notifier import dead_by_reason

        with Session(engine) as session:
            groups = dead_by_reason(session)
        typer.echo("the reasons of the dead now (give one exactly):")
        for group in groups:
            typer.echo(f"  {group.count:>6}  {group.reason}")
