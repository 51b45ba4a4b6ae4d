"""Rules and policy as data: the rule table, per-organization overrides, calendar overrides."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base


class Rule(Base):
    """One kind of task or reminder, with its default parameters.

    `strategy` names how its window is computed (calendar period, rolling interval,
    anniversary window, review cycle, campaign); a new reminder of an existing strategy is
    a new row here and needs no code.
    """

    __tablename__ = "rules"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: every parameter of the rule (period, satisfying kinds and places, counts, days…)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer, default=100)  #: lower is more urgent
    description: Mapped[str] = mapped_column(String(500), default="")
    seed: Mapped[str] = mapped_column(String(64), default="")


class PolicyOverride(Base):
    """An organization's own value for one parameter, inherited by its whole subtree."""

    __tablename__ = "policy_overrides"
    __table_args__ = (UniqueConstraint("org", "rule", "param"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.code"), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    param: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON)


class CalendarOverride(Base):
    """An organization's own holiday or working day, for years the calendar library lacks."""

    __tablename__ = "calendar_overrides"
    __table_args__ = (UniqueConstraint("org", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.code"), index=True)
    day: Mapped[date] = mapped_column(Date)
    is_working_day: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200))
