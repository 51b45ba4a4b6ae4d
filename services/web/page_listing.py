"""What the liaison's page shows: their open tasks, grouped by member, most urgent first.

The tasks are `liaison due` for one liaison (the same computation the digest and the SMS
reply read), so the page cannot disagree with them. Beside each member: the name, the
phone (for a tel: link, shown only on this liaison's page), the last contact, and for a
study-materials task the campaign it is for.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.orm import Session

from services.scheduler.tasks.due import DueQuery, Task, compute_due
from services.scheduler.tasks.policy import PolicyBook
from services.web.page_recording import actions_for
from shared.models import Campaign, Interaction, Liaison, MaterialDelivery, Member, Organization
from shared.org_tree import OrgTree
from shared.settings import DEFAULT_TIMEZONE


@dataclass(frozen=True)
class PageTask:
    rule: str
    window_start: date | None
    window_end: date | None
    overdue_days: int
    done: int
    required: int
    actions: tuple[str, ...]
    campaign_id: str | None = None
    campaign_title: str | None = None

    @property
    def key(self) -> str:
        """What the page's form names the task by: its rule and window."""
        start = self.window_start.isoformat() if self.window_start else ""
        end = self.window_end.isoformat() if self.window_end else ""
        return f"{self.rule}|{start}|{end}"


@dataclass
class MemberCard:
    member_id: str
    name: str
    phone: str | None
    last_contact: date | None = None
    last_contact_kind: str | None = None
    tasks: list[PageTask] = field(default_factory=list)


@dataclass(frozen=True)
class PageListing:
    liaison_id: str
    liaison_name: str
    as_of: date
    members: list[MemberCard]

    @property
    def task_count(self) -> int:
        return sum(len(m.tasks) for m in self.members)


#: seconds a loaded policy (rules, overrides, the organization tree) serves the page before
#: it is read again: reading it is most of a listing's cost at province scale (54 of 158 ms
#: a listing in a profile on a 10,000-member ledger with 4,977 organizations), and a policy
#: change reaching the page a minute late changes no one's duty that day
POLICY_TTL_S = 60.0


class PolicyCache:
    """The policy book the page's listings share, read again after `ttl_s` seconds."""

    def __init__(self, ttl_s: float = POLICY_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._book: PolicyBook | None = None
        self._loaded_at = 0.0

    def book(self, engine: Engine) -> PolicyBook:
        with self._lock:
            now = time.monotonic()
            if self._book is None or now - self._loaded_at > self.ttl_s:
                with Session(engine) as session:
                    self._book = PolicyBook.load(session, OrgTree.load(session))
                self._loaded_at = now
            return self._book


def liaison_tasks(
    engine: Engine, liaison_id: str, as_of: date, *, book: PolicyBook | None = None
) -> list[Task]:
    """One liaison's open tasks on `as_of`, most urgent first: the listing the page, the
    digest's refresh and the SMS reply all read (their members read by id, whatever the
    size of the ledger). `book`: the policy, when the caller keeps one loaded."""
    return list(compute_due(engine, DueQuery(as_of, liaison_id=liaison_id), book=book))


def liaison_day(conn: Connection, liaison_id: str) -> tuple[str, str, str] | None:
    """(name, time zone, locale) of a liaison, or None when there is no such liaison."""
    row = conn.execute(
        select(Liaison.name, Organization.timezone, Liaison.locale)
        .join(Organization, Organization.code == Liaison.org)
        .where(Liaison.liaison_id == liaison_id)
    ).first()
    if row is None:
        return None
    return row.name, row.timezone or DEFAULT_TIMEZONE, row.locale or ""


def page_listing(
    engine: Engine,
    liaison_id: str,
    liaison_name: str,
    as_of: date,
    *,
    book: PolicyBook | None = None,
) -> PageListing:
    """The page's content for `liaison_id` on their local day `as_of`."""
    tasks = liaison_tasks(engine, liaison_id, as_of, book=book)
    cards: dict[str, MemberCard] = {}
    with engine.connect() as conn:
        members = {
            r.member_id: r
            for r in conn.execute(
                select(Member.member_id, Member.name, Member.phone).where(
                    Member.member_id.in_({t.member_id for t in tasks})
                )
            )
        }
        lineages: dict[str, list[str]] = {}
        for t in tasks:  # most urgent first: a member comes where their most urgent task is
            card = cards.get(t.member_id)
            if card is None:
                m = members[t.member_id]
                card = cards[t.member_id] = MemberCard(m.member_id, m.name, m.phone)
            campaign: tuple[str, str] | None = None
            if t.rule == "materials_delivery":
                lineage = lineages.get(t.org)
                if lineage is None:
                    lineage = lineages[t.org] = (
                        book.tree.lineage(t.org) if book is not None else org_lineage(conn, t.org)
                    )
                campaign = open_campaign(conn, t, lineage)
            card.tasks.append(
                PageTask(
                    t.rule,
                    t.window_start,
                    t.window_end,
                    t.overdue_days,
                    t.done,
                    t.required,
                    actions_for(t.rule),
                    *(campaign or (None, None)),
                )
            )
        for member_id, day, kind in last_contacts(conn, list(cards), as_of):
            cards[member_id].last_contact, cards[member_id].last_contact_kind = day, kind
    return PageListing(liaison_id, liaison_name, as_of, list(cards.values()))


def last_contacts(
    conn: Connection, member_ids: list[str], as_of: date
) -> list[tuple[str, date, str]]:
    """(member, day, kind) of each member's latest interaction on or before `as_of`, in one
    query (two kinds on that day: the first by name)."""
    if not member_ids:
        return []
    latest = (
        select(Interaction.member_id, func.max(Interaction.on_date).label("on_date"))
        .where(Interaction.member_id.in_(member_ids), Interaction.on_date <= as_of)
        .group_by(Interaction.member_id)
        .subquery()
    )
    rows = conn.execute(
        select(Interaction.member_id, Interaction.on_date, Interaction.kind)
        .join(
            latest,
            and_(
                Interaction.member_id == latest.c.member_id,
                Interaction.on_date == latest.c.on_date,
            ),
        )
        .order_by(Interaction.member_id, Interaction.kind.desc())
    ).all()
    # Sorted by kind descending, so the last row written for a member is its first kind.
    return list({r.member_id: (r.member_id, r.on_date, r.kind) for r in rows}.values())


def org_lineage(conn: Connection, org: str) -> list[str]:
    """`org` and its ancestors, nearest first (a province is a handful of levels deep)."""
    lineage: list[str] = []
    code: str | None = org
    while code is not None and code not in lineage:
        lineage.append(code)
        code = conn.execute(
            select(Organization.parent_code).where(Organization.code == code)
        ).scalar_one_or_none()
    return lineage


def open_campaign(conn: Connection, task: Task, lineage: list[str]) -> tuple[str, str] | None:
    """(id, title) of the campaign a materials task is for: active over the task's window,
    held by the member's branch or an ancestor, and not yet delivered to the member."""
    delivered = select(MaterialDelivery.campaign_id).where(
        MaterialDelivery.member_id == task.member_id
    )
    stmt = (
        select(Campaign.campaign_id, Campaign.title)
        .where(
            Campaign.org.in_(lineage),
            Campaign.start == task.window_start,
            Campaign.campaign_id.not_in(delivered),
        )
        .order_by(Campaign.campaign_id)
    )
    if task.window_end is None:
        stmt = stmt.where(Campaign.end.is_(None))
    else:
        stmt = stmt.where(Campaign.end == task.window_end)
    row = conn.execute(stmt.limit(1)).first()
    return (row.campaign_id, row.title) if row is not None else None
