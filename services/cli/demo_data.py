"""`liaison demo-data`: write a synthetic county ledger to import for a demo or a benchmark."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from services.cli.root import app
from shared.clock import SystemClock, local_today
from shared.ledger.values import InvalidValue, parse_date
from shared.settings import DEFAULT_TIMEZONE


def _as_of(text: str | None) -> date:
    """The `--as-of` day, or today in China's time zone."""
    if not text:
        return local_today(SystemClock(), DEFAULT_TIMEZONE)
    try:
        return parse_date(text)
    except InvalidValue as exc:
        raise typer.BadParameter(f"{text!r}: {exc}", param_hint="--as-of") from exc


@app.command("demo-data")
def demo_data(
    members: Annotated[int, typer.Option(min=1, help="How many mobile members.")],
    out: Annotated[Path, typer.Option(help="Directory to write the CSV files into.")],
    seed: Annotated[int, typer.Option(help="The same seed gives the same files.")] = 1,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The day the history runs up to (default: today)."),
    ] = None,
) -> None:
    """Write a synthetic county ledger (one CSV file per kind) in the import format."""
    from shared.ledger.synthetic import generate_ledger

    summary = generate_ledger(out, members=members, seed=seed, as_of=_as_of(as_of))
    typer.echo(
        f"wrote a ledger of {summary.members:,} members as of {summary.as_of} (seed {seed}) "
        f"to {out} in {summary.seconds:.1f} s"
    )
    width = max(len(kind) for kind in summary.rows)
    for kind, rows in summary.rows.items():
        typer.echo(f"  {kind:<{width}}  {rows:>12,}")
    typer.echo(f"  {'total':<{width}}  {summary.total_rows:>12,}")
    typer.echo(
        f"aged 80+: {summary.elderly:,}; frequent movers: {summary.frequent_movers:,}; "
        f"active without a liaison: {summary.unassigned:,}; muted: {summary.muted:,}"
    )
