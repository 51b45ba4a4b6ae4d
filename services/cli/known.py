"""Ids and rules named on the command line must exist: a typo is a usage error (exit 2)
before any work, never an empty listing that reads like "nothing to do". And who a member's liaison
is on a day, for `record` to say when a fact names someone else."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from sqlalchemy import Engine, select

from services.cli.labels import Lang, rule_choices, say
from services.scheduler.tasks.strategies import is_task
from shared.models import Assignment, Liaison, Member, Organization, Rule

_TABLES: dict[str, tuple[Any, str]] = {
    "org": (Organization.code, "no organization with code"),
    "liaison": (Liaison.liaison_id, "no liaison with id"),
    "member": (Member.member_id, "no member with id"),
}


def require_known(engine: Engine, *, hint: str | None = None, **ids: str | None) -> None:
    """Refuse the first of `org=`, `liaison=`, `member=` that names nothing in the ledger;
    `hint` names the option or argument (default `--org`, `--liaison`, `--member`)."""
    with engine.connect() as conn:
        for kind, value in ids.items():
            if value is None:
                continue
            column, missing = _TABLES[kind]
            if conn.execute(select(column).where(column == value)).first() is None:
                raise typer.BadParameter(f"{missing} {value!r}", param_hint=hint or f"--{kind}")


def require_task_rule(engine: Engine, rule: str | None, lang: Lang) -> None:
    """Refuse a `--rule` that names no rule making tasks, listing those that do (in their
    order of urgency): a messaging policy row (quiet_hours…) would list nothing either."""
    if rule is None:
        return
    with engine.connect() as conn:
        rows = conn.execute(select(Rule.name, Rule.strategy).order_by(Rule.priority, Rule.name))
        names = [name for name, strategy in rows if is_task(strategy)]
    if rule not in names:
        message = say("unknown_rule", lang, rule=rule, rules=rule_choices(names, lang))
        raise typer.BadParameter(message, param_hint="--rule")


def liaison_on(engine: Engine, member_id: str, day: date) -> str | None:
    """The liaison assigned to `member_id` on `day` (assignments may not overlap)."""
    query = (
        select(Assignment.liaison_id)
        .where(Assignment.member_id == member_id, Assignment.in_force_on(day))
        .order_by(Assignment.from_date.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(query).scalar_one_or_none()


def name_of(engine: Engine, kind: str, value: str) -> str:
    """`name id` of a liaison or member, as the human outputs show people."""
    key, name = {
        "liaison": (Liaison.liaison_id, Liaison.name),
        "member": (Member.member_id, Member.name),
    }[kind]
    with engine.connect() as conn:
        found = conn.execute(select(name).where(key == value)).scalar_one_or_none()
    return f"{found} {value}" if found and found != value else value
