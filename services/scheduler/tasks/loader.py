"""Reads members and their facts from the ledger, streamed in one order, ordered by liaison.

Two queries, both sorted by liaison and member id in a byte-wise collation (so SQLite and
PostgreSQL agree on the order):

- the members in scope with their current liaison and, for the calendar rules, how many
  interactions each has in each rule's window (`FactNeeds.tallies`, counted by the
  database, so those interactions never travel to Python);
- every fact row the other rules can count (interactions in their windows, moves, reviews,
  deliveries, mutes…), from all the fact tables at once (a UNION ALL), joined to the same
  members.

Both stream (server-side cursors on PostgreSQL, each on a connection and a thread of its
own for a large listing) and the facts are advanced in lockstep with the members, so every
table is read once, in one pass, with no per-batch lookups. Memory is bounded by the batch
size and the cursors' buffers, not by the ledger.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import chain, count, groupby, islice
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    collate,
    create_engine,
    false,
    func,
    literal_column,
    not_,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import TypeEngine

from services.scheduler.tasks.evaluation import ALL_SOURCES, FactNeeds, InteractionWindow, widest
from services.scheduler.tasks.facts import CampaignFact, InteractionFact, MemberFacts
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

DEFAULT_BATCH_SIZE = 2000  #: members per batch yielded


@dataclass(frozen=True)
class MemberFilter:
    as_of: date
    orgs: Sequence[str] | None = None  #: home organizations to include (a subtree)
    liaison_ids: Sequence[str] | None = None  #: members whose current liaison is one of these
    #: these members only: every fact table is then read by member id, through its index
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


def _member_filters(flt: MemberFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    d = flt.as_of
    if flt.in_scope_only:
        where += [Member.status == "active", Member.mobile_since <= d]
    if flt.orgs is not None:
        where.append(Member.home_org.in_(list(flt.orgs)))
    if flt.liaison_ids is not None:
        where.append(Assignment.liaison_id.in_(list(flt.liaison_ids)))
    if flt.member_ids is not None:
        where.append(Member.member_id.in_(list(flt.member_ids)))
    return where


def member_homes(conn: Connection, flt: MemberFilter) -> dict[str, str]:
    """The filtered members' ids and home organizations, by member id.

    For a few liaisons or members: looked up through the assignments' liaison index and
    the members' key, so that the listing then reads those members' facts by member id
    (see `stream_members`) instead of streaming the whole ledger past a filter.
    """
    stmt = select(Member.member_id, Member.home_org)
    if flt.liaison_ids is not None:  # an inner join: SQLite would scan the members first
        stmt = stmt.join(Assignment, _current_assignment(flt.as_of))
    else:
        stmt = stmt.outerjoin(Assignment, _current_assignment(flt.as_of))
    stmt = stmt.where(*_member_filters(flt))
    return {member_id: home for member_id, home in conn.execute(stmt)}


def _current_assignment(d: date) -> ColumnElement[bool]:
    return and_(
        Assignment.member_id == Member.member_id,
        Assignment.from_date <= d,
        or_(Assignment.to_date.is_(None), Assignment.to_date >= d),
    )


def _in_member_order(conn: Connection, flt: MemberFilter, stmt: Any) -> Any:
    """`stmt` restricted to the filtered members and sorted as the member stream is: by
    liaison (unassigned last), then member id, both byte-wise."""
    return stmt.where(*_member_filters(flt)).order_by(
        case((Assignment.liaison_id.is_(None), 1), else_=0),
        _bytewise(conn, Assignment.liaison_id),
        _bytewise(conn, Member.member_id),
    )


class _Closable(Protocol):
    def close(self) -> None: ...


_Key = tuple[int, str, str]  #: a member's place in the stream: (unassigned, liaison, id)


def _fact_stream(
    conn: Connection,
    flt: MemberFilter,
    sources: Sequence[_FactSource],
    batch_size: int,
    opened: list[_Closable],
    snapshot: str | None,
) -> Iterator[tuple[_Key, Iterator[tuple[Any, ...]]]]:
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
        ).where(*source.where, *_by_member_id(source.table, flt))
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
            Assignment.__table__, _current_assignment(flt.as_of)
        )
    )
    stmt = _in_member_order(conn, flt, stmt)
    rows = _rows(conn, stmt, max(batch_size, _FACT_ROWS), opened, snapshot)
    return groupby(rows, key=_KEY)


def _by_member_id(table: Any, flt: MemberFilter) -> list[ColumnElement[bool]]:
    """`table`'s rows of the filter's members, when it names them: inside each branch of
    the fact query, so that every table is read through its member index (PostgreSQL
    may push the join to the members into a UNION ALL's branches; SQLite does not, and
    scans each table whole)."""
    if flt.member_ids is None:
        return []
    return [table.member_id.in_(list(flt.member_ids))]


_FACT_ROWS = 10_000  #: rows per fetch of a fact stream
_KEY = itemgetter(0, 1, 2)


def _rows(
    conn: Connection,
    stmt: Any,
    size: int,
    opened: list[_Closable],
    snapshot: str | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The rows of `stmt`, streamed `size` at a time, as plain tuples; the stream is added
    to `opened`, for the caller to close while the connection is still its own.

    PostgreSQL: a server-side cursor of the driver's own (psycopg converts every column
    type read here, so SQLAlchemy's rows, several times dearer per row, are not needed).
    With `snapshot` (see `shared_snapshot`), the cursor runs on a connection of its own
    in that snapshot and is read ahead by a thread, so the database sorts every stream at
    once instead of one after the other while the caller waits. Otherwise it runs in the
    connection's own transaction. SQLite: SQLAlchemy's rows, which also turn its ISO date
    strings into dates.
    """
    chunks: _Closable
    if snapshot is not None:
        chunks = _ReadAhead(conn.engine, snapshot, stmt, size)
    else:
        chunks = _chunks(conn, stmt, size)
    opened.append(chunks)
    return chain.from_iterable(chunks)


