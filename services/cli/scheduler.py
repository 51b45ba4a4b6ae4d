"""Scheduler commands: `due`, `why`, `policy show|set`, `report`."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from services.cli.root import app, check_out
from shared.clock import SystemClock, local_today
from shared.db import ensure_schema, transaction
from shared.ledger.values import InvalidValue, parse_date
from shared.settings import DEFAULT_TIMEZONE, load_settings

policy_app = typer.Typer(help="Rules and their parameters per organization.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


def as_of_date(text: str | None) -> date:
    """The `--as-of` day, or today in China's time zone.

    Bounded (`FIRST_DAY`..`LAST_DAY`) here, where it is read: the rules look years back
    and ahead of it, and 9999-12-31 or 0001-01-01 ran off the calendar deep inside.
    """
    from shared.calendars import FIRST_DAY, LAST_DAY

    if not text:
        return local_today(SystemClock(), DEFAULT_TIMEZONE)
    try:
        day = parse_date(text)
    except InvalidValue as exc:
        raise typer.BadParameter(f"{text!r}: {exc}", param_hint="--as-of") from exc
    if not FIRST_DAY <= day <= LAST_DAY:
        raise typer.BadParameter(
            f"{text!r}: the day must lie between {FIRST_DAY} and {LAST_DAY}",
            param_hint="--as-of",
        )
    return day


AsOf = Annotated[
    str | None, typer.Option("--as-of", help="The day to compute for (default: today).")
]


@app.command()
def due(
    as_of: AsOf = None,
    org: Annotated[str | None, typer.Option(help="Only this organization's subtree.")] = None,
    liaison: Annotated[str | None, typer.Option(help="Only this liaison's members.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl, table, csv or xlsx.")] = "table",
    out: Annotated[Path | None, typer.Option(help="Write to this file (needed for xlsx).")] = None,
) -> None:
    """List every open task, ordered by liaison, then urgency."""
    from services.scheduler.tasks.due import DueQuery, compute_due
    from services.scheduler.tasks.listing import FORMATS, write_listing

    if fmt not in FORMATS:
        raise typer.BadParameter(
            f"{fmt!r}; expected one of {', '.join(FORMATS)}", param_hint="--format"
        )
    if fmt == "xlsx" and out is None:
        raise typer.BadParameter("xlsx needs --out FILE", param_hint="--out")
    check_out(out)
    engine = ensure_schema(load_settings())
    query = DueQuery(as_of_date(as_of), org=org, liaison_id=liaison, rule=rule)
    tasks = compute_due(engine, query)
    if out is not None and fmt != "xlsx":
        with out.open("w", encoding="utf-8", newline="") as handle:
            count = write_listing(tasks, fmt, handle, None)
        typer.echo(f"{count} open task(s) written to {out}", err=True)
    else:
        count = write_listing(tasks, fmt, sys.stdout, out)
        if out is not None:
            typer.echo(f"{count} open task(s) written to {out}", err=True)


@app.command()
def why(
    member: Annotated[str, typer.Argument(help="The member's id.")],
    as_of: AsOf = None,
) -> None:
    """Explain, rule by rule, why a member is or is not due."""
    from services.scheduler.tasks.why import explain_member, render_explanation

    engine = ensure_schema(load_settings())
    typer.echo(render_explanation(explain_member(engine, member, as_of_date(as_of))))


@policy_app.command("show")
def policy_show(org: Annotated[str, typer.Option(help="The organization's code.")]) -> None:
    """Print the effective policy of an organization and where each value comes from."""
    import json

    from sqlalchemy.orm import Session

    from services.scheduler.tasks.policy import OrgTree, PolicyBook

    engine = ensure_schema(load_settings())
    with Session(engine) as session:
        tree = OrgTree.load(session)
        tree.require(org)
        book = PolicyBook.load(session, tree)
    typer.echo(f"policy of {org} ({tree.names[org]}); lineage: {' < '.join(tree.lineage(org))}")
    for v in book.values(org):
        value = json.dumps(v.value, ensure_ascii=False)
        typer.echo(f"{v.rule}.{v.param} = {value}  [{v.source}]")


@policy_app.command("set")
def policy_set(
    assignments: Annotated[list[str], typer.Argument(help="RULE.PARAM=VALUE (VALUE is JSON).")],
    org: Annotated[str, typer.Option(help="The organization's code.")],
) -> None:
    """Override rule parameters for an organization and its whole subtree."""
    from services.scheduler.tasks.policy import parse_assignment, set_override

    engine = ensure_schema(load_settings())
    parsed = [parse_assignment(a) for a in assignments]
    with transaction(engine) as session:
        for rule, param, value in parsed:
            set_override(session, org, rule, param, value)
    for rule, param, value in parsed:
        typer.echo(f"{org}: {rule}.{param} = {value!r}")


@app.command()
def report(
    period: Annotated[str, typer.Option(help="2026-10, 2026-Q4, 2026-H2 or 2026.")],
    org: Annotated[str | None, typer.Option(help="Only this organization's subtree.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or xlsx.")] = "table",
    out: Annotated[Path | None, typer.Option(help="Write to this file (needed for xlsx).")] = None,
    as_of: AsOf = None,
    max_load: Annotated[int, typer.Option(help="Members per liaison before over-load.")] = 5,
) -> None:
    """Compliance per organization: contacts and visits done, gaps, loads; totals roll up."""
    from services.scheduler.tasks import report as reporting

    if fmt not in ("table", "csv", "xlsx"):
        raise typer.BadParameter(f"{fmt!r}; expected table, csv or xlsx", param_hint="--format")
    if fmt == "xlsx" and out is None:
        raise typer.BadParameter("xlsx needs --out FILE", param_hint="--out")
    check_out(out)
    engine = ensure_schema(load_settings())
    result = reporting.compliance_report(
        engine, period, today=as_of_date(as_of), org=org, max_load=max_load
    )
    if fmt == "xlsx":
        assert out is not None
        count = reporting.write_xlsx(result, out)
        typer.echo(f"{count} organization(s) written to {out}", err=True)
        return
    rows = [reporting.row_values(r) for r in result.rows]
    handle = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        if fmt == "csv":
            reporting.write_csv(result, handle)
            return
        handle.write(
            f"compliance {result.period_start.isoformat()}..{result.period_end.isoformat()}"
            f" (evaluated on {result.evaluated_on.isoformat()}); each row covers its subtree\n"
        )
        header = (
            "organization",
            "members",
            "contacts",
            "visits",
            "unassigned",
            "over-load",
            "movers w/o 1:1",
            "80+ <2 visits",
            "no event",
        )
        handle.write(
            "  ".join(f"{h:>14}" if i else f"{h:<34}" for i, h in enumerate(header)) + "\n"
        )
        for r, values in zip(result.rows, rows, strict=True):
            label = ("  " * r.depth + f"{r.org} {r.name}")[:34]
            cells = [
                label.ljust(34),
                values[2],
                f"{values[5]} ({values[3]}/{values[4]})",
                f"{values[8]} ({values[6]}/{values[7]})",
                *values[9:],
            ]
            handle.write(
                "  ".join(str(c) if i == 0 else f"{c!s:>14}" for i, c in enumerate(cells)) + "\n"
            )
    finally:
        if out:
            handle.close()
