"""Reads members and their facts from the ledger in batches, ordered by liaison.

One query streams the in-scope members with their current liaison, sorted by liaison and
member id in a byte-wise collation (so SQLite and PostgreSQL agree on the order); for each
batch of members, one query per fact table fetches just the dates the rules can count.
Memory is bounded by the batch size, not by the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    String,
    and_,
    any_,
    bindparam,
    case,
    collate,
    func,
    or_,
    select,
)
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter

from services.scheduler.facts import CampaignFact, InteractionFact, MemberFacts
from shared.models import (
    Assignment,
    Attendance,
    Campaign,
    Interaction,
    MaterialDelivery,
    Member,
    Move,
    Mute,
    Review,
    Verification,
)

DEFAULT_BATCH_SIZE = 2000  #: members per batch of fact queries


@dataclass(frozen=True)
class MemberFilter:
    as_of: date
    orgs: Sequence[str] | None = None  #: home organizations to include (a subtree)
    liaison_id: str | None = None
    member_ids: Sequence[str] | None = None
    in_scope_only: bool = True  #: `why` also explains members out of scope


def _bytewise(conn: Connection, column: Any) -> ColumnElement[str]:
    return collate(column, "C" if conn.dialect.name == "postgresql" else "BINARY")


def birth_from_id(id_number: str) -> date | None:
    """The birth date written inside an 18-digit resident ID number (already validated)."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except (ValueError, IndexError):
        return None


def active_campaigns(conn: Connection, as_of: date) -> list[CampaignFact]:
    rows = conn.execute(
        select(Campaign.campaign_id, Campaign.title, Campaign.org, Campaign.start, Campaign.end)
        .where(Campaign.start <= as_of, or_(Campaign.end.is_(None), Campaign.end >= as_of))
        .order_by(Campaign.start, Campaign.campaign_id)
    ).all()
    return [CampaignFact(*r) for r in rows]