def _chunks(
    conn: Connection, stmt: Any, size: int
) -> Generator[Sequence[tuple[Any, ...]], None, None]:
    if conn.dialect.name == "postgresql":
        plain = _plain_sql(conn, stmt)
        if plain is not None:
            raw: Any = conn.connection.driver_connection
            with raw.cursor(name=f"liaison_facts_{next(_CURSORS)}") as cursor:
                cursor.execute(*plain)
                while rows := cursor.fetchmany(size):
                    yield rows
            return
    yield from conn.execute(stmt.execution_options(yield_per=size)).partitions()


def _plain_sql(conn: Connection, stmt: Any) -> tuple[str, dict[str, Any]] | None:
    """`stmt` as the driver's SQL and parameters, when no parameter needs SQLAlchemy's own
    conversion on the way in."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    if any(compiled._bind_processors.get(name) for name in params):
        return None
    return compiled.string, params


def shared_snapshot(conn: Connection) -> str | None:
    """On PostgreSQL, the connection's snapshot exported for the streams' own connections
    (`pg_export_snapshot`), so every stream reads the ledger as of one instant; it stays
    valid while `conn`'s transaction is open. None elsewhere (SQLite streams share `conn`)."""
    if conn.dialect.name != "postgresql":
        return None
    snapshot: str = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    return snapshot


_STREAM_WORK_MEM = "64MB"  #: PostgreSQL's work_mem for each read-ahead stream's query
_READ_AHEAD = 2  #: chunks a stream's thread may hold ready beyond the one being read
_END = object()


_UNPOOLED: dict[str, Engine] = {}
_UNPOOLED_LOCK = threading.Lock()


def _unpooled(engine: Engine) -> Engine:
    """An engine for the same database whose connections are opened and closed for each
    stream, outside `engine`'s pool: a worker planning eight shards at once would otherwise
    need up to 8 × 2 of its pool's connections, and wait for them."""
    key = engine.url.render_as_string(hide_password=False)
    with _UNPOOLED_LOCK:
        found = _UNPOOLED.get(key)
        if found is None:
            found = _UNPOOLED[key] = create_engine(engine.url, poolclass=NullPool)
        return found


