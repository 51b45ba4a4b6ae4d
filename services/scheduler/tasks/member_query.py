"""Which members a listing covers, and the order every stream of it is read in.

A `MemberFilter` (a subtree, some liaisons, some members, in scope or not) becomes SQL
conditions; the member stream and the fact stream are both sorted by the member's place
(`MemberPosition`: unassigned last, then liaison, then member id, byte-wise, so that
SQLite and PostgreSQL agree on the order) and advanced in lockstep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, case, collate, select
from sqlalchemy.sql import ColumnElement

from shared.models import Assignment, Member

#: a member's place in the streams' order: (1 if unassigned else 0, liaison id or "", id)
MemberPosition = tuple[int, str, str]


@dataclass(frozen=True)
class MemberFilter:
    as_of: date
    orgs: Sequence[str] | None = None  #: home organizations to include (a subtree)
    liaison_ids: Sequence[str] | None = None  #: members whose current liaison is one of these
    #: these members only: every fact table is then read by member id, through its index
    member_ids: Sequence[str] | None = None
    in_scope_only: bool = True  #: `why` also explains members out of scope


def bytewise(conn: Connection, column: Any) -> ColumnElement[str]:
    return collate(column, "C" if conn.dialect.name == "postgresql" else "BINARY")


def member_filters(flt: MemberFilter) -> list[ColumnElement[bool]]:
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
        stmt = stmt.join(Assignment, current_assignment(flt.as_of))
    else:
        stmt = stmt.outerjoin(Assignment, current_assignment(flt.as_of))
    stmt = stmt.where(*member_filters(flt))
    return {member_id: home for member_id, home in conn.execute(stmt)}


def current_assignment(d: date) -> ColumnElement[bool]:
    return and_(Assignment.member_id == Member.member_id, Assignment.in_force_on(d))


def in_member_order(conn: Connection, flt: MemberFilter, stmt: Any) -> Any:
    """`stmt` restricted to the filtered members and sorted as the member stream is: by
    liaison (unassigned last), then member id, both byte-wise."""
    return stmt.where(*member_filters(flt)).order_by(
        case((Assignment.liaison_id.is_(None), 1), else_=0),
        bytewise(conn, Assignment.liaison_id),
        bytewise(conn, Member.member_id),
    )


def by_member_id(table: Any, flt: MemberFilter) -> list[ColumnElement[bool]]:
    """`table`'s rows of the filter's members, when it names them: inside each branch of
    the fact query, so that every table is read through its member index (PostgreSQL
    may push the join to the members into a UNION ALL's branches; SQLite does not, and
    scans each table whole)."""
    if flt.member_ids is None:
        return []
    return [table.member_id.in_(list(flt.member_ids))]
