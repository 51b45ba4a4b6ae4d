"""`liaison due`: every open task on the as-of day, ordered by liaison, then urgency."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from services.scheduler.tasks.evaluation import (
    Context,
    EffectiveRule,
    Evaluator,
    earliest_needed,
    fact_needs,
    prepare,
    scope,
)
from services.scheduler.tasks.facts import CampaignFact, MemberFacts
from services.scheduler.tasks.loader import (
    DEFAULT_BATCH_SIZE,
    MemberFilter,
    active_campaigns,
    stream_members,
)
from services.scheduler.tasks.policy import OrgTree, PolicyBook, PolicyError

_FAR_FUTURE = date.max


@dataclass(frozen=True)
class DueQuery:
    as_of: date
    org: str | None = None  #: the organization whose whole subtree is listed
    liaison_id: str | None = None
    rule: str | None = None


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


def compute_due(
    engine: Engine,
    query: DueQuery,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    book: PolicyBook | None = None,
) -> Iterator[Task]:
    """Every open task on `query.as_of`, liaison by liaison (unassigned last), most urgent
    first. `book`: the policy (with its tree) when the caller has it loaded already."""
    if book is None:
        with Session(engine) as session:
            book = PolicyBook.load(session, OrgTree.load(session))
    tree = book.tree
    known_rules = {r.name for r in book.rules}
    if query.rule is not None and query.rule not in known_rules:
        raise PolicyError(f"no rule named {query.rule!r}; rules: {', '.join(sorted(known_rules))}")
    orgs: list[str] | None = None
    if query.org is not None:
        tree.require(query.org)
        orgs = tree.subtree(query.org)

    # Organizations of one policy share one tuple of rules (`PolicyBook.task_rules`), so
    # the rules in play and the prepared evaluators are worked out once per policy, not
    # once per organization.
    wanted: dict[int, tuple[EffectiveRule, ...]] = {}

    def rules_for(org: str) -> tuple[EffectiveRule, ...]:
        # The enabled rules of `org` (and only the asked-for one); a disabled rule lists
        # nothing, so the hot loop need not visit it.
        rules = book.task_rules(org)
        found = wanted.get(id(rules))
        if found is None:
            found = wanted[id(rules)] = tuple(
                r for r in rules if r.enabled and query.rule in (None, r.name)
            )
        return found

    for org in orgs or tree.parents:
        rules_for(org)
    in_play = [r for rules in wanted.values() for r in rules]
    earliest = earliest_needed(in_play, query.as_of)
    needs = fact_needs(in_play, query.as_of)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # One instant for everything read, by this connection and the streams' own.
            conn.execution_options(isolation_level="REPEATABLE READ")
        campaigns = CampaignIndex(active_campaigns(conn, query.as_of), tree)
        ctx = Context(query.as_of, campaigns, tallies=needs.tallies, listed_only=True)
        prepared: dict[str, list[tuple[Evaluator, int]]] = {}  #: by organization
        by_policy: dict[int, list[tuple[Evaluator, int]]] = {}  #: by rules tuple
        flt = MemberFilter(query.as_of, orgs=orgs, liaison_id=query.liaison_id)
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
            # One liaison's members (a digest refreshed at send time, by each of a
            # worker's threads) are too few to be worth two more connections.
            read_ahead=query.liaison_id is None,
        )
        with closing(batches):  # its cursors close before the connection goes back
            for batch in batches:
                for facts in batch:
                    if not started or facts.liaison_id != current:
                        pending.sort(key=urgency)
                        yield from pending
                        pending, current, started = [], facts.liaison_id, True
                    org = facts.home_org
                    evaluators = prepared.get(org)
                    if evaluators is None:
                        rules = rules_for(org)
                        evaluators = by_policy.get(id(rules))
                        if evaluators is None:
                            evaluators = [(prepare(r, ctx), r.priority) for r in rules]
                            by_policy[id(rules)] = evaluators
                        prepared[org] = evaluators
                    pending.extend(member_tasks(facts, evaluators, query.as_of))
        pending.sort(key=urgency)
        yield from pending
