"""Reads members and their facts from the ledger, streamed in one order, ordered by liaison.

Two queries (`fact_queries`), both sorted by liaison and member id in a byte-wise
collation (so SQLite and PostgreSQL agree on the order):

- the members in scope with their current liaison and, for the calendar rules, how many
  interactions each has in each rule's window (`FactNeeds.tallies`, counted by the
  database, so those interactions never travel to Python);
- every fact row the other rules can count (interactions in their windows, moves,
  reviews, deliveries, mutes…), from all the fact tables at once (a UNION ALL), joined
  to the same members.

Both stream (`streaming`: server-side cursors on PostgreSQL, each on a connection and a
thread of its own for a large listing) and the facts are advanced in lockstep with the
members, so every table is read once, in one pass, with no per-batch lookups. Memory is
bounded by the batch size and the cursors' buffers, not by the ledger. A filter naming
its members (a few liaisons' or members') reads every table by member id instead.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy import Connection, func, or_, select

from services.scheduler.tasks.evaluation import ALL_FACTS, FactNeeds
from services.scheduler.tasks.fact_queries import (
    attach_earlier_contact,
    fact_sources,
    fact_stream,
    tallies,
)
from services.scheduler.tasks.facts import CampaignFact, MemberFacts
from services.scheduler.tasks.member_query import (
    MemberFilter,
    MemberPosition,
    current_assignment,
    in_member_order,
)
from services.scheduler.tasks.streaming import Closable, shared_snapshot, stream_rows
from shared.ledger.values import birth_date_from_id
from shared.models import Assignment, Campaign, Member

DEFAULT_BATCH_SIZE = 2000  #: members per batch yielded


def birth_from_id(id_number: str) -> date | None:
    """The birth date written inside an 18-digit resident ID number, None when it holds
    none (the importer validated it; a row written otherwise may not be)."""
    try:
        return birth_date_from_id(id_number)
    except (ValueError, IndexError):
        return None


def active_campaigns(conn: Connection, as_of: date) -> list[CampaignFact]:
    rows = conn.execute(
        select(Campaign.campaign_id, Campaign.title, Campaign.org, Campaign.start, Campaign.end)
        .where(Campaign.start <= as_of, or_(Campaign.end.is_(None), Campaign.end >= as_of))
        .order_by(Campaign.start, Campaign.campaign_id)
    ).all()
    return [CampaignFact(*r) for r in rows]


class _Lockstep:
    """The fact stream advanced member by member alongside the member stream."""

    __slots__ = ("_groups", "key", "value")

    def __init__(self, groups: Iterator[tuple[MemberPosition, Iterator[tuple[Any, ...]]]]) -> None:
        self._groups = groups
        self.key: MemberPosition | None = None
        self.value: list[tuple[Any, ...]] | None = None
        self._advance()

    def _advance(self) -> None:
        head = next(self._groups, None)
        if head is None:
            self.key, self.value = None, None
        else:  # kept now: the group's rows are gone once the stream moves on
            self.key, self.value = head[0], list(head[1])

    def take(self, key: MemberPosition) -> list[tuple[Any, ...]] | None:
        """The fact rows of the member `key` (None when it has none), consuming them."""
        if self.key != key:
            if self.key is None or self.key > key:  # a later member's
                return None
            # An earlier member's: never expected, as the fact queries join the same
            # members, but skipped rather than stalling the stream.
            while self.key is not None and self.key < key:
                self._advance()
            if self.key != key:
                return None
        value = self.value
        self._advance()
        return value


def _member_query(flt: MemberFilter, needs: FactNeeds) -> Any:
    """The member stream's query: the member, the liaison current on D, then the tallies."""
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
    ).outerjoin(Assignment, current_assignment(flt.as_of))
    if needs.tallies:
        counted = tallies(flt, needs.tallies)
        stmt = stmt.outerjoin(counted, counted.c.member_id == Member.member_id).add_columns(
            *(func.coalesce(column, 0) for column in list(counted.c)[1:])
        )
    return stmt


_MEMBER_COLUMNS = 10  #: the member stream's own columns; its tallies follow them


def stream_members(
    conn: Connection,
    flt: MemberFilter,
    *,
    earliest: date,
    campaign_ids: Sequence[str],
    batch_size: int = DEFAULT_BATCH_SIZE,
    needs: FactNeeds | None = None,
    read_ahead: bool = False,
) -> Generator[list[MemberFacts], None, None]:
    """Batches of members with every fact dated in [earliest, as_of] (reviews: all ≤ as_of).

    With `needs` (see `fact_needs`), only the facts the rules in play can count are read;
    without, all of them. `read_ahead`: on PostgreSQL, each stream on a connection and a
    thread of its own in `conn`'s snapshot (worth it for a large part of the ledger, not
    for a few members); `conn` should then be REPEATABLE READ, so that what it reads
    itself is of the same instant.

    One function of ~60 lines on purpose: its loop runs once per member of a province, and
    the merge of the fact streams is kept inline rather than behind a call per member.
    """
    needs = needs or ALL_FACTS
    opened: list[Closable] = []
    try:
        snapshot = shared_snapshot(conn) if read_ahead else None
        stmt = in_member_order(conn, flt, _member_query(flt, needs))
        many = flt.member_ids is None  # else a few members, named (see `stream_rows`)
        members = stream_rows(conn, stmt, batch_size, opened, snapshot, many=many)
        sources = fact_sources(needs, flt.as_of, earliest, campaign_ids, flt)
        fill = [source.fill for source in sources]
        # Both streams' queries are started before either is read (see `ReadAhead`).
        facts = _Lockstep(fact_stream(conn, flt, sources, batch_size, opened, snapshot))
        counts = bool(needs.tallies)
        while rows := list(islice(members, batch_size)):
            batch = []
            for row in rows:
                member_id, name, org, status, mobile, joined, born, id_no, issued, liaison = row[
                    :_MEMBER_COLUMNS
                ]
                m = MemberFacts(
                    member_id,
                    name,
                    org,
                    status,
                    mobile,
                    joined,
                    born or birth_from_id(id_no),
                    issued,
                    liaison,
                )
                if counts:
                    m.tallies = row[_MEMBER_COLUMNS:]
                place = (0, liaison, member_id) if liaison is not None else (1, "", member_id)
                found = facts.take(place)
                if found is not None:
                    for fact in found:
                        fill[fact[3]](m, fact)
                batch.append(m)
            if needs.movers is not None:
                attach_earlier_contact(conn, batch, earliest, *needs.movers)
            yield batch
    finally:  # close the cursors now, not whenever the streams are collected
        for chunks in reversed(opened):
            chunks.close()
