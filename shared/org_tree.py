"""The organization tree, held in memory: thousands of rows, not millions.

One class for everyone who walks the tree: the rules' policy (nearest ancestor wins),
the subtrees a listing or a plan covers, campaigns reaching a branch from above, the
web's access checks. (The importer's tree of staged rows is another thing, with its own
name.)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from shared.errors import NotFound
from shared.models import Organization


@dataclass(frozen=True)
class OrgTree:
    """Every organization's parent, name and time zone, by code."""

    parents: dict[str, str | None]
    names: dict[str, str]
    timezones: dict[str, str]

    @classmethod
    def load(cls, db: Session | Connection) -> OrgTree:
        rows = db.execute(
            select(
                Organization.code,
                Organization.parent_code,
                Organization.name,
                Organization.timezone,
            )
        ).all()
        return cls(
            {r.code: r.parent_code for r in rows},
            {r.code: r.name for r in rows},
            {r.code: r.timezone for r in rows},
        )

    def require(self, code: str) -> None:
        """Raise NotFound unless `code` is an organization of the tree."""
        if code not in self.parents:
            raise NotFound(f"no organization with code {code!r}")

    def lineage(self, code: str) -> list[str]:
        """`code` and its ancestors, nearest first (a cycle stops at the repeat)."""
        out: list[str] = []
        current: str | None = code
        while current is not None and current not in out:
            out.append(current)
            current = self.parents.get(current)
        return out

    @cached_property
    def children(self) -> dict[str, list[str]]:
        kids: dict[str, list[str]] = {}
        for code, parent in self.parents.items():
            if parent is not None:
                kids.setdefault(parent, []).append(code)
        for v in kids.values():
            v.sort()
        return kids

    @property
    def roots(self) -> list[str]:
        """The organizations without a parent, in code order."""
        return sorted(c for c, p in self.parents.items() if p is None)

    def subtree(self, code: str) -> list[str]:
        """`code` and every organization below it."""
        out, stack = [], [code]
        while stack:
            current = stack.pop()
            if current in out:
                continue
            out.append(current)
            stack.extend(self.children.get(current, []))
        return out