def stream_members(
    conn: Connection,
    flt: MemberFilter,
    *,
    earliest: date,
    campaign_ids: Sequence[str],
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[list[MemberFacts]]:
    """Batches of members with every fact dated in [earliest, as_of] (reviews: all ≤ as_of)."""
    d = flt.as_of
    current = and_(
        Assignment.member_id == Member.member_id,
        Assignment.from_date <= d,
        or_(Assignment.to_date.is_(None), Assignment.to_date >= d),
    )
    stmt = select(
        Member.member_id,
        Member.name,
        Member.home_org,
        Member.status,
        Member.mobile_since,
        Member.join_date,
        Member.birth_date,
        Member.id_number,
        Member.certificate_issued_on,
        Assignment.liaison_id,
    ).outerjoin(Assignment, current)
    if flt.in_scope_only:
        stmt = stmt.where(Member.status == "active", Member.mobile_since <= d)
    if flt.orgs is not None:
        stmt = stmt.where(Member.home_org.in_(list(flt.orgs)))
    if flt.liaison_id is not None:
        stmt = stmt.where(Assignment.liaison_id == flt.liaison_id)
    if flt.member_ids is not None:
        stmt = stmt.where(Member.member_id.in_(list(flt.member_ids)))
    stmt = stmt.order_by(
        case((Assignment.liaison_id.is_(None), 1), else_=0),
        _bytewise(conn, Assignment.liaison_id),
        _bytewise(conn, Member.member_id),
    )
    # yield_per on the statement, not the connection: only this query streams through a
    # server-side cursor; the per-batch fact queries fetch whole results in one round trip.
    result = conn.execute(stmt.execution_options(yield_per=batch_size))
    for rows in result.partitions():
        batch = [
            MemberFacts(
                member_id=r.member_id,
                name=r.name,
                home_org=r.home_org,
                status=r.status,
                mobile_since=r.mobile_since,
                join_date=r.join_date,
                birth_date=r.birth_date or birth_from_id(r.id_number),
                certificate_issued_on=r.certificate_issued_on,
                liaison_id=r.liaison_id,
            )
            for r in rows
        ]
        _attach_facts(conn, batch, d, earliest, campaign_ids)
        yield batch


_DAY: BindParameter[date] = bindparam("day")
_EARLIEST: BindParameter[date] = bindparam("earliest")


@dataclass(frozen=True)
class _FactQueries:
    """The per-batch fact queries, built once per dialect with bound parameters.

    PostgreSQL takes the batch's ids as one array parameter (`= ANY(:ids)`); SQLite gets an
    expanding IN. Either way SQLAlchemy compiles each statement once, not once per batch.
    """

    interactions: Any
    dated: dict[str, Any]
    reviews: Any
    deliveries: Any
    mutes: Any
    earlier_contact: Any


@lru_cache(maxsize=4)
def _fact_queries(dialect: str) -> _FactQueries:
    if dialect == "postgresql":
        ids: Any = bindparam("ids", type_=ARRAY(String))
        campaigns: Any = bindparam("campaigns", type_=ARRAY(String))

        def member_in(column: Any) -> Any:
            return column == any_(ids)

        def campaign_in(column: Any) -> Any:
            return column == any_(campaigns)
    else:

        def member_in(column: Any) -> Any:
            return column.in_(bindparam("ids", expanding=True))

        def campaign_in(column: Any) -> Any:
            return column.in_(bindparam("campaigns", expanding=True))

    return _FactQueries(
        interactions=select(
            Interaction.member_id, Interaction.on_date, Interaction.kind, Interaction.place
        ).where(
            member_in(Interaction.member_id),
            Interaction.on_date >= _EARLIEST,
            Interaction.on_date <= _DAY,
        ),
        dated={
            attribute: select(table.member_id, table.on_date).where(
                member_in(table.member_id), table.on_date >= _EARLIEST, table.on_date <= _DAY
            )
            for table, attribute in (
                (Move, "moves"),
                (Verification, "verifications"),
                (Attendance, "attendance"),
            )
        },
        reviews=select(Review.member_id, Review.on_date).where(
            member_in(Review.member_id), Review.on_date <= _DAY
        ),
        deliveries=select(MaterialDelivery.member_id, MaterialDelivery.campaign_id).where(
            member_in(MaterialDelivery.member_id),
            campaign_in(MaterialDelivery.campaign_id),
            MaterialDelivery.on_date <= _DAY,
        ),
        mutes=select(Mute.member_id, Mute.from_date, Mute.to_date).where(
            member_in(Mute.member_id),
            Mute.from_date <= _DAY,
            or_(Mute.to_date.is_(None), Mute.to_date >= _DAY),
        ),
        earlier_contact=select(Interaction.member_id, func.max(Interaction.on_date))
        .where(member_in(Interaction.member_id), Interaction.on_date < _EARLIEST)
        .group_by(Interaction.member_id),
    )


def _attach_facts(
    conn: Connection,
    batch: list[MemberFacts],
    d: date,
    earliest: date,
    campaign_ids: Sequence[str],
) -> None:
    q = _fact_queries(conn.dialect.name)
    by_id = {m.member_id: m for m in batch}
    window = {"ids": list(by_id), "day": d, "earliest": earliest}
    fact = InteractionFact
    for member_id, on, kind, place in conn.execute(q.interactions, window).all():
        by_id[member_id].interactions.append(fact(on, kind, place))
    for attribute, stmt in q.dated.items():
        for member_id, on in conn.execute(stmt, window).all():
            getattr(by_id[member_id], attribute).append(on)
    for member_id, on in conn.execute(q.reviews, window).all():
        by_id[member_id].reviews.append(on)
    if campaign_ids:
        params = {**window, "campaigns": list(campaign_ids)}
        for member_id, campaign_id in conn.execute(q.deliveries, params).all():
            by_id[member_id].delivered_campaigns.add(campaign_id)
    for member_id, start, end in conn.execute(q.mutes, window).all():
        by_id[member_id].mutes.append((start, end))
    # A frequent mover's overdue days count from the last contact ever, which may predate
    # the loaded range: look that up only for movers with nothing in range.
    movers = [m.member_id for m in batch if m.moves and not m.interactions]
    if movers:
        params = {"ids": movers, "earliest": earliest}
        for member_id, last in conn.execute(q.earlier_contact, params).all():
            by_id[member_id].earlier_interaction = last
