"""Scheduler commands: `due`, `why`, `policy show|set|unset`, `report`."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from services.cli.labels import LangOption, resolve_lang, say, word
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
    lang: LangOption = None,
) -> None:
    """List every open task, ordered by liaison, then urgency."""
    from services.cli.due_output import Names, counting, write_sheet, write_table
    from services.cli.known import require_known, require_task_rule
    from services.cli.progress import progress_bar
    from services.scheduler.tasks.due import DueQuery, compute_due
    from services.scheduler.tasks.listing import FORMATS, write_listing

    if fmt not in FORMATS:
        raise typer.BadParameter(
            f"{fmt!r}; expected one of {', '.join(FORMATS)}", param_hint="--format"
        )
    if fmt == "xlsx" and out is None:
        raise typer.BadParameter("xlsx needs --out FILE", param_hint="--out")
    check_out(out)
    language = resolve_lang(lang)
    day = as_of_date(as_of)
    engine = ensure_schema(load_settings())
    require_known(engine, org=org, liaison=liaison)
    require_task_rule(engine, rule, language)
    tasks = compute_due(engine, DueQuery(day, org=org, liaison_id=liaison, rule=rule))
    if out is None:  # the listing itself goes to the terminal: no bar over it
        if fmt == "table":
            write_table(tasks, Names.load(engine), language, sys.stdout)
        else:
            write_listing(tasks, fmt, sys.stdout, None)
        return
    with progress_bar(word("tasks_unit", language)) as progress:
        counted = counting(tasks, word("tasks_bar", language), progress)
        if fmt == "xlsx":
            count = write_sheet(counted, Names.load(engine), language, out)
        else:
            with out.open("w", encoding="utf-8", newline="") as handle:
                if fmt == "table":
                    count = write_table(counted, Names.load(engine), language, handle)
                else:
                    count = write_listing(counted, fmt, handle, None)
    typer.echo(say("tasks_written", language, count=count, path=out), err=True)


@app.command()
def why(
    member: Annotated[str, typer.Argument(help="The member's id.")],
    as_of: AsOf = None,
) -> None:
    """Explain, rule by rule, why a member is or is not due."""
    from services.cli.history import attendance_lines
    from services.cli.known import require_known
    from services.scheduler.tasks.why import explain_member, render_explanation
    from shared.page_links import page_history

    day = as_of_date(as_of)
    engine = ensure_schema(load_settings())
    require_known(engine, member=member, hint="MEMBER")
    typer.echo(render_explanation(explain_member(engine, member, day)))
    typer.echo("")
    typer.echo("\n".join(attendance_lines(engine, member, day)))
    history = page_history(engine, member, day)
    if history:
        typer.echo("\nrecorded on the liaison's page (source page):")
        typer.echo("\n".join(f"  {line}" for line in history))


@policy_app.command("show")
def policy_show(org: Annotated[str, typer.Option(help="The organization's code.")]) -> None:
    """Print the effective policy of an organization and where each value comes from."""
    from sqlalchemy.orm import Session

    from services.cli.known import require_known
    from services.scheduler.tasks.policy import PolicyBook
    from shared.org_tree import OrgTree

    engine = ensure_schema(load_settings())
    require_known(engine, org=org)
    with Session(engine) as session:
        tree = OrgTree.load(session)
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
    """Override rule parameters for an organization and its whole subtree (all or none:
    every value is checked first)."""
    from services.cli.known import require_known
    from services.scheduler.tasks.policy import parse_assignment, set_override

    engine = ensure_schema(load_settings())
    require_known(engine, org=org)
    parsed = [parse_assignment(a) for a in assignments]
    with transaction(engine) as session:
        for rule, param, value in parsed:
            set_override(session, org, rule, param, value)
    for rule, param, value in parsed:
        typer.echo(f"{org}: {rule}.{param} = {json.dumps(value, ensure_ascii=False)}")


@policy_app.command("unset")
def policy_unset(
    targets: Annotated[list[str], typer.Argument(help="RULE.PARAM to give back.")],
    org: Annotated[str, typer.Option(help="The organization's code.")],
) -> None:
    """Remove an organization's own values: its nearest ancestor's, or the default, apply
    again. Says what each parameter is now and where that comes from."""
    from sqlalchemy.orm import Session

    from services.cli.known import require_known
    from services.scheduler.tasks.policy import PolicyBook, PolicyError, unset_override
    from shared.org_tree import OrgTree

    engine = ensure_schema(load_settings())
    require_known(engine, org=org)
    pairs = []
    for target in targets:
        rule, dot, param = target.strip().partition(".")
        if not dot or not rule or not param or "=" in target:
            raise PolicyError(f"expected RULE.PARAM, got {target!r}")
        pairs.append((rule, param))
    with transaction(engine) as session:
        for rule, param in pairs:
            unset_override(session, org, rule, param)
    with Session(engine) as session:
        now = {
            (v.rule, v.param): v
            for v in PolicyBook.load(session, OrgTree.load(session)).values(org)
        }
    for rule, param in pairs:
        v = now[(rule, param)]
        value = json.dumps(v.value, ensure_ascii=False)
        typer.echo(f"{org}: {rule}.{param} unset; now {value}  [{v.source}]")


@app.command()
def report(
    period: Annotated[str, typer.Option(help="2026-10, 2026-Q4, 2026-H2 or 2026.")],
    org: Annotated[str | None, typer.Option(help="Only this organization's subtree.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or xlsx.")] = "table",
    out: Annotated[Path | None, typer.Option(help="Write to this file (needed for xlsx).")] = None,
    as_of: AsOf = None,
    max_load: Annotated[int, typer.Option(min=1, help="Members per liaison before over-load.")] = 5,
    details: Annotated[
        bool, typer.Option(help="List every over-loaded liaison and unassigned member.")
    ] = False,
    lang: LangOption = None,
) -> None:
    """Compliance per organization: contacts and visits done, gaps, loads; totals roll up;
    then who the over-loaded liaisons and the members without a liaison are."""
    from services.cli import report_output
    from services.cli.known import require_known
    from services.cli.progress import progress_bar
    from services.scheduler.tasks import report as reporting

    if fmt not in ("table", "csv", "xlsx"):
        raise typer.BadParameter(f"{fmt!r}; expected table, csv or xlsx", param_hint="--format")
    if fmt == "xlsx" and out is None:
        raise typer.BadParameter("xlsx needs --out FILE", param_hint="--out")
    check_out(out)
    language = resolve_lang(lang)
    day = as_of_date(as_of)
    engine = ensure_schema(load_settings())
    require_known(engine, org=org)
    with progress_bar(word("members_unit", language)) as progress:

        def told(label: str, steps: int, total: int | None = None) -> None:
            progress(word("members_read", language), steps, total)

        result = reporting.compliance_report(
            engine, period, today=day, org=org, max_load=max_load, progress=told
        )
    if fmt == "xlsx":
        assert out is not None
        count = report_output.write_sheets(result, language, out)
        typer.echo(say("orgs_written", language, count=count, path=out), err=True)
        return
    handle = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        if fmt == "csv":
            reporting.write_csv(result, handle)
        else:
            report_output.write_text(result, language, handle, details=details)
    finally:
        if out:
            handle.close()
