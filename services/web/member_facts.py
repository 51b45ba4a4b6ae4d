"""Everything recorded about one member, as the API's history lists it: each kind of fact
read by a function of its own, newest first once gathered."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.web.schemas import Fact
from shared.masking import mask_text
from shared.models import (
    Assignment,
    Attendance,
    Event,
    Interaction,
    MaterialDelivery,
    Move,
    PageRecord,
    Review,
    Verification,
)


def member_facts(s: Session, member_id: str) -> list[Fact]:
    """The member's facts, newest first (on the same day, by kind)."""
    facts = [
        *_interactions(s, member_id),
        *_reviews_and_deliveries(s, member_id),
        *_verifications(s, member_id),
        *_moves(s, member_id),
        *_assignments(s, member_id),
        *_attendance(s, member_id),
    ]
    facts.sort(key=lambda f: (f.on, f.kind), reverse=True)
    return facts


def _interactions(s: Session, member_id: str) -> Iterator[Fact]:
    for i in s.scalars(select(Interaction).where(Interaction.member_id == member_id)):
        detail = i.kind + (f" @{i.place}" if i.place else "")
        yield Fact(
            kind="interaction", on=i.on_date, detail=detail, liaison_id=i.liaison_id,
            source=i.source,
        )  # fmt: skip


def _reviews_and_deliveries(s: Session, member_id: str) -> Iterator[Fact]:
    # Reviews and deliveries have no source column: the page's audit names its own.
    from_page = {
        (p.action, p.on_date, p.campaign_id)
        for p in s.execute(
            select(PageRecord.action, PageRecord.on_date, PageRecord.campaign_id).where(
                PageRecord.member_id == member_id
            )
        )
    }
    for r in s.scalars(select(Review).where(Review.member_id == member_id)):
        page = ("review", r.on_date, None) in from_page
        yield Fact(kind="review", on=r.on_date, source="page" if page else None)
    for d in s.scalars(select(MaterialDelivery).where(MaterialDelivery.member_id == member_id)):
        page = ("delivery", d.on_date, d.campaign_id) in from_page
        yield Fact(
            kind="delivery", on=d.on_date, detail=d.campaign_id, source="page" if page else None
        )


def _verifications(s: Session, member_id: str) -> Iterator[Fact]:
    for v in s.scalars(select(Verification).where(Verification.member_id == member_id)):
        yield Fact(kind="verification", on=v.on_date)


def _moves(s: Session, member_id: str) -> Iterator[Fact]:
    for mv in s.scalars(select(Move).where(Move.member_id == member_id)):
        yield Fact(kind="move", on=mv.on_date, detail=mask_text(mv.location))


def _assignments(s: Session, member_id: str) -> Iterator[Fact]:
    for a in s.scalars(select(Assignment).where(Assignment.member_id == member_id)):
        until = a.to_date.isoformat() if a.to_date else "open"
        yield Fact(
            kind="assignment", on=a.from_date, detail=f"until {until}", liaison_id=a.liaison_id
        )


def _attendance(s: Session, member_id: str) -> Iterator[Fact]:
    """Organization life the member attended: no rule asks for it, a secretary does."""
    rows = s.execute(
        select(Attendance.on_date, Event.event_id, Event.title)
        .join(Event, Event.event_id == Attendance.event_id)
        .where(Attendance.member_id == member_id)
    )
    for on, event_id, title in rows:
        yield Fact(kind="attendance", on=on, detail=f"{event_id} {title}" if title else event_id)
