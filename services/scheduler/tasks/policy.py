"""Effective policy: each rule's parameters as an organization sees them, and their source.

Defaults live in the `rules` table; any organization may override any parameter for its
subtree (`policy_overrides`), and the nearest ancestor's value wins.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.scheduler.tasks.policy_values import PolicyError as PolicyError
from services.scheduler.tasks.policy_values import check_value
from services.scheduler.tasks.rules import EffectiveRule
from services.scheduler.tasks.strategies import check_strategy, is_task
from shared.errors import NotFound
from shared.models import Organization, PolicyOverride, Rule
from shared.org_tree import OrgTree

DEFAULT_SOURCE = "default"


@dataclass(frozen=True)
class PolicyValue:
    rule: str
    param: str
    value: Any
    source: str  #: "default" or the code of the organization whose override is in force


class PolicyBook:
    """Computes and caches the effective rules of each organization."""

    def __init__(
        self,
        rules: Iterable[Rule],
        overrides: Iterable[PolicyOverride],
        tree: OrgTree,
    ) -> None:
        """Raises UnknownStrategy for a rule row whose strategy liaison does not know."""
        self.rules = sorted(rules, key=lambda r: (r.priority, r.name))
        for rule in self.rules:
            check_strategy(rule.name, rule.strategy)
        self.tree = tree
        self._overrides: dict[str, dict[tuple[str, str], Any]] = {}
        for o in overrides:
            self._overrides.setdefault(o.org, {})[(o.rule, o.param)] = o.value
        # Keyed by `signature`: a province has tens of thousands of organizations but only
        # a handful of distinct policies, and the organizations sharing one share its
        # objects too (callers key their own per-policy work on them).
        self._effective: dict[tuple[str, ...], tuple[EffectiveRule, ...]] = {}
        self._task_rules: dict[tuple[str, ...], tuple[EffectiveRule, ...]] = {}

    @classmethod
    def load(cls, session: Session, tree: OrgTree | None = None) -> PolicyBook:
        return cls(
            session.scalars(select(Rule)).all(),
            session.scalars(select(PolicyOverride)).all(),
            tree or OrgTree.load(session),
        )

    def signature(self, org: str) -> tuple[str, ...]:
        """The organizations whose overrides reach `org`, nearest first: two organizations
        with the same signature have the same effective policy."""
        return tuple(code for code in self.tree.lineage(org) if code in self._overrides)

    def values(self, org: str) -> list[PolicyValue]:
        """Every parameter of every rule as `org` sees it, with where the value comes from."""
        return self._values(self.signature(org))

    def _values(self, signature: tuple[str, ...]) -> list[PolicyValue]:
        out = []
        for rule in self.rules:
            params = {"enabled": rule.enabled, **rule.params}
            for param, default in params.items():
                value, source = default, DEFAULT_SOURCE
                for code in signature:
                    found = self._overrides[code]
                    if (rule.name, param) in found:
                        value, source = found[(rule.name, param)], code
                        break
                out.append(PolicyValue(rule.name, param, value, source))
        return out

    def task_rules(self, org: str) -> tuple[EffectiveRule, ...]:
        """The rules that make tasks (the rule table also holds messaging policy rows,
        such as digest schedules, whose strategy is not a task strategy); the same tuple
        for every organization of the same policy."""
        signature = self.signature(org)
        found = self._task_rules.get(signature)
        if found is None:
            rules = self._effective_of(signature)
            found = self._task_rules[signature] = tuple(r for r in rules if is_task(r.strategy))
        return found

    def effective(self, org: str) -> tuple[EffectiveRule, ...]:
        return self._effective_of(self.signature(org))

    def _effective_of(self, signature: tuple[str, ...]) -> tuple[EffectiveRule, ...]:
        cached = self._effective.get(signature)
        if cached is not None:
            return cached
        by_rule: dict[str, dict[str, Any]] = {}
        for v in self._values(signature):
            by_rule.setdefault(v.rule, {})[v.param] = v.value
        result = tuple(
            EffectiveRule(
                name=r.name,
                strategy=r.strategy,
                enabled=bool(by_rule[r.name].pop("enabled")),
                params=by_rule[r.name],
                priority=r.priority,
            )
            for r in self.rules
        )
        self._effective[signature] = result
        return result


def parse_assignment(text: str) -> tuple[str, str, Any]:
    """`RULE.PARAM=VALUE` → (rule, param, value); VALUE is JSON, or a bare word as a string."""
    target, sep, raw = text.partition("=")
    rule, dot, param = target.strip().partition(".")
    if not sep or not dot or not rule or not param:
        raise PolicyError(f"expected RULE.PARAM=VALUE, got {text!r}")
    raw = raw.strip()
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return rule, param, value


def _known_param(session: Session, org: str, rule_name: str, param: str) -> Rule:
    if session.get(Organization, org) is None:
        raise NotFound(f"no organization with code {org!r}")
    rule = session.get(Rule, rule_name)
    if rule is None:
        known = ", ".join(sorted(session.scalars(select(Rule.name))))
        raise PolicyError(f"no rule named {rule_name!r}; rules: {known}")
    if param != "enabled" and param not in rule.params:
        known = ", ".join(["enabled", *sorted(rule.params)])
        raise PolicyError(f"rule {rule_name} has no parameter {param!r}; parameters: {known}")
    return rule


def set_override(session: Session, org: str, rule_name: str, param: str, value: Any) -> None:
    """Record `org`'s own value for `rule_name.param`, checked by what the parameter means
    (`policy_values.py`)."""
    rule = _known_param(session, org, rule_name, param)
    default = rule.enabled if param == "enabled" else rule.params[param]
    check_value(rule_name, param, value, default)
    values = {"org": org, "rule": rule_name, "param": param, "value": value}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(PolicyOverride).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["org", "rule", "param"], set_={"value": value}
    )
    session.execute(stmt)


def unset_override(session: Session, org: str, rule_name: str, param: str) -> None:
    """Remove `org`'s own value for `rule_name.param`, so that its nearest ancestor's (or
    the default) applies again; an error if `org` has none to remove."""
    _known_param(session, org, rule_name, param)
    found = session.scalars(
        select(PolicyOverride).where(
            PolicyOverride.org == org,
            PolicyOverride.rule == rule_name,
            PolicyOverride.param == param,
        )
    ).first()
    if found is None:
        raise PolicyError(f"{org} has no value of its own for {rule_name}.{param}")
    session.delete(found)
