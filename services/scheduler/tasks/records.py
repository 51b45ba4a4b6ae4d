"""Which of a member's records a rule counts, and whether a member is old enough for it:
the two questions several strategies ask alike."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.scheduler.tasks.facts import MemberFacts
from services.scheduler.tasks.periods import age_on, latest_birth_for_age
from services.scheduler.tasks.rules import Assessment


@dataclass(frozen=True, slots=True)
class RecordSelector:
    """Which of a member's records satisfy a rule: a source, and for interactions, kinds
    and places (None: any)."""

    source: str
    kinds: frozenset[str] | None
    places: frozenset[str] | None

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> RecordSelector:
        kinds, places = params.get("kinds"), params.get("places")
        return cls(
            params.get("source", "interactions"),
            None if kinds is None else frozenset(kinds),
            None if places is None else frozenset(places),
        )

    def dates(self, facts: MemberFacts, until: date) -> list[date]:
        """Satisfying record dates on or before `until` (later records are ignored)."""
        if self.source != "interactions":
            return [d for d in getattr(facts, self.source) if d <= until]
        kinds, places = self.kinds, self.places
        return [
            i.on
            for i in facts.interactions
            if i.on <= until
            and (kinds is None or i.kind in kinds)
            and (places is None or i.place in places)
        ]

    def count(self, facts: MemberFacts, start: date, end: date) -> int:
        """How many satisfying records are dated in [start, end] (the hot path of `due`)."""
        if self.source != "interactions":
            return sum(1 for d in getattr(facts, self.source) if start <= d <= end)
        kinds, places = self.kinds, self.places
        if kinds is None and places is None:
            return sum(1 for i in facts.interactions if start <= i.on <= end)
        return sum(
            1
            for i in facts.interactions
            if start <= i.on <= end
            and (kinds is None or i.kind in kinds)
            and (places is None or i.place in places)
        )

    def evidence(self, facts: MemberFacts, start: date, end: date) -> tuple[str, ...]:
        if self.source != "interactions":
            dated = sorted(getattr(facts, self.source))
            return tuple(f"{d.isoformat()} {self.source}" for d in dated if start <= d <= end)
        kinds, places = self.kinds, self.places
        return tuple(
            f"{i.on.isoformat()} {i.kind}" + (f" at {i.place}" if i.place else "")
            for i in sorted(facts.interactions, key=lambda i: i.on)
            if start <= i.on <= end
            and (kinds is None or i.kind in kinds)
            and (places is None or i.place in places)
        )

    def describe(self) -> str:
        if self.source != "interactions":
            return f"{self.source} records"
        what = "/".join(sorted(self.kinds)) if self.kinds else "interaction"
        return what + (f" at {'/'.join(sorted(self.places))}" if self.places else "")


class AgeGate:
    """Whether a member is old enough for a rule on D: born on or before the latest birth
    date of anyone that old on D, worked out once per run rather than an age per member."""

    __slots__ = ("as_of", "born_by", "min_age", "name")

    def __init__(self, name: str, min_age: float, as_of: date) -> None:
        self.name, self.min_age, self.as_of = name, min_age, as_of
        # Ages are whole years: at least 79.5 means at least 80.
        self.born_by = latest_birth_for_age(math.ceil(min_age), as_of)

    @classmethod
    def of(cls, name: str, min_age: Any, as_of: date) -> AgeGate | None:
        """The gate of a rule's `min_age` parameter; None when the rule has no age limit."""
        return None if min_age is None else cls(name, min_age, as_of)

    def refuse(self, facts: MemberFacts, explain: bool) -> Assessment | None:
        """The assessment that the member is out of the rule's reach, or None if within."""
        birth = facts.birth_date
        if birth is None:
            reason = "birth date unknown" if explain else ""
            return Assessment(self.name, False, False, reason=reason)
        if self.born_by is not None and birth <= self.born_by:
            return None
        reason = f"aged {age_on(birth, self.as_of)}, under {self.min_age}" if explain else ""
        return Assessment(self.name, False, False, reason=reason)
