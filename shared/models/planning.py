"""The planner's memory: which occasions have been planned, so a tick does not redo them.

The outbox's idempotency key already makes planning twice harmless; a mark spares the
work of computing an occasion again (a digest run reads the whole ledger). A mark is written
in the same transaction as the occasion's notifications, so the two never disagree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime


class PlanningMark(Base):
    """One occasion planned: a kind for a scope (an organization, an event) on an occasion."""

    __tablename__ = "planning_marks"
    __table_args__ = (UniqueConstraint("kind", "scope", "occasion"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(200))  #: an organization code or an event id
    occasion: Mapped[str] = mapped_column(String(200))  #: a local date, or occurrence/offset
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
