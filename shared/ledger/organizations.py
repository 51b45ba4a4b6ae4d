"""The organization tree during an import: the database's organizations plus the file set's.

Organizations are few (thousands, not millions), so the whole tree is held: a parent may
then be defined later in the same file, a parent cycle can be found, and organizations
are written parents first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from shared.models import Organization
from shared.settings import DEFAULT_TIMEZONE


@dataclass
class StagedOrg:
    """A valid organization row of the file set, with where it came from."""

    src: int
    line: int
    row: dict[str, object]
    raw: dict[str, object]

    @property
    def code(self) -> str:
        return str(self.row["code"])


@dataclass
class StagingTree:
    """The tree an import builds: the database's organizations plus the file set's staged
    rows (the read-only tree everyone else walks is `shared.org_tree.OrgTree`)."""

    parents: dict[str, str | None] = field(default_factory=dict)
    timezones: dict[str, str] = field(default_factory=dict)
    staged: dict[str, StagedOrg] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection) -> StagingTree:
        tree = cls()
        query = select(Organization.code, Organization.parent_code, Organization.timezone)
        for code, parent, timezone in conn.execute(query):
            tree.parents[code] = parent
            tree.timezones[code] = timezone
        return tree

    def has(self, code: str) -> bool:
        return code in self.parents

    def timezone(self, code: str) -> str:
        return self.timezones.get(code, DEFAULT_TIMEZONE)

    def stage(self, org: StagedOrg, *, has_parent_column: bool) -> None:
        """Take a file row into the tree (a file without `parent_code` keeps the parent)."""
        code = org.code
        self.staged[code] = org
        if has_parent_column:
            parent = org.row.get("parent_code")
            self.parents[code] = None if parent is None else str(parent)
        else:
            self.parents.setdefault(code, None)
        timezone = org.row.get("timezone")
        if timezone is not None:
            self.timezones[code] = str(timezone)
        else:
            self.timezones.setdefault(code, DEFAULT_TIMEZONE)

    def parent_problems(self) -> Iterator[tuple[StagedOrg, str]]:
        """Unknown parents, and each parent cycle once (on its first row in the files)."""
        in_cycle: set[str] = set()
        for code, org in self.staged.items():
            parent = self.parents.get(code)
            if parent is not None and parent not in self.parents:
                yield org, "unknown organization"
                continue
            if code in in_cycle:
                continue
            cycle = self._cycle_from(code)
            if cycle:
                in_cycle.update(cycle)
                first = min(
                    (self.staged[c] for c in cycle if c in self.staged),
                    key=lambda o: (o.src, o.line),
                )
                path = " → ".join([*cycle, cycle[0]])
                yield first, f"the parents make a cycle ({path})"

    def _cycle_from(self, code: str) -> list[str]:
        path: list[str] = []
        seen: dict[str, int] = {}
        node: str | None = code
        while node is not None and node in self.parents:
            if node in seen:
                return path[seen[node] :]
            seen[node] = len(path)
            path.append(node)
            node = self.parents[node]
        return []

    def depth(self, code: str) -> int:
        depth, node = 0, self.parents.get(code)
        while node is not None and depth <= len(self.parents):
            depth, node = depth + 1, self.parents.get(node)
        return depth

    def write_order(self, batch_rows: int) -> Iterator[list[StagedOrg]]:
        """Staged organizations in batches, every parent in an earlier batch than its child."""
        by_depth: dict[int, list[StagedOrg]] = {}
        for code, org in self.staged.items():
            by_depth.setdefault(self.depth(code), []).append(org)
        for depth in sorted(by_depth):
            level = by_depth[depth]
            for start in range(0, len(level), batch_rows):
                yield level[start : start + batch_rows]
