"""Ids named on the command line must exist: a typo is a usage error (exit 2) before any
work, never an empty listing that reads like "nothing to do"."""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy import Engine, select

from shared.models import Liaison, Member, Organization

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
