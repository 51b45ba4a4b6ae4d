"""Who may see what. A resource outside the caller's part of the ledger answers 404, as if
it did not exist (its existence is itself information); a role that may never use an
endpoint answers 403.

- admin: everything;
- org_manager: its organization's subtree (members by home branch, liaisons by
  organization, compliance of any organization inside it);
- liaison: itself and the members currently assigned to it;
- ops: queues, dead letters, the delivery log (masked) and compliance figures (counts
  only), never a member or a liaison's tasks.
"""

from __future__ import annotations

from datetime import date

from fastapi import HTTPException
from sqlalchemy import ColumnElement, Connection, Engine, and_, or_, select
from sqlalchemy.orm import Session

from services.web.tokens import Principal
from shared.models import Assignment, Liaison, Member, Notification, Organization
from shared.org_tree import OrgTree


def not_found(what: str) -> HTTPException:
    return HTTPException(404, f"no such {what}")


def forbid(principal: Principal, what: str) -> HTTPException:
    return HTTPException(403, f"the {principal.role} role may not {what}")


def subtree_of(session: Session, org: str) -> set[str]:
    tree = OrgTree.load(session)
    return set(tree.subtree(org)) if org in tree.parents else set()


def member_home_org(session: Session, member_id: str) -> str | None:
    return session.execute(
        select(Member.home_org).where(Member.member_id == member_id)
    ).scalar_one_or_none()


def current_liaison(session: Session, member_id: str, day: date) -> str | None:
    return session.execute(
        select(Assignment.liaison_id).where(
            Assignment.member_id == member_id, Assignment.in_force_on(day)
        )
    ).scalar_one_or_none()


def is_assigned(db: Connection | Session, liaison_id: str, member_id: str, day: date) -> bool:
    """Whether `member_id` is `liaison_id`'s member on `day`."""
    query = select(Assignment.id).where(
        Assignment.member_id == member_id,
        Assignment.liaison_id == liaison_id,
        Assignment.in_force_on(day),
    )
    return db.execute(query).first() is not None


def current_members(engine: Engine, liaison_id: str, day: date) -> set[str]:
    """The members assigned to the liaison on `day`."""
    with Session(engine) as session:
        return set(
            session.scalars(
                select(Assignment.member_id).where(
                    Assignment.liaison_id == liaison_id, Assignment.in_force_on(day)
                )
            )
        )


def check_member(engine: Engine, principal: Principal, member_id: str, day: date) -> None:
    """Raise unless `principal` may read and record for the member."""
    if principal.role == "ops":
        raise forbid(principal, "read members")
    with Session(engine) as session:
        home = member_home_org(session, member_id)
        if home is None:
            raise not_found("member")
        if principal.role == "admin":
            return
        if principal.role == "org_manager" and principal.org:
            if home in subtree_of(session, principal.org):
                return
        elif (
            principal.role == "liaison"
            and principal.liaison_id
            and current_liaison(session, member_id, day) == principal.liaison_id
        ):
            return
    raise not_found("member")


def check_liaison(engine: Engine, principal: Principal, liaison_id: str) -> None:
    if principal.role == "ops":
        raise forbid(principal, "read a liaison's tasks")
    with Session(engine) as session:
        org = session.execute(
            select(Liaison.org).where(Liaison.liaison_id == liaison_id)
        ).scalar_one_or_none()
        if org is None:
            raise not_found("liaison")
        if principal.role == "admin":
            return
        if principal.role == "org_manager" and principal.org:
            if org in subtree_of(session, principal.org):
                return
        elif principal.role == "liaison" and principal.liaison_id == liaison_id:
            return
    raise not_found("liaison")


def check_org(engine: Engine, principal: Principal, code: str) -> None:
    if principal.role == "liaison":
        raise forbid(principal, "read an organization's compliance")
    with Session(engine) as session:
        if session.get(Organization, code) is None:
            raise not_found("organization")
        if principal.role in ("admin", "ops"):
            return
        if principal.org and code in subtree_of(session, principal.org):
            return
    raise not_found("organization")


def delivery_scope(engine: Engine, principal: Principal) -> ColumnElement[bool] | None:
    """A condition on notifications: those the caller may list (None: every one)."""
    if principal.role in ("admin", "ops"):
        return None
    if principal.role == "liaison":
        return and_(
            Notification.recipient_type == "liaison",
            Notification.recipient_id == (principal.liaison_id or ""),
        )
    with Session(engine) as session:
        orgs = sorted(subtree_of(session, principal.org or ""))
    # Subqueries, not id lists: a county's subtree holds hundreds of thousands of members.
    return or_(
        and_(
            Notification.recipient_type == "liaison",
            Notification.recipient_id.in_(select(Liaison.liaison_id).where(Liaison.org.in_(orgs))),
        ),
        and_(
            Notification.recipient_type == "member",
            Notification.recipient_id.in_(
                select(Member.member_id).where(Member.home_org.in_(orgs))
            ),
        ),
        # A secretary's notification names their organization as the recipient.
        and_(Notification.recipient_type == "secretary", Notification.recipient_id.in_(orgs)),
    )
