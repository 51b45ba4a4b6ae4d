"""The ledger tables: organizations, people, pairings and every recorded fact.

Dates a person writes in a ledger (join date, an interaction's day) are calendar dates in
the organization's time zone and are stored as such; instants are stored as UTC.
The indexes serve the due computation, which reads each member's facts by date.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, EmptyIsNone, UTCDateTime
from shared.settings import DEFAULT_LOCALE, DEFAULT_TIMEZONE


class Organization(Base):
    __tablename__ = "organizations"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("organizations.code"), index=True
    )
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    secretary_name: Mapped[str | None] = mapped_column(String(200))
    secretary_phone: Mapped[str | None] = mapped_column(String(32))
    secretary_email: Mapped[str | None] = mapped_column(String(200))


class Liaison(Base):
    __tablename__ = "liaisons"

    liaison_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.code"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(16), default=DEFAULT_LOCALE)
    channels: Mapped[str] = mapped_column(String(16), default="sms")
    #: the person's account in the organization's WeCom (企业微信), for the `wecom` channel
    wecom_userid: Mapped[str | None] = mapped_column(String(64))


class Member(Base):
    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: indexed: an import asks which member holds an ID number (one number, one person)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    home_org: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.code"), index=True)
    join_date: Mapped[date] = mapped_column(Date)
    mobile_since: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    #: the birth date as written in the ledger; empty means "read it from the ID number"
    birth_date: Mapped[date | None] = mapped_column(Date)
    host_org: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("organizations.code"), index=True
    )
    location: Mapped[str | None] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(200))
    certificate_no: Mapped[str | None] = mapped_column(String(200))
    certificate_issued_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    locale: Mapped[str] = mapped_column(String(16), default=DEFAULT_LOCALE)
    channels: Mapped[str] = mapped_column(String(16), default="sms")
    #: the person's account in the organization's WeCom (企业微信), for the `wecom` channel
    wecom_userid: Mapped[str | None] = mapped_column(String(64))


class Assignment(Base):
    """A liaison paired with a member from one date to another (open-ended when `to` is empty)."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("member_id", "from_date"),
        Index("ix_assignments_liaison_period", "liaison_id", "from_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), ForeignKey("members.member_id"))
    liaison_id: Mapped[str] = mapped_column(String(64), ForeignKey("liaisons.liaison_id"))
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)

    @classmethod
    def in_force_on(cls, day: date) -> ColumnElement[bool]:
        """The assignments in force on `day`: begun by then and not yet ended."""
        return and_(cls.from_date <= day, or_(cls.to_date.is_(None), cls.to_date >= day))


class Interaction(Base):
    __tablename__ = "interactions"
    #: one fact per member, day, kind and place: two visits on one day at two places are
    #: two facts (migration 0009); "no place" is one place, stored as ''
    __table_args__ = (UniqueConstraint("member_id", "on_date", "kind", "place"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), ForeignKey("members.member_id"))
    kind: Mapped[str] = mapped_column(String(16))
    on_date: Mapped[date] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(EmptyIsNone(16), nullable=False, server_default="")
    liaison_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("liaisons.liaison_id"))
    note: Mapped[str | None] = mapped_column(Text)
    #: where the record came from: import, cli, sms-reply, api
    source: Mapped[str] = mapped_column(String(16), default="import")


class Move(Base):
    __tablename__ = "moves"
    __table_args__ = (UniqueConstraint("member_id", "on_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), ForeignKey("members.member_id"))
    on_date: Mapped[date] = mapped_column(Date)
    location: Mapped[str] = mapped_column(String(200))


class Event(Base):
    __tablename__ = "events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.code"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    online_url: Mapped[str | None] = mapped_column(String(500))
    rrule: Mapped[str | None] = mapped_column(String(500))


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("event_id", "member_id", "on_date"),
        Index("ix_attendance_member_on", "member_id", "on_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), ForeignKey("events.event_id"))
    member_id: Mapped[str] = mapped_column(String(64), ForeignKey("members.member_id"))
    on_date: Mapped[date] = mapped_column(Date)


class Campaign(Base):
    __tablename__ = "campaigns"

    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    org: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.code"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)


class MaterialDelivery(Base):
    """Study materials handed to a member for a campaign (the ledger kind `deliveries`)."""

    __tablename__ = "material_deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id"),
        Index("ix_material_deliveries_member", "member_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(64), ForeignKey("campaigns.campaign_id"))
    member_id: Mapped[str] = mapped_column(String(64), ForeignKey("members.member_id"))
    on_date: Mapped[date] = mapped_column(Date)


class Review(Base):
    """An activity-certificate review (流动党员活动证审核)."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("member_id", "on_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), ForeignKey("members.member_id"))
    on_date: Mapped[date] = mapped_column(Date)


class Verification(Base):
    """A re-verification of the member's ledger record (each month, when that rule is on)."""

    __tablename__ = "verifications"
    __table_args__ = (UniqueConstraint("member_id", "on_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), ForeignKey("members.member_id"))
    on_date: Mapped[date] = mapped_column(Date)


class Mute(Base):
    """A span of dates on which a member is out of scope and hears nothing."""

    __tablename__ = "mutes"
    __table_args__ = (UniqueConstraint("member_id", "from_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), ForeignKey("members.member_id"))
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(200))
