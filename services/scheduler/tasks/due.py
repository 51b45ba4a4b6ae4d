"""`liaison due`: every open task on the as-of day, ordered by liaison, then urgency."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from services.scheduler.tasks.evaluation import earliest_needed, fact_needs, prepare
from services.scheduler.tasks.facts import CampaignFact, MemberFacts
from services.scheduler.tasks.loader import DEFAULT_BATCH_SIZE, active_campaigns, stream_members
from services.scheduler.tasks.member_query import MemberFilter, member_homes
from services.scheduler.tasks.policy import PolicyBook, PolicyError
from services.scheduler.tasks.rules import EffectiveRule, Evaluator, RuleRun, scope
from shared.org_tree import OrgTree

_FAR_FUTURE = date.max


@dataclass(frozen=True)
class DueQuery:
    as_of: date
    org: str | None = None  #: the organization whose whole subtree is listed
    liaison_id: str | None = None
    rule: str | None = None
    #: several liaisons' members (with `liaison_id`, if given), read by member id
    liaison_ids: tuple[str, ...] | None = None
    member_ids: tuple[str, ...] | None = None  #: these members only, read by member id

    @property
    def liaisons(self) -> list[str] | None:
        """Every liaison asked for (None: any)."""
        if self.liaison_id is None and self.liaison_ids is None:
            return None
        return [
            *([self.liaison_id] if self.liaison_id is not None else []),
            *(self.liaison_ids or ()),
        ]


class Task(NamedTuple):
    """An open task, as the `due` listing contract (ledger-format.md) names its fields.

    A named tuple for speed: a province-wide run builds millions of them.
    """

    member_id: str
    rule: str
    window_start: date | None
    window_end: date | None
    liaison_id: str | None
    org: str
    overdue_days: int
    done: int
    required: int
    member_name: str = ""  #: for digests; not part of the listing
    priority: int = 100  #: the rule's priority; not part of the listing

    def as_listing(self) -> dict[str, Any]:
        """The fields of the `due` contract, in its order."""
        return {
            "member_id": self.member_id,
            "rule": self.rule,
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "window_end": self.window_end.isoformat() if self.window_end else None,
            "liaison_id": self.liaison_id,
            "org": self.org,
            "overdue_days": self.overdue_days,
            "done": self.done,
            "required": self.required,
        }


LISTING_FIELDS = Task._fields[:9]


def urgency(task: Task) -> tuple[int, date, int, str, date]:
    """Most overdue first, then the nearest deadline, then the rule's own priority."""
    return (
        -task.overdue_days,
        task.window_end or _FAR_FUTURE,
        task.priority,
        task.member_id,
        task.window_start or _FAR_FUTURE,
    )


class CampaignIndex:
    """The active campaigns that reach each home organization (its own and its ancestors')."""

    def __init__(self, campaigns: list[CampaignFact], tree: OrgTree) -> None:
        self._by_org: dict[str, list[CampaignFact]] = {}
        for c in campaigns:
            self._by_org.setdefault(c.org, []).append(c)
        self._tree = tree
        self._cache: dict[str, list[CampaignFact]] = {}
        self.ids = [c.campaign_id for c in campaigns]

    def __call__(self, org: str) -> list[CampaignFact]:
        if org not in self._cache:
            found = [c for code in self._tree.lineage(org) for c in self._by_org.get(code, [])]
            self._cache[org] = sorted(found, key=lambda c: (c.start, c.campaign_id))
        return self._cache[org]


def member_tasks(
    facts: MemberFacts, evaluators: Sequence[tuple[Evaluator, int]], as_of: date
) -> list[Task]:
    """The open tasks of one member on `as_of` (none when out of scope); each evaluator
    comes with its rule's priority."""
    if (
        facts.status != "active"
        or facts.mobile_since > as_of
        or (facts.mutes and not scope(facts, as_of)[0])
    ):
        return []
    tasks = []
    for evaluate, priority in evaluators:
        for a in evaluate(facts):
            if a.listed:
                tasks.append(
                    Task(
                        facts.member_id,
                        a.rule,
                        a.window_start,
                        a.window_end,
                        facts.liaison_id,
                        facts.home_org,
                        a.overdue_days,
                        a.done,
                        a.required,
                        facts.name,
                        priority,
                    )
                )
    return tasks


#: the most members a listing looks up by id (`DueQuery.liaison_ids`, `member_ids`): each
#: fact table's branch names them all, and SQLite takes 32,766 parameters at most
FEW_MEMBERS_MAX = 2000


