"""Times as the viewer reads them: in the local time of the viewer's organization (China's
by default), to the minute or second, never UTC ISO strings with microseconds; and the
organization the viewer's pages start from."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from services.web.tokens import Principal
from shared.models import Member, Organization
from shared.org_tree import OrgTree
from shared.settings import DEFAULT_TIMEZONE


def local_text(moment: datetime | None, tz: str, *, seconds: bool = False) -> str:
    """`2026-12-03 15:40` in `tz`; empty for None. A naive instant is taken as UTC."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(tz)).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def home_root(engine: Engine, viewer: Principal | None) -> str | None:
    """The root the viewer's pages start from: the root above the viewer's own
    organization; for a viewer of no organization (ops, admin), the root with the most
    members, so that a host organization with nobody in it is not the default."""
    with Session(engine) as session:
        tree = OrgTree.load(session)
        if viewer is not None and viewer.org and viewer.org in tree.parents:
            return tree.lineage(viewer.org)[-1]
        roots = sorted(c for c, p in tree.parents.items() if p is None)
        if not roots:
            return None
        members: dict[str, int] = dict.fromkeys(roots, 0)
        for org, count in session.execute(
            select(Member.home_org, func.count()).group_by(Member.home_org)
        ):
            if org in tree.parents:
                root = tree.lineage(org)[-1]
                members[root] = members.get(root, 0) + int(count)
    return min(roots, key=lambda r: (-members[r], r))


def viewer_timezone(engine: Engine, org: str | None) -> str:
    """The time zone of `org` (the viewer's organization or the root its pages show)."""
    if not org:
        return DEFAULT_TIMEZONE
    with Session(engine) as session:
        tz = session.scalar(select(Organization.timezone).where(Organization.code == org))
    return tz or DEFAULT_TIMEZONE
