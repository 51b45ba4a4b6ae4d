"""The SQL of a listing's facts: what the rules in play can count, for the filtered members.

- The member stream's *tallies* (`tallies`): for the calendar rules, how many
  interactions each member has in each rule's window, counted by the database, so those
  interactions never travel to Python.
- The *fact stream* (`fact_stream`): every fact row the other rules can count
  (interactions in their windows, moves, reviews, deliveries, mutes…), from all the fact
  tables at once (a UNION ALL, one branch per `FactSource`), each row laid in the same
  slots and sorted by the member's place in the member stream.
- A frequent mover's last contact before the loaded range (`attach_earlier_contact`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal_column,
    not_,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import TypeEngine

from services.scheduler.tasks.evaluation import FactNeeds, widest
from services.scheduler.tasks.facts import InteractionFact, MemberFacts
from services.scheduler.tasks.member_query import (
    MemberFilter,
    MemberPosition,
    by_member_id,
    current_assignment,
    in_member_order,
    member_filters,
)
from services.scheduler.tasks.rules import InteractionWindow
from services.scheduler.tasks.streaming import Closable, stream_rows
from shared.models import (
    Assignment,
    Attendance,
    Interaction,
    MaterialDelivery,
    Member,
    Move,
    Mute,
    Review,
    Verification,
)


def fact_stream(
    conn: Connection,
    flt: MemberFilter,
    sources: Sequence[FactSource],
    batch_size: int,
    opened: list[Closable],
    snapshot: str | None,
) -> Iterator[tuple[MemberPosition, Iterator[tuple[Any, ...]]]]:
    """Every fact row of `sources` for the filtered members, in one query, grouped by member
    in the member stream's order: (key, rows), each row `(key…, source, d1, d2, t1, t2)`.

    One query rather than one per table: the database joins the facts to the members and
    their current liaison, and sorts them, once instead of once per table, and the caller
    advances one stream alongside the members instead of several (at 1,000,000 members each
    such join took 1.5-2 s of the database before its stream's first row).
    """
    branches = [
        select(
            literal_column(str(index), Integer).label("source"),
            source.table.member_id.label("member_id"),
            *(
                (cast(null(), kind) if column is None else column).label(name)
                for column, (name, kind) in zip(source.slots, _SLOTS, strict=True)
            ),
        ).where(*source.where, *by_member_id(source.table, flt))
        for index, source in enumerate(sources)
    ]
    facts = union_all(*branches).subquery("facts")
    stmt = select(
        case((Assignment.liaison_id.is_(None), 1), else_=0),
        func.coalesce(Assignment.liaison_id, ""),
        facts.c.member_id,
        facts.c.source,
        *(facts.c[name] for name, _kind in _SLOTS),
    ).select_from(
        facts.join(Member.__table__, facts.c.member_id == Member.member_id).outerjoin(
            Assignment.__table__, current_assignment(flt.as_of)
        )
    )
    stmt = in_member_order(conn, flt, stmt)
    many = flt.member_ids is None
    rows = stream_rows(conn, stmt, max(batch_size, _FACT_ROWS), opened, snapshot, many=many)
    return groupby(rows, key=_POSITION_OF_ROW)


_FACT_ROWS = 10_000  #: rows per fetch of a fact stream
#: a fact row's member place (`MemberPosition`): its first three columns
_POSITION_OF_ROW = itemgetter(0, 1, 2)


def tallies(flt: MemberFilter, windows: Sequence[InteractionWindow]) -> Any:
    """Each member's interactions counted in each window (to D), as a subquery with
    `member_id` and one count per window, for members with any interaction in them.

    Counted by the database, so a calendar rule's interactions never travel to Python. The
    member filters are repeated inside when they narrow the ledger (one town, one liaison),
    so that the database counts only those members' interactions.
    """
    d = flt.as_of
    counts = [func.count().filter(_window(w)).label(f"tally_{i}") for i, w in enumerate(windows)]
    stmt = select(Interaction.member_id, *counts).where(
        Interaction.on_date >= min(w.start for w in windows),
        Interaction.on_date <= d,
        or_(*(_window(w) for w in widest(windows))),  # only the rows some window counts
    )
    inner = flt
    if flt.orgs is not None and len(flt.orgs) > NARROW_TALLIES_MAX_ORGS:
        # A subtree that large is most of the ledger: counting everyone's costs little
        # more, and the outer join keeps only its members. Naming its organizations a
        # second time would double the query's parameters (SQLite takes 32,766 at most).
        inner = replace(flt, orgs=None)
    if inner.member_ids is not None:
        # The outer join to the member stream keeps the other filters.
        stmt = stmt.where(*by_member_id(Interaction, inner))
    elif inner.orgs is not None or inner.liaison_ids is not None:
        stmt = stmt.join(Member, Member.member_id == Interaction.member_id)
        if inner.liaison_ids is not None:
            stmt = stmt.join(Assignment, current_assignment(d))
        stmt = stmt.where(*member_filters(inner))
    return stmt.group_by(Interaction.member_id).subquery("tallies")


#: the most organizations whose members' tallies are counted alone (see `_tallies`)
NARROW_TALLIES_MAX_ORGS = 1000


#: the slots every fact table's columns are laid in, so that all of them fit one query
_SLOTS: tuple[tuple[str, TypeEngine[Any]], ...] = (
    ("d1", Date()),
    ("d2", Date()),
    ("t1", String()),
    ("t2", String()),
)


_Fill = Callable[[MemberFacts, tuple[Any, ...]], None]


class FactSource(NamedTuple):
    """One fact table the rules need: what puts one of its rows (key…, source, d1, d2, t1,
    t2) in the member's facts, and its columns in the slots (None: empty)."""

    fill: _Fill
    table: Any
    slots: tuple[Any, Any, Any, Any]
    where: Sequence[ColumnElement[bool]]


def _add_interaction(m: MemberFacts, row: tuple[Any, ...]) -> None:
    m.interactions.append(InteractionFact(row[4], row[6], row[7]))


def _add_date_to(attribute: str) -> _Fill:
    dates = attrgetter(attribute)

    def fill(m: MemberFacts, row: tuple[Any, ...]) -> None:
        dates(m).append(row[4])

    return fill


def _add_campaign(m: MemberFacts, row: tuple[Any, ...]) -> None:
    m.delivered_campaigns.add(row[6])


def _add_span(m: MemberFacts, row: tuple[Any, ...]) -> None:
    m.mutes.append((row[4], row[5]))


def fact_sources(
    needs: FactNeeds, d: date, earliest: date, campaign_ids: Sequence[str], flt: MemberFilter
) -> list[FactSource]:
    """The fact tables the rules need, with the rows of each that they can count."""
    sources: list[FactSource] = []
    in_range = [Interaction.on_date >= earliest, Interaction.on_date <= d]
    interactions = list(in_range)
    columns = (Interaction.on_date, None, Interaction.kind, Interaction.place)
    if needs.interactions is not None:
        windows = or_(*[_window(w) for w in needs.interactions]) if needs.interactions else None
        if windows is not None:
            interactions.append(windows)
        if needs.movers is not None:
            # A frequent mover's last contact is of any kind: a mover's other interactions
            # come as a part of their own, added to the same `interactions`. Folded into
            # the first one as `windows OR member_id IN (movers)`, PostgreSQL plans a scan
            # of the whole table for every subtree (2.5 s for a town of a 1,000,000-member
            # ledger, against 36 ms).
            movers = _movers(d, earliest, *needs.movers).where(*by_member_id(Move, flt))
            others = [*in_range, Interaction.member_id.in_(movers)]
            if windows is not None:
                others.append(not_(func.coalesce(windows, false())))
            sources.append(FactSource(_add_interaction, Interaction, columns, others))
    if needs.interactions is None or needs.interactions:
        # (None: all of them; no window at all: no rule reads interactions as records)
        sources.insert(0, FactSource(_add_interaction, Interaction, columns, interactions))
    wanted = needs.sources
    if needs.movers is not None:
        wanted = wanted | {"moves"}  # who is a mover
    for table, attribute in (
        (Move, "moves"),
        (Verification, "verifications"),
        (Attendance, "attendance"),
    ):
        if attribute in wanted:
            window = [table.on_date >= earliest, table.on_date <= d]
            on = (table.on_date, None, None, None)
            sources.append(FactSource(_add_date_to(attribute), table, on, window))
    if "reviews" in wanted:
        on = (Review.on_date, None, None, None)
        sources.append(FactSource(_add_date_to("reviews"), Review, on, [Review.on_date <= d]))
    if "delivered_campaigns" in wanted and campaign_ids:
        delivered = [
            MaterialDelivery.campaign_id.in_(list(campaign_ids)),
            MaterialDelivery.on_date <= d,
        ]
        campaign = (None, None, MaterialDelivery.campaign_id, None)
        sources.append(FactSource(_add_campaign, MaterialDelivery, campaign, delivered))
    muted = [Mute.from_date <= d, or_(Mute.to_date.is_(None), Mute.to_date >= d)]
    span = (Mute.from_date, Mute.to_date, None, None)
    sources.append(FactSource(_add_span, Mute, span, muted))
    return sources


def _window(w: InteractionWindow) -> ColumnElement[bool]:
    conditions = [Interaction.on_date >= w.start]
    if w.kinds is not None:
        conditions.append(Interaction.kind.in_(sorted(w.kinds)))
    if w.places is not None:
        conditions.append(Interaction.place.in_(sorted(w.places)))
    return and_(*conditions)


def _movers(d: date, earliest: date, since: date, least: int) -> Select[str]:
    """Members who may be frequent movers: `least` moves in [since, D] (loaded from
    `earliest`, so never counted before it)."""
    moved = select(Move.member_id).where(Move.on_date >= max(since, earliest), Move.on_date <= d)
    if least <= 1:
        return moved
    return moved.group_by(Move.member_id).having(func.count() >= least)


_EARLIER_CONTACT = (
    select(Interaction.member_id, func.max(Interaction.on_date))
    .where(
        Interaction.member_id.in_(bindparam("ids", expanding=True)),
        Interaction.on_date < bindparam("earliest"),
    )
    .group_by(Interaction.member_id)
)


def attach_earlier_contact(
    conn: Connection, batch: list[MemberFacts], earliest: date, since: date, least: int
) -> None:
    """A frequent mover's overdue days count from the last contact ever, which may predate
    the loaded range: look that up only for movers with nothing in range (a mover's
    interactions in range are all read)."""
    since = max(since, earliest)
    movers = {
        m.member_id: m
        for m in batch
        if m.moves and not m.interactions and sum(1 for x in m.moves if x >= since) >= least
    }
    if movers:
        params = {"ids": list(movers), "earliest": earliest}
        for member_id, last in conn.execute(_EARLIER_CONTACT, params).all():
            movers[member_id].earlier_interaction = last
