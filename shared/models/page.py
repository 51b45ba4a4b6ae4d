"""The liaison's page: the links that open it, and what was recorded through it.

A link is not an API token: it opens one liaison's page and nothing else, expires, and is
revoked here (its MAC is derived from the row id and the installation's secret, so nothing
secret is stored). Every fact recorded on the page leaves a `page_records` row saying who
recorded what, when, and through which link: the audit the branch secretary reads.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime


class LiaisonLink(Base):
    __tablename__ = "liaison_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    liaison_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("liaisons.liaison_id"), index=True
    )
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: who asked for it: `cli` (`liaison page-link issue`) or `digest` (added at send time)
    issued_by: Mapped[str] = mapped_column(String(16))


class PageRecord(Base):
    """One tap on the page: the fact it recorded and the link it came through."""

    __tablename__ = "page_records"
    __table_args__ = (Index("ix_page_records_member_recorded", "member_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    link_id: Mapped[int] = mapped_column(Integer, ForeignKey("liaison_links.id"), index=True)
    liaison_id: Mapped[str] = mapped_column(String(64), ForeignKey("liaisons.liaison_id"))
    member_id: Mapped[str] = mapped_column(String(64), ForeignKey("members.member_id"))
    rule: Mapped[str] = mapped_column(String(64))  #: the task the tap answered
    #: phone | home_visit | workplace_visit | delivery | review
    action: Mapped[str] = mapped_column(String(32))
    on_date: Mapped[date] = mapped_column(Date)  #: the liaison's local day of the record
    campaign_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    #: the photo's file name under LIAISON_PHOTOS_DIR, when one was sent
    photo: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
