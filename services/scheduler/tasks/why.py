"""`liaison why`: rule by rule, why a member is or is not due on the as-of day.

A rolling rule (a frequent mover's contact every 14 days) has a window that ends on the
as-of day, so "N days overdue" next to it misleads; it is explained as the digest words it:
the cadence, the last contact and how long ago, and the window that holds none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from services.scheduler.tasks.due import CampaignIndex
from services.scheduler.tasks.evaluation import assess, earliest_needed
from services.scheduler.tasks.facts import MemberFacts
from services.scheduler.tasks.loader import active_campaigns, stream_members
from services.scheduler.tasks.member_query import MemberFilter
from services.scheduler.tasks.policy import PolicyBook, PolicyValue
from services.scheduler.tasks.rules import Assessment, RuleRun, scope
from services.scheduler.tasks.strategies import TASK_STRATEGIES
from shared.errors import NotFound
from shared.org_tree import OrgTree


@dataclass(frozen=True)
class RuleExplanation:
    rule: str
    assessments: tuple[Assessment, ...]
    policy: tuple[PolicyValue, ...]  #: the effective parameters and where each comes from
    strategy: str = ""  #: how the rule's window is computed (`rolling`, `calendar`, …)


@dataclass(frozen=True)
class Explanation:
    facts: MemberFacts
    as_of: date
    in_scope: bool
    scope_reason: str
    rules: tuple[RuleExplanation, ...]

    @property
    def listed(self) -> list[Assessment]:
        """The assessments `liaison due` lists for this member (none when out of scope)."""
        if not self.in_scope:
            return []
        return [a for r in self.rules for a in r.assessments if a.listed]


class Explainer:
    """Explains members on one day; the tree, policy and campaigns are read once."""

    def __init__(self, engine: Engine, as_of: date) -> None:
        self.engine, self.as_of = engine, as_of
        with Session(engine) as session:
            tree = OrgTree.load(session)
            self.book = PolicyBook.load(session, tree)
        with engine.connect() as conn:
            self.campaigns = CampaignIndex(active_campaigns(conn, as_of), tree)
        # The home org is only known once the member is read; the widest window of any
        # organization's rules is a safe lower bound for the facts to load.
        rules = [r for org in tree.parents for r in self.book.task_rules(org) if r.enabled]
        self.earliest = earliest_needed(rules, as_of)
        self.run = RuleRun(as_of, self.campaigns, explain=True)

    def explain(self, member_id: str) -> Explanation:
        flt = MemberFilter(self.as_of, member_ids=[member_id], in_scope_only=False)
        with self.engine.connect() as conn:
            found = [
                m
                for batch in stream_members(
                    conn, flt, earliest=self.earliest, campaign_ids=self.campaigns.ids
                )
                for m in batch
            ]
        if not found:
            raise NotFound(f"no member with id {member_id!r}")
        facts = found[0]
        in_scope, reason = scope(facts, self.as_of)
        values = self.book.values(facts.home_org)
        rules = tuple(
            RuleExplanation(
                rule.name,
                tuple(assess(rule, facts, self.run)),
                tuple(v for v in values if v.rule == rule.name),
                rule.strategy,
            )
            for rule in self.book.task_rules(facts.home_org)
        )
        return Explanation(facts, self.as_of, in_scope, reason, rules)


def explain_member(engine: Engine, member_id: str, as_of: date) -> Explanation:
    return Explainer(engine, as_of).explain(member_id)


def render_explanation(exp: Explanation) -> str:
    f = exp.facts
    lines = [
        f"member {f.member_id} ({f.name}), home branch {f.home_org}, "
        f"liaison {f.liaison_id or 'none (unassigned)'}, as of {exp.as_of.isoformat()}",
        f"in scope: {'yes' if exp.in_scope else 'no'} ({exp.scope_reason})",
    ]
    for r in exp.rules:
        lines.append("")
        for a in r.assessments:
            rolling = _trails_as_of(r.strategy) and a.window_start and a.window_end
            if not exp.in_scope:
                verdict = "not due (member out of scope)"
            elif a.listed and rolling:
                verdict = "DUE: " + _rolling_status(a)
            elif a.listed:
                verdict = "DUE" + (f", {_days(a.overdue_days)} overdue" if a.overdue_days else "")
            elif a.applies:
                verdict = "satisfied"
            else:
                verdict = "does not apply"
            window = ""
            if (a.window_start or a.window_end) and not (a.listed and rolling):
                start = a.window_start.isoformat() if a.window_start else "…"
                end = a.window_end.isoformat() if a.window_end else "…"
                window = f" window {start}..{end}, {a.done}/{a.required}"
            lines.append(f"{r.rule}: {verdict}{window}")
            if a.reason:
                lines.append(f"  why: {a.reason}")
            for item in a.evidence:
                lines.append(f"  record: {item}")
        params = ", ".join(f"{v.param}={_fmt(v.value)} ({v.source})" for v in r.policy)
        lines.append(f"  policy: {params}")
    return "\n".join(lines)


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _trails_as_of(strategy: str) -> bool:
    """Whether the strategy's window ends on the as-of day (see `Strategy.trails_as_of`)."""
    found = TASK_STRATEGIES.get(strategy)
    return found is not None and found.trails_as_of


def _rolling_status(a: Assessment) -> str:
    """`every 14 days; last contact 2026-08-16, 108 days ago; none in 2026-11-19..2026-12-02`.

    The rule computes overdue = D − (last contact + interval), so a positive one gives the
    last contact exactly; 0 means none known (or exactly one interval ago, which the
    window's "none in" already says)."""
    assert a.window_start is not None and a.window_end is not None
    interval = (a.window_end - a.window_start).days + 1
    parts = [f"every {_days(interval)}"]
    if a.overdue_days > 0:
        last = a.window_end - timedelta(days=interval + a.overdue_days)
        ago = (a.window_end - last).days
        parts.append(f"last contact {last.isoformat()}, {_days(ago)} ago")
    parts.append(f"none in {a.window_start.isoformat()}..{a.window_end.isoformat()}")
    return "; ".join(parts)


def _fmt(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