class _ReadAhead:
    """`_chunks` of a statement on a connection of its own in a shared snapshot, fetched
    by a thread a few chunks ahead of the reader. Started at once, not at the first read:
    the point is that the database works on every stream while the caller reads the first.
    """

    def __init__(self, engine: Engine, snapshot: str, stmt: Any, size: int) -> None:
        self._engine, self._snapshot = _unpooled(engine), snapshot
        self._stmt, self._size = stmt, size
        self._ready: queue.Queue[Any] = queue.Queue(maxsize=_READ_AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="liaison-stream", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[Sequence[tuple[Any, ...]]]:
        while (item := self._ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop the thread (also when the stream was never read) and wait for it, so its
        connection is back in the pool when this returns."""
        self._stop.set()
        self._thread.join()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.execution_options(isolation_level="REPEATABLE READ")
                # The first statement of the transaction, as PostgreSQL requires.
                conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{self._snapshot}'")
                # Compiling code for a query read once costs more than it saves (about
                # a second per stream on a 1,000,000-member ledger).
                conn.exec_driver_sql("SET LOCAL jit = off")
                # The default 4 MB spills a whole-ledger listing's hash aggregates and sorts
                # to disk: at 1,000,000 members the member stream's first row came after
                # 12.1 s, 9.7 s with 64 MB (no better with 256 MB). Only this transaction's.
                conn.exec_driver_sql(f"SET LOCAL work_mem = '{_STREAM_WORK_MEM}'")
                for rows in _chunks(conn, self._stmt, self._size):
                    if not self._put(rows):
                        return
            self._put(_END)
        except BaseException as exc:  # handed to the reader, who raises it
            self._put(exc)


_CURSORS = count()


class _Lockstep:
    """The fact stream advanced member by member alongside the member stream."""

    __slots__ = ("_groups", "key", "value")

    def __init__(self, groups: Iterator[tuple[_Key, Iterator[tuple[Any, ...]]]]) -> None:
        self._groups = groups
        self.key: _Key | None = None
        self.value: list[tuple[Any, ...]] | None = None
        self._advance()

    def _advance(self) -> None:
        head = next(self._groups, None)
        if head is None:
            self.key, self.value = None, None
        else:  # kept now: the group's rows are gone once the stream moves on
            self.key, self.value = head[0], list(head[1])

    def take(self, key: _Key) -> list[tuple[Any, ...]] | None:
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
    """
    if needs is None:
        needs = FactNeeds(ALL_SOURCES, None, (date.min, 1))
    d = flt.as_of
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
    ).outerjoin(Assignment, _current_assignment(d))
    if needs.tallies:
        counted = _tallies(flt, needs.tallies)
        stmt = stmt.outerjoin(counted, counted.c.member_id == Member.member_id).add_columns(
            *(func.coalesce(column, 0) for column in list(counted.c)[1:])
        )
    opened: list[_Closable] = []
    try:
        snapshot = shared_snapshot(conn) if read_ahead else None
        members = _rows(conn, _in_member_order(conn, flt, stmt), batch_size, opened, snapshot)
        sources = _fact_sources(needs, d, earliest, campaign_ids, flt)
        fill = [source.fill for source in sources]
        # Both streams' queries are started before either is read (see `_ReadAhead`).
        facts = _Lockstep(_fact_stream(conn, flt, sources, batch_size, opened, snapshot))
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
                key = (0, liaison, member_id) if liaison is not None else (1, "", member_id)
                found = facts.take(key)
                if found is not None:
                    for fact in found:
                        fill[fact[3]](m, fact)
                batch.append(m)
            if needs.movers is not None:
                _attach_earlier_contact(conn, batch, earliest, *needs.movers)
            yield batch
    finally:  # close the cursors now, not whenever the streams are collected
        for chunks in reversed(opened):
            chunks.close()


_MEMBER_COLUMNS = 10  #: the member stream's own columns; its tallies follow them


def _tallies(flt: MemberFilter, windows: Sequence[InteractionWindow]) -> Any:
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
    if flt.orgs is not None and len(flt.orgs) > _NARROW_TALLIES_MAX_ORGS:
        # A subtree that large is most of the ledger: counting everyone's costs little
        # more, and the outer join keeps only its members. Naming its organizations a
        # second time would double the query's parameters (SQLite takes 32,766 at most).
        inner = replace(flt, orgs=None)
    if inner.member_ids is not None:
        # The outer join to the member stream keeps the other filters.
        stmt = stmt.where(*_by_member_id(Interaction, inner))
    elif inner.orgs is not None or inner.liaison_ids is not None:
        stmt = stmt.join(Member, Member.member_id == Interaction.member_id)
        if inner.liaison_ids is not None:
            stmt = stmt.join(Assignment, _current_assignment(d))
        stmt = stmt.where(*_member_filters(inner))
    return stmt.group_by(Interaction.member_id).subquery("tallies")


#: the most organizations whose members' tallies are counted alone (see `_tallies`)
_NARROW_TALLIES_MAX_ORGS = 1000


#: the slots every fact table's columns are laid in, so that all of them fit one query
_SLOTS: tuple[tuple[str, TypeEngine[Any]], ...] = (
    ("d1", Date()),
    ("d2", Date()),
    ("t1", String()),
    ("t2", String()),
)


_Fill = Callable[[MemberFacts, tuple[Any, ...]], None]


class _FactSource(NamedTuple):
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


def _fact_sources(
    needs: FactNeeds, d: date, earliest: date, campaign_ids: Sequence[str], flt: MemberFilter
) -> list[_FactSource]:
    """The fact tables the rules need, with the rows of each that they can count."""
    sources: list[_FactSource] = []
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
            movers = _movers(d, earliest, *needs.movers).where(*_by_member_id(Move, flt))
            others = [*in_range, Interaction.member_id.in_(movers)]
            if windows is not None:
                others.append(not_(func.coalesce(windows, false())))
            sources.append(_FactSource(_add_interaction, Interaction, columns, others))
    if needs.interactions is None or needs.interactions:
        # (None: all of them; no window at all: no rule reads interactions as records)
        sources.insert(0, _FactSource(_add_interaction, Interaction, columns, interactions))
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
            sources.append(_FactSource(_add_date_to(attribute), table, on, window))
    if "reviews" in wanted:
        on = (Review.on_date, None, None, None)
        sources.append(_FactSource(_add_date_to("reviews"), Review, on, [Review.on_date <= d]))
    if "delivered_campaigns" in wanted and campaign_ids:
        delivered = [
            MaterialDelivery.campaign_id.in_(list(campaign_ids)),
            MaterialDelivery.on_date <= d,
        ]
        campaign = (None, None, MaterialDelivery.campaign_id, None)
        sources.append(_FactSource(_add_campaign, MaterialDelivery, campaign, delivered))
    muted = [Mute.from_date <= d, or_(Mute.to_date.is_(None), Mute.to_date >= d)]
    span = (Mute.from_date, Mute.to_date, None, None)
    sources.append(_FactSource(_add_span, Mute, span, muted))
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


def _attach_earlier_contact(
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
