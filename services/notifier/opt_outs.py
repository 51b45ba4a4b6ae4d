"""Opt-outs: an address that asked not to hear from us on a channel, until it opts back in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.models import OptOut


def record_opt_out(
    session: Session, address: str, channel: str, *, source: str, now: datetime
) -> bool:
    """Stop messages to `address` on `channel`; True if it was not opted out already."""
    values = {"address": address, "channel": channel, "opted_out_at": now, "source": source}
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = (
        module.insert(OptOut)
        .values(values)
        .on_conflict_do_nothing(index_elements=["address", "channel"])
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def remove_opt_out(session: Session, address: str, channel: str) -> bool:
    """Let messages reach `address` on `channel` again; True if it was opted out."""
    result = session.execute(
        delete(OptOut).where(OptOut.address == address, OptOut.channel == channel)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def is_opted_out(session: Session, address: str, channel: str) -> bool:
    found = session.execute(
        select(OptOut.id).where(OptOut.address == address, OptOut.channel == channel)
    ).first()
    return found is not None