class _RulesInPlay:
    """The enabled rules of each organization (only the asked-for one, if any), and their
    evaluators for one run.

    Organizations of one policy share one tuple of rules (`PolicyBook.task_rules`), so
    the rules in play and the prepared evaluators are worked out once per policy, not
    once per organization. A disabled rule lists nothing, so the hot loop never visits it.
    """

    def __init__(self, book: PolicyBook, rule: str | None, orgs: Iterable[str]) -> None:
        self._book, self._rule = book, rule
        self._wanted: dict[int, tuple[EffectiveRule, ...]] = {}
        self._by_policy: dict[int, list[tuple[Evaluator, int]]] = {}
        self._by_org: dict[str, list[tuple[Evaluator, int]]] = {}
        for org in orgs:
            self.rules_for(org)

    def rules_for(self, org: str) -> tuple[EffectiveRule, ...]:
        rules = self._book.task_rules(org)
        found = self._wanted.get(id(rules))
        if found is None:
            found = self._wanted[id(rules)] = tuple(
                r for r in rules if r.enabled and self._rule in (None, r.name)
            )
        return found

    @property
    def rules(self) -> list[EffectiveRule]:
        return [r for rules in self._wanted.values() for r in rules]

    def evaluators(self, org: str, run: RuleRun) -> list[tuple[Evaluator, int]]:
        """`org`'s evaluators, each with its rule's priority."""
        found = self._by_org.get(org)
        if found is None:
            rules = self.rules_for(org)
            found = self._by_policy.get(id(rules))
            if found is None:
                found = [(prepare(r, run), r.priority) for r in rules]
                self._by_policy[id(rules)] = found
            self._by_org[org] = found
        return found


def compute_due(
    engine: Engine,
    query: DueQuery,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    book: PolicyBook | None = None,
) -> Iterator[Task]:
    """Every open task on `query.as_of`, liaison by liaison (unassigned last), most urgent
    first. `book`: the policy (with its tree) when the caller has it loaded already.

    With `liaison_ids` or `member_ids` (the liaison page, the digest refresher), the
    members are looked up first and their facts read by member id: a few members cost a
    few indexed lookups, whatever the size of the ledger. More than FEW_MEMBERS_MAX
    `member_ids` is a ValueError (list their organization instead); liaisons with more
    members than that are listed by streaming, as a subtree is.
    """
    if query.member_ids is not None and len(query.member_ids) > FEW_MEMBERS_MAX:
        raise ValueError(
            f"{len(query.member_ids)} member ids: at most {FEW_MEMBERS_MAX} are looked up "
            "one by one; list their organization instead"
        )
    if book is None:
        with Session(engine) as session:
            book = PolicyBook.load(session, OrgTree.load(session))
    known_rules = {r.name for r in book.rules}
    if query.rule is not None and query.rule not in known_rules:
        raise PolicyError(f"no rule named {query.rule!r}; rules: {', '.join(sorted(known_rules))}")
    orgs: list[str] | None = None
    if query.org is not None:
        book.tree.require(query.org)
        orgs = book.tree.subtree(query.org)
    flt = MemberFilter(
        query.as_of, orgs=orgs, liaison_ids=query.liaisons, member_ids=query.member_ids
    )
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # One instant for everything read, by this connection and the streams' own.
            conn.execution_options(isolation_level="REPEATABLE READ")
        few = flt.liaison_ids is not None or flt.member_ids is not None
        homes = member_homes(conn, flt) if few else None
        if homes is not None and len(homes) <= FEW_MEMBERS_MAX:
            flt = replace(flt, orgs=None, member_ids=sorted(homes))
            in_play = _RulesInPlay(book, query.rule, set(homes.values()))
        else:
            few = False
            in_play = _RulesInPlay(book, query.rule, orgs or book.tree.parents)
        if homes == {}:
            return
        campaigns = CampaignIndex(active_campaigns(conn, query.as_of), book.tree)
        yield from _listing(conn, flt, in_play, campaigns, batch_size, read_ahead=not few)


def _listing(
    conn: Connection,
    flt: MemberFilter,
    in_play: _RulesInPlay,
    campaigns: CampaignIndex,
    batch_size: int,
    *,
    read_ahead: bool,
) -> Iterator[Task]:
    """The filtered members' open tasks, liaison by liaison, each liaison's by urgency."""
    earliest = earliest_needed(in_play.rules, flt.as_of)
    needs = fact_needs(in_play.rules, flt.as_of)
    run = RuleRun(flt.as_of, campaigns, tallies=needs.tallies, listed_only=True)
    current: str | None = None
    pending: list[Task] = []
    started = False
    batches = stream_members(
        conn,
        flt,
        earliest=earliest,
        campaign_ids=campaigns.ids,
        batch_size=batch_size,
        needs=needs,
        # A few members are not worth two more connections (a digest refreshed at send
        # time, by each of a worker's threads).
        read_ahead=read_ahead,
    )
    with closing(batches):  # its cursors close before the connection goes back
        for batch in batches:
            for facts in batch:
                if not started or facts.liaison_id != current:
                    pending.sort(key=urgency)
                    yield from pending
                    pending, current, started = [], facts.liaison_id, True
                evaluators = in_play.evaluators(facts.home_org, run)
                pending.extend(member_tasks(facts, evaluators, flt.as_of))
    pending.sort(key=urgency)
    yield from pending
