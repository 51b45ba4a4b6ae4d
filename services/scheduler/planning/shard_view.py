"""What a planning pass reads before it plans: the tree, the policy, the calendars, the marks.

A planning pass covers one shard (an organization's subtree, or the whole tree) at one
instant. The tree, the policy, the calendars and the secretaries (`PlanningBase`) are read
once per reconcile and shared by its shards; the recent marks are read by each shard,
as another shard may just have added some. Members and their facts are streamed by the
kind planners.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, not_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from services.notifier import sms_route_from_policy
from services.scheduler.planning.message_policy import MessagePolicy, message_policy
from services.scheduler.planning.recipients import Recipient, secretary_channels
from services.scheduler.planning.schedules import CATCH_UP_HORIZON, is_quiet, local_date
from services.scheduler.planning.workdays import OrgCalendars
from services.scheduler.tasks.policy import PolicyBook
from shared.models import Member, Mute, Organization, PlanningMark
from shared.org_tree import OrgTree
from shared.settings import DEFAULT_LOCALE, DEFAULT_TIMEZONE

#: marks older than this are not read: every occasion they could match is past its horizon
MARKS_LOOKBACK = CATCH_UP_HORIZON + timedelta(days=14)


@dataclass
class PlanningBase:
    """What every shard of one reconcile shares: the tree, the policy, the calendars and
    the secretaries. Read once per reconcile (a province has tens of thousands of
    organizations), not once per shard."""

    tree: OrgTree
    book: PolicyBook
    calendars: OrgCalendars
    secretaries: dict[str, Recipient]
    _policies: dict[tuple[str, ...], MessagePolicy] = field(default_factory=dict)
    _sms_routes: dict[tuple[str, ...], dict[str, Any] | None] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> PlanningBase:
        tree = OrgTree.load(session)
        secretaries = {}
        for o in session.execute(
            select(
                Organization.code,
                Organization.secretary_name,
                Organization.secretary_phone,
                Organization.secretary_email,
                Organization.timezone,
            )
        ):
            if o.secretary_phone or o.secretary_email:
                secretaries[o.code] = Recipient(
                    type="secretary",
                    id=o.code,
                    name=o.secretary_name or "",
                    phone=o.secretary_phone,
                    email=o.secretary_email,
                    locale=DEFAULT_LOCALE,
                    channels=secretary_channels(o.secretary_phone, o.secretary_email),
                    timezone=o.timezone,
                    org=o.code,
                )
        return cls(
            tree=tree,
            book=PolicyBook.load(session, tree),
            calendars=OrgCalendars.load(session, tree),
            secretaries=secretaries,
        )

    @classmethod
    def read(cls, engine: Engine) -> PlanningBase:
        with Session(engine) as session:
            return cls.load(session)

    def policy(self, org: str) -> MessagePolicy:
        """`org`'s messaging policy, worked out once per distinct policy."""
        signature = self.book.signature(org)
        found = self._policies.get(signature)
        if found is None:
            found = self._policies[signature] = message_policy(self.book, org)
        return found

    def sms_route(self, org: str) -> dict[str, Any] | None:
        """`org`'s SMS route (its `sms_route` policy), None when it chose nothing of its own;
        worked out once per distinct policy."""
        signature = self.book.signature(org)
        if signature not in self._sms_routes:
            self._sms_routes[signature] = sms_route_from_policy(self.book.effective(org), org)
        return self._sms_routes[signature]


@dataclass
class ShardView:
    """One shard as its planning pass sees it at `now`: its organizations, their local
    day, quiet hours and policy, and the occasions already planned (`marks`)."""

    now: datetime
    root: str | None  #: the shard's root, or None for the whole tree
    base: PlanningBase
    orgs: list[str]  #: the shard's organizations
    marks: set[tuple[str, str, str]]

    @classmethod
    def load(
        cls,
        session: Session,
        now: datetime,
        root: str | None = None,
        base: PlanningBase | None = None,
    ) -> ShardView:
        """The view of the shard rooted at `root` at `now`; `base` when this reconcile
        has read it already (the marks are always read afresh)."""
        base = base or PlanningBase.load(session)
        tree = base.tree
        if root is not None:
            tree.require(root)
        orgs = tree.subtree(root) if root is not None else sorted(tree.parents)
        marks = {
            (m.kind, m.scope, m.occasion)
            for m in session.execute(
                select(PlanningMark.kind, PlanningMark.scope, PlanningMark.occasion).where(
                    PlanningMark.planned_at >= now - MARKS_LOOKBACK
                )
            )
        }
        return cls(now=now, root=root, base=base, orgs=orgs, marks=marks)

    @property
    def tree(self) -> OrgTree:
        return self.base.tree

    @property
    def book(self) -> PolicyBook:
        return self.base.book

    @property
    def calendars(self) -> OrgCalendars:
        return self.base.calendars

    @property
    def secretaries(self) -> dict[str, Recipient]:
        return self.base.secretaries

    def policy(self, org: str) -> MessagePolicy:
        return self.base.policy(org)

    def sms_route(self, org: str) -> dict[str, Any] | None:
        return self.base.sms_route(org)

    def timezone(self, org: str) -> str:
        return self.tree.timezones.get(org) or DEFAULT_TIMEZONE

    def quiet(self, org: str) -> bool:
        p = self.policy(org)
        return is_quiet(self.now, self.timezone(org), p.quiet_start, p.quiet_end)

    def today(self, org: str | None = None) -> date:
        """The local date: of `org`, else of the shard's root (a shard shares one date)."""
        code = org or self.root or (self.orgs[0] if self.orgs else None)
        return local_date(self.now, self.timezone(code) if code else DEFAULT_TIMEZONE)

    def marked(self, kind: str, scope: str, occasion: str) -> bool:
        return (kind, scope, occasion) in self.marks


def in_scope(day: date) -> ColumnElement[bool]:
    """Members in scope on `day`: active, mobile by then, and not muted on it."""
    muted = exists().where(
        Mute.member_id == Member.member_id,
        Mute.from_date <= day,
        or_(Mute.to_date.is_(None), Mute.to_date >= day),
    )
    return and_(Member.status == "active", Member.mobile_since <= day, not_(muted))


def member_recipient(row: object, timezone: str) -> Recipient:
    return Recipient(
        type="member",
        id=row.member_id,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        phone=row.phone,  # type: ignore[attr-defined]
        email=row.email,  # type: ignore[attr-defined]
        locale=row.locale,  # type: ignore[attr-defined]
        channels=row.channels,  # type: ignore[attr-defined]
        timezone=timezone,
        org=row.home_org,  # type: ignore[attr-defined]
        wecom_userid=row.wecom_userid,  # type: ignore[attr-defined]
    )


MEMBER_COLUMNS = (
    Member.member_id,
    Member.name,
    Member.phone,
    Member.email,
    Member.locale,
    Member.channels,
    Member.wecom_userid,
    Member.home_org,
    Member.join_date,
)


def chunks(items: list[str], size: int = 1000) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def members_of(conn: Connection, orgs: list[str], day: date) -> list[object]:
    """In-scope members whose home or host organization is one of `orgs`."""
    rows: list[object] = []
    for part in chunks(orgs):
        rows.extend(
            conn.execute(
                select(*MEMBER_COLUMNS, Member.host_org)
                .where(or_(Member.home_org.in_(part), Member.host_org.in_(part)), in_scope(day))
                .order_by(Member.member_id)
            ).all()
        )
    return rows
