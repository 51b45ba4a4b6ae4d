"""Ledger commands: `db upgrade`, `import`, `export`, `record`."""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from services.cli.labels import LangOption, resolve_lang, say, word
from services.cli.progress import progress_bar
from services.cli.root import app, check_out
from shared.db import current_revision, engine_for, ensure_schema, upgrade
from shared.errors import ImportRejected
from shared.ledger.importer import ImportReport
from shared.masking import mask_text
from shared.settings import load_settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the configured database to the current schema."""
    engine = engine_for(load_settings())
    upgrade(engine)
    typer.echo(f"database at revision {current_revision(engine)}")


def _report_problems(rejected: ImportRejected, *, dry_run: bool) -> None:
    for line in rejected.problems:
        typer.echo(mask_text(line), err=True)
    written = "nothing was written" if not dry_run else "dry run: nothing was written"
    typer.echo(f"{len(rejected.problems)} problem(s) found; {written}", err=True)
    raise typer.Exit(1)


def _print_counts(report: ImportReport) -> None:
    for line in report.warnings:
        typer.echo(f"warning: {mask_text(line)}", err=True)
    verb = "would write" if report.dry_run else "written"
    for count in report.counts:
        typer.echo(f"{count.kind}: {count.read} read, {count.written} {verb}")
    if report.dry_run:
        typer.echo("dry run: nothing was written")


@app.command("import")
def import_command(
    paths: Annotated[list[Path], typer.Argument(help="CSV or XLSX ledger files.")],
    kind: Annotated[
        str | None, typer.Option(help="The kind of every CSV file (default: from its name).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Validate only; write nothing.")] = False,
) -> None:
    """Import ledger files, all or nothing: any problem rejects the whole set."""
    from shared.ledger.importer import import_files

    engine = ensure_schema(load_settings())
    try:
        with progress_bar("rows") as progress:
            report = import_files(engine, paths, kind=kind, dry_run=dry_run, progress=progress)
    except ImportRejected as rejected:
        _report_problems(rejected, dry_run=dry_run)
        return
    _print_counts(report)


@app.command("export")
def export_command(
    kind: Annotated[str, typer.Argument(help="A kind (members, interactions…) or all.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    out: Annotated[
        Path | None, typer.Option(help="File (a directory for `all` as CSV); CSV default: stdout.")
    ] = None,
    full: Annotated[
        bool, typer.Option(help="Write ID numbers, phones and emails unmasked.")
    ] = False,
    lang: LangOption = None,
) -> None:
    """Export the ledger in the import format (personal columns masked unless --full).

    CSV has the contract's column names and codes whatever --lang says; an XLSX in zh-CN
    has the Chinese headers, which import reads back."""
    from shared.ledger.exporter import export_kind

    if fmt not in ("csv", "xlsx"):
        raise typer.BadParameter(f"{fmt!r}; expected csv or xlsx", param_hint="--format")
    if out is None and (fmt == "xlsx" or kind == "all"):
        raise typer.BadParameter(f"{kind} as {fmt} needs --out", param_hint="--out")
    if not (kind == "all" and fmt == "csv"):  # a folder, made if missing
        check_out(out)
    language = resolve_lang(lang)
    engine = ensure_schema(load_settings())
    if out is not None:
        with progress_bar(word("rows_unit", language)) as progress:
            count = export_kind(
                engine,
                kind,
                "xlsx" if fmt == "xlsx" else "csv",
                out,
                full=full,
                chinese_headers=language == "zh-CN",
                progress=progress,
            )
        typer.echo(say("rows_written", language, count=count, path=out), err=True)
        return
    # The bytes on stdout are UTF-8 whatever the terminal's locale, as in a file. No bar:
    # the rows themselves go to the terminal.
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
    try:
        export_kind(engine, kind, "csv", stream, full=full)
    finally:
        stream.flush()
        stream.detach()


@app.command("record")
def record_command(
    kind: Annotated[
        str, typer.Argument(help="interactions, reviews, deliveries, attendance, moves, …")
    ],
    member: Annotated[str, typer.Option(help="The member's id.")],
    on: Annotated[str, typer.Option(help="The day (2026-03-01, 2026/3/1, 2026年3月1日).")],
    place: Annotated[str | None, typer.Option(help="home, workplace or other.")] = None,
    liaison: Annotated[str | None, typer.Option(help="The liaison's id.")] = None,
    note: Annotated[str | None, typer.Option(help="A note.")] = None,
    interaction: Annotated[
        str | None,
        typer.Option("--kind", help="phone, sms, wechat, visit, meeting or other."),
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="The campaign's id (deliveries).")] = None,
    event: Annotated[str | None, typer.Option(help="The event's id (attendance).")] = None,
    location: Annotated[str | None, typer.Option(help="Where the member moved to.")] = None,
) -> None:
    """Record one interaction, review, delivery, attendance, move or verification.

    A day after today is refused (only what happened is recorded); a liaison who is not
    the member's liaison on that day is recorded as given, with a warning."""
    from shared.ledger.recording import record_fact

    day = _day_up_to_today(on)
    values = {
        "member_id": member,
        "on": on,
        "place": place,
        "liaison_id": liaison,
        "note": note,
        "kind": interaction,
        "campaign_id": campaign,
        "event_id": event,
        "location": location,
    }
    engine = ensure_schema(load_settings())
    try:
        record_fact(engine, kind, values)
    except ImportRejected as rejected:
        _report_problems(rejected, dry_run=False)
        return
    assert day is not None  # the importer refused a day it could not read
    if liaison is not None:
        _warn_unless_their_liaison(engine, member, liaison, day)
    typer.echo(f"{kind}: recorded for {member} on {day.isoformat()}")


def _day_up_to_today(on: str) -> date | None:
    """The day `--on` names, refused when after today; None when unreadable (the importer
    then lists it with every other problem of the row)."""
    from services.bootstrap import configured_clock
    from shared.clock import local_today
    from shared.ledger.values import InvalidValue, parse_date
    from shared.settings import DEFAULT_TIMEZONE

    try:
        day = parse_date(on)
    except InvalidValue:
        return None
    # Today by the configured clock: in a rehearsal (LIAISON_CLOCK_FILE), the rehearsal's.
    today = local_today(configured_clock(load_settings()), DEFAULT_TIMEZONE)
    if day > today:
        raise typer.BadParameter(
            f"{on!r} is after today ({today.isoformat()}): record what has happened",
            param_hint="--on",
        )
    return day


def _warn_unless_their_liaison(engine: Engine, member: str, liaison: str, day: date) -> None:
    """A warning, with names, when `liaison` is not the member's liaison on `day`."""
    from services.cli.known import liaison_on, name_of

    assigned = liaison_on(engine, member, day)
    if assigned != liaison:
        whose = name_of(engine, "member", member)
        current = f"{name_of(engine, 'liaison', assigned)} is" if assigned else "nobody is"
        typer.echo(
            f"warning: {name_of(engine, 'liaison', liaison)} is not {whose}'s liaison on "
            f"{day.isoformat()} ({current}); recorded as given",
            err=True,
        )
